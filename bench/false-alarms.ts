// How often each check of the four stress suites fails a clean build: every
// failure on a clean lab is a false alarm. Counted over recorded clean runs
// (fixtures/recorded) and, with BENCH_CLEAN_RUNS=N, N fresh runs of each
// suite on a clean lab (wrlock-iperf 3 N: it is the one that measures).
//
// The recovery checks are judged again from each test's own data, before
// (the rule as it stood: one interval at 80% of the unstressed mean within
// 5 s) and after (today's: verdict/recovery.ts at the lab's threshold); the
// recorded runs that kept only phase means are judged on those (after: the
// recovery mean at the level; before: the check as it was recorded). Every
// other check counts as it was recorded.
//   npm run bench -- false-alarms
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BUILTIN_CONFIG } from '../harness/config/defaults.ts';
import { validate } from '../harness/config/load.ts';
import { readResultsFile } from '../harness/report/read-results.ts';
import type { TestResult } from '../harness/report/results.ts';
import { judgeRecovery } from '../harness/verdict/recovery.ts';
import { phaseIntervals } from '../harness/workload/iperf3.ts';
import { parseDuration } from '../harness/duration.ts';

const CLI = resolve(import.meta.dirname, '../bin/bhyve-smoke.mjs');
const RECORDED = ['lab-wrlock-iperf.results.json', 'lab-wrlock-iperf-night-clean.results.json', 'lab-stress-clean.results.json']
  .map((f) => resolve(import.meta.dirname, '../fixtures/recorded', f));
const RECOVERY_CHECKS = new Set(['throughput recovers after the hammer stops', 'throughput recovers after the last step']);
const STRESS_SUITES = ['wrlock-iperf', 'wrlock-dose', 'wrlock-reboot', 'update-under-wrlock'];

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The recovery check as it stood before: the first interval at 80% of the unstressed mean, within 5 intervals. */
const before = (u: number[], r: number[]) => {
  const back = r.findIndex((v) => v >= 0.8 * mean(u));
  return back >= 0 && back < 5;
};

interface Count { runs: number; failed: number; before?: number; after?: number; approximate?: number }

/** Fresh clean runs of each stress suite on the lab: N each, 3 N of wrlock-iperf. */
async function freshRuns(n: number): Promise<TestResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bsm-bench-fa-'));
  try {
    const tests: TestResult[] = [];
    for (const suite of STRESS_SUITES) {
      const repeats = suite === 'wrlock-iperf' ? 3 * n : n;
      process.stdout.write(`running ${suite} ${repeats} times on a clean lab …\n`);
      await execa('node', [CLI, 'run', suite, '--repeat-each', String(repeats), '--reporter', 'json', '--output', join(dir, suite)], { cwd: dir, env: { BHYVE_SMOKE_STATE: join(dir, 'state'), CI: '1' }, reject: false });
      tests.push(...readResultsFile(join(dir, suite, 'results.json')).tests);
    }
    return tests;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchFalseAlarms(): Promise<void> {
  const t = validate(BUILTIN_CONFIG, 'built-in').thresholds;
  const level = t.recovery;
  const withinMs = parseDuration(t.recoveryWithin, 'recoveryWithin');
  const fresh = Number(process.env.BENCH_CLEAN_RUNS ?? 0);
  const tests = [...RECORDED.flatMap((f) => readResultsFile(f).tests), ...(fresh > 0 ? await freshRuns(fresh) : [])]
    .filter((x) => STRESS_SUITES.includes(x.suite) && x.status !== 'skipped' && x.status !== 'error');
  const counts = new Map<string, Count>();
  for (const test of tests) {
    for (const c of test.checks) {
      const key = `${test.suite} · ${c.name.replace(/\d+ of \d+/, 'N of M').replace(/after reboot \d+/, 'after reboot N')}`;
      const k = counts.get(key) ?? { runs: 0, failed: 0 };
      k.runs++;
      if (c.status === 'failed') k.failed++;
      if (RECOVERY_CHECKS.has(c.name)) {
        const u = phaseIntervals(test.timeline, 'unstressed');
        const r = phaseIntervals(test.timeline, 'recovery');
        if (u.length && r.length) {
          k.before = (k.before ?? 0) + (before(u, r) ? 0 : 1);
          k.after = (k.after ?? 0) + (judgeRecovery(u, r, { level, withinMs }).ok ? 0 : 1);
        } else {
          // Phase means only: the time to recover cannot be told; the level can.
          const m = (dose: string) => test.metrics?.find((x) => x.metric === 'throughput' && x.dims.dose === dose)?.value;
          const [um, rm] = [m('unstressed'), m('recovery')];
          if (um === undefined || rm === undefined) throw new Error(`${test.id}: neither intervals nor phase means to judge recovery from`);
          k.before = (k.before ?? 0) + (c.status === 'failed' ? 1 : 0);
          k.after = (k.after ?? 0) + (rm >= level * um ? 0 : 1);
          k.approximate = (k.approximate ?? 0) + 1;
        }
      }
      counts.set(key, k);
    }
  }
  const rate = (n: number, of: number) => `${n}/${of} (${((100 * n) / of).toFixed(1)}%)`;
  process.stdout.write(`clean runs: ${tests.length} tests (${RECORDED.length} recorded files${fresh ? ` and ${fresh} fresh runs a suite, wrlock-iperf ${3 * fresh}` : ''}); recovery judged at ${Math.round(level * 100)}% within ${t.recoveryWithin}\n\n`);
  process.stdout.write(`${'check'.padEnd(86)} ${'false alarms'.padEnd(18)} recovery before → after\n`);
  for (const [key, k] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
    const judged = k.before !== undefined ? `${rate(k.before, k.runs)} → ${rate(k.after!, k.runs)}${k.approximate ? ` (${k.approximate} from phase means)` : ''}` : '';
    process.stdout.write(`${key.padEnd(86)} ${rate(k.failed, k.runs).padEnd(18)} ${judged}\n`);
  }
}
