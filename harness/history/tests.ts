// Tests over time: per test (its repeats together) and run, one outcome;
// how often it flips between passing and not, how often it passed only on a
// retry, the first failing run of its current streak and the known issues
// it carried. Ranked unstable first: a test that fails one night in ten is
// the one nobody notices.
import type { TestResult, TestStatus } from '../report/results.ts';
import { runRef, type RunRef } from './series.ts';
import type { HistoryRun } from './store.ts';

export interface TestHistory {
  /** The test id without its repeat number. */
  test: string;
  /** One outcome per run, null where the run did not have the test. */
  outcomes: Array<TestStatus | null>;
  runs: number;
  failed: number;
  flaky: number;
  /** Changes between passing and not, over consecutive runs that had the test. */
  flips: number;
  flipRate: number;
  /** The first run of the current streak of failures, if the latest outcome is one. */
  failingSince?: RunRef;
  known: string[];
  /** flips and flaky runs over the runs that had the test: 0 steady, 1 unstable every night. */
  instability: number;
}

/** A run's outcome for a test from its repeats: failed or error if any was, flaky if any was, else passed, skipped if all were. */
function outcome(tests: TestResult[]): TestStatus {
  const has = (s: TestStatus) => tests.some((t) => t.status === s);
  if (has('failed')) return 'failed';
  if (has('error')) return 'error';
  if (has('flaky')) return 'flaky';
  return tests.every((t) => t.status === 'skipped') ? 'skipped' : 'passed';
}

const bad = (s: TestStatus) => s === 'failed' || s === 'error';

export function testHistories(runs: readonly HistoryRun[]): TestHistory[] {
  const ids = new Map<string, Array<TestResult[] | undefined>>();
  runs.forEach((h, i) => {
    for (const t of h.run.tests) {
      const id = t.id.replace(/#\d+$/, '');
      const row = ids.get(id) ?? new Array(runs.length).fill(undefined);
      (row[i] ??= []).push(t);
      ids.set(id, row);
    }
  });
  const out: TestHistory[] = [];
  for (const [test, row] of ids) {
    const outcomes = row.map((ts) => (ts ? outcome(ts) : null));
    const seen = outcomes.map((o, run) => ({ o, run })).filter((x): x is { o: TestStatus; run: number } => x.o !== null && x.o !== 'skipped');
    let flips = 0;
    for (let i = 1; i < seen.length; i++) if (bad(seen[i].o) !== bad(seen[i - 1].o)) flips++;
    let streak = seen.length;
    while (streak > 0 && bad(seen[streak - 1].o)) streak--;
    const failed = seen.filter((x) => bad(x.o)).length;
    const flaky = seen.filter((x) => x.o === 'flaky').length;
    const known = [...new Set(row.flatMap((ts) => (ts ?? []).flatMap((t) => t.known?.map((k) => k.id) ?? [])))];
    out.push({
      test, outcomes, runs: seen.length, failed, flaky, flips,
      flipRate: seen.length > 1 ? flips / (seen.length - 1) : 0,
      ...(streak < seen.length ? { failingSince: runRef(runs[seen[streak].run]) } : {}),
      known,
      instability: seen.length ? (flips + flaky) / seen.length : 0,
    });
  }
  // Unstable first; then failing more often; then by name.
  return out.sort((a, b) => b.instability - a.instability || b.failed / Math.max(1, b.runs) - a.failed / Math.max(1, a.runs) || a.test.localeCompare(b.test));
}
