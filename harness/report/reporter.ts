// Reporters consume the run as it happens; they never steer it. A reporter
// that throws is reported and ignored, so it cannot end a run.
import type { RunResult, TestResult } from './results.ts';

/** A planned test as reporters see it (run/plan.ts's TestRef is one). */
export interface TestRef {
  id: string;
}

export interface Reporter {
  onBegin?(runId: string, tests: TestRef[]): void;
  onTestBegin?(test: TestRef): void;
  onProgress?(test: TestRef, line: string): void;
  onTestEnd?(result: TestResult): void;
  /** Something about the run as a whole (a host quarantined). */
  onNote?(line: string): void;
  onEnd?(run: RunResult): void;
}

/** Fans each hook out to every reporter, isolating their failures. */
export function multiplex(reporters: Reporter[]): Required<Reporter> {
  const call = <K extends keyof Reporter>(hook: K, ...args: Parameters<Required<Reporter>[K]>) => {
    for (const r of reporters) {
      try {
        (r[hook] as ((...a: unknown[]) => void) | undefined)?.apply(r, args);
      } catch (e) {
        process.stderr.write(`bhyve-smoke: reporter failed in ${hook}: ${(e as Error).message}\n`);
      }
    }
  };
  return {
    onBegin: (...a) => call('onBegin', ...a),
    onTestBegin: (...a) => call('onTestBegin', ...a),
    onProgress: (...a) => call('onProgress', ...a),
    onTestEnd: (...a) => call('onTestEnd', ...a),
    onNote: (...a) => call('onNote', ...a),
    onEnd: (...a) => call('onEnd', ...a),
  };
}
