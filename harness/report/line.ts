// The line reporter: one plain line per finished test (CI logs), and on a
// terminal a live line showing what each running test is doing.
import { formatDuration } from '../duration.ts';
import type { Reporter, TestRef } from './reporter.ts';
import { failingSkipsAndFlakes, summarize, wedgedNote, type RunResult, type TestResult } from './results.ts';

const MARK: Record<TestResult['status'], string> = { passed: 'ok  ', flaky: 'FLKY', failed: 'FAIL', error: 'ERR ', skipped: 'skip' };

export class LineReporter implements Reporter {
  private readonly live: boolean;
  private current = new Map<string, string>();

  constructor(private readonly out: NodeJS.WriteStream = process.stdout) {
    this.live = Boolean(out.isTTY) && !process.env.CI;
  }

  private print(line: string): void {
    if (this.live) this.out.write('\r\x1b[K');
    this.out.write(`${line}\n`);
    this.redraw();
  }

  private redraw(): void {
    if (!this.live || this.current.size === 0) return;
    const [id, step] = [...this.current.entries()].at(-1)!;
    const more = this.current.size > 1 ? ` (+${this.current.size - 1} running)` : '';
    this.out.write(`\r\x1b[K… ${id}: ${step}${more}`.slice(0, (this.out.columns ?? 120) - 1));
  }

  onBegin(runId: string, tests: TestRef[]): void {
    this.print(`bhyve-smoke run ${runId}: ${tests.length} test${tests.length === 1 ? '' : 's'}`);
  }

  onTestBegin(test: TestRef): void {
    this.current.set(test.id, 'starting');
    if (this.live) this.redraw();
    else this.print(`start ${test.id}`);
  }

  onProgress(test: TestRef, line: string): void {
    this.current.set(test.id, line);
    this.redraw();
  }

  onTestEnd(r: TestResult): void {
    this.current.delete(r.id);
    const why = r.status === 'skipped' ? ` — ${r.skipReason}` : r.error ? ` — ${r.error.message.split('\n')[0]}` : '';
    const failed = r.checks.filter((c) => c.status === 'failed').map((c) => c.name);
    const checks = failed.length ? ` — failed: ${failed.join('; ')}` : '';
    this.print(`${MARK[r.status]} ${r.id} (${formatDuration(r.durationMs)})${checks}${why}`);
    for (const k of r.known ?? []) this.print(`     known: ${k.id}${k.summary ? ` (${k.summary})` : ''} — matched in ${k.where}: ${k.line}`);
    if (r.status === 'failed' || r.status === 'error') this.print(`     reproduce: ${r.reproduce}`);
    if (r.kept) this.print(`     kept: ${r.kept}`);
    if (r.stuckFrames?.length) this.print(`     stuck: ${r.stuckFrames.map((s) => `${s.thread} in ${s.frame}`).join('; ')}`);
    if (r.wedged) this.print(`     host ${r.host} ${wedgedNote(r.wedged)}`);
  }

  onNote(line: string): void {
    this.print(`note ${line}`);
  }

  onEnd(run: RunResult): void {
    const s = summarize(run.tests);
    const parts = [`${s.passed} passed`, `${s.failed} failed`, `${s.error} errors`, `${s.skipped} skipped`];
    if (s.flaky) parts.push(`${s.flaky} flaky`);
    this.print(`${run.interrupted ? `interrupted (${run.interrupted}); ` : ''}${run.stopped ? `stopped (${run.stopped.reason}; ${run.stopped.notStarted} planned tests not started); ` : ''}${parts.join(', ')} in ${formatDuration(run.durationMs)}`);
    for (const t of failingSkipsAndFlakes(run.tests, run.failOn)) {
      this.print(t.status === 'skipped' ? `--fail-on-skip: ${t.id} was skipped — ${t.skipReason}` : `--fail-on-flaky-tests: ${t.id} passed only on attempt ${(t.attempt ?? 0) + 1}`);
    }
  }
}
