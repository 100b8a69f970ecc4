// Checks: one assertion each, with the measured value and the threshold, as
// the engineer would write them in the test notes. A failed check is recorded
// and the test goes on where it can; the test fails when any check failed.
import { CheckFailure, InfraError, messageOf } from '../errors.ts';
import { formatDuration } from '../duration.ts';

export type CheckStatus = 'passed' | 'failed' | 'error' | 'skipped';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  measured?: string;
  threshold?: string;
  message?: string;
  /** The error class behind a failed or errored check (CheckFailure, InfraError, Aborted, ...). */
  type?: string;
  /** A liveness check (a hang, a heartbeat gap, a vCPU stall): the gate fails on any of these in a candidate. */
  kind?: 'liveness';
  durationMs: number;
}

export class Checks {
  readonly results: CheckResult[] = [];

  /**
   * `aborted` tells a step cut short by an interrupt from one that failed on its
   * own; `onStep` hears each step as it starts (the live progress line).
   */
  constructor(
    private readonly aborted?: AbortSignal,
    private readonly onStep: (name: string) => void = () => {},
  ) {}

  private record(r: CheckResult): boolean {
    this.results.push(r);
    return r.status === 'passed';
  }

  /** A truth with what was seen and what was wanted. */
  that(name: string, ok: boolean, detail: { measured?: string; threshold?: string; message?: string; type?: string; kind?: 'liveness' } = {}): boolean {
    return this.record({ name, status: ok ? 'passed' : 'failed', durationMs: 0, ...detail, ...(ok ? {} : { message: detail.message ?? `${name}: measured ${detail.measured ?? '?'}, wanted ${detail.threshold ?? '?'}` }) });
  }

  /** Text that must match a pattern. */
  match(name: string, text: string, pattern: RegExp): boolean {
    const measured = text.trim().slice(0, 200);
    return this.that(name, pattern.test(text), { measured, threshold: `matches ${pattern}` });
  }

  /**
   * A step of the test that must succeed (and, with a threshold, in time). A
   * step that fails ends the test: there is nothing sensible to do after a
   * guest that never booted.
   */
  async step<T>(name: string, fn: () => Promise<T>, thresholdMs?: number): Promise<T> {
    const started = Date.now();
    this.onStep(name);
    try {
      const value = await fn();
      const ms = Date.now() - started;
      const late = thresholdMs !== undefined && ms > thresholdMs;
      this.record({
        name,
        status: late ? 'failed' : 'passed',
        durationMs: ms,
        measured: formatDuration(ms),
        ...(thresholdMs ? { threshold: `<= ${formatDuration(thresholdMs)}` } : {}),
        ...(late ? { message: `${name}: took ${formatDuration(ms)}, threshold ${formatDuration(thresholdMs)}` } : {}),
      });
      return value;
    } catch (e) {
      const ms = Date.now() - started;
      if (this.aborted?.aborted) {
        this.record({ name, status: 'error', durationMs: ms, type: 'Aborted', message: messageOf(this.aborted.reason) });
        throw this.aborted.reason;
      }
      const status: CheckStatus = e instanceof InfraError && !(thresholdMs && ms >= thresholdMs) ? 'error' : 'failed';
      const type = status === 'error' ? 'InfraError' : e instanceof CheckFailure ? e.name : 'CheckFailure';
      this.record({ name, status, type, durationMs: ms, message: messageOf(e), measured: formatDuration(ms), ...(thresholdMs ? { threshold: `<= ${formatDuration(thresholdMs)}` } : {}) });
      throw e instanceof CheckFailure || status === 'error' ? e : new CheckFailure(`${name}: ${messageOf(e)}`, { cause: e });
    }
  }

  skip(name: string, reason: string): void {
    this.record({ name, status: 'skipped', durationMs: 0, message: reason });
  }

  get failed(): boolean {
    return this.results.some((r) => r.status === 'failed');
  }
}
