// history's change points: false alarms and detection over series resampled
// from the recorded clean lab runs (fixtures/recorded, 40 wrlock-iperf runs),
// and the time and memory of `history` over a year of nightly runs.
//  - false alarms: 40-run series drawn with replacement from each recorded
//    series (no change by construction); any change point is a false one;
//  - detection: the same with a step at a random run 12..28, seen night by
//    night: found when a change point within 2 runs of the step appears in
//    the history as it stood 1..10 runs after it;
//  - scale: 365 runs × 1000 series written as a store, then `history` over it
//    in a child process (its own peak memory).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { changePoints, DEFAULT_CHANGE_POINT_PARAMETERS } from '../harness/history/e-divisive.ts';
import { addToHistory } from '../harness/history/store.ts';
import { readResultsFile } from '../harness/report/read-results.ts';
import type { RunResult, TestResult } from '../harness/report/results.ts';
import { collectSeries } from '../harness/verdict/compare.ts';
import { seededRandom } from '../harness/verdict/statistics.ts';
import { GATE_SAMPLES } from './gate.ts';

const LENGTH = 40;
const SERIES_PER_METRIC = 200;
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export async function benchHistory(): Promise<void> {
  const recorded = collectSeries(readResultsFile(GATE_SAMPLES).tests);
  const random = seededRandom(20261129);
  const draw = (xs: number[]) => Array.from({ length: LENGTH }, () => xs[Math.floor(random() * xs.length)]);
  const p = DEFAULT_CHANGE_POINT_PARAMETERS;
  console.log(`method: E-Divisive means, Mann–Whitney p < ${p.pValue}, change >= ${pct(p.minEffect)}, >= ${p.minSegment} runs a side; ${LENGTH}-run series resampled from ${GATE_SAMPLES.replace(/.*fixtures/, 'fixtures')}`);

  const groups = [
    { name: 'all but p99 latency', ids: [...recorded.keys()].filter((id) => !id.includes('p99')) },
    { name: 'p99 latency (CV 127%)', ids: [...recorded.keys()].filter((id) => id.includes('p99')) },
  ];
  for (const g of groups) {
    let falseSeries = 0;
    let total = 0;
    const started = Date.now();
    for (const id of g.ids) {
      for (let i = 0; i < SERIES_PER_METRIC; i++) {
        total++;
        if (changePoints(draw(recorded.get(id)!.values)).length) falseSeries++;
      }
    }
    console.log(`${g.name}: no change: ${(100 * falseSeries / total).toFixed(2)} false change points per 100 series (${falseSeries} of ${total}; ${((Date.now() - started) / total).toFixed(2)} ms a series)`);
    for (const step of [0.05, 0.1, 0.2]) {
      const foundAfter: number[] = [];
      let tried = 0;
      for (const id of g.ids) {
        for (let i = 0; i < SERIES_PER_METRIC; i++) {
          tried++;
          const at = 12 + Math.floor(random() * 17);
          const xs = draw(recorded.get(id)!.values).map((x, j) => (j >= at ? x * (1 - step) : x));
          for (let after = 1; after <= 10 && at + after <= LENGTH; after++) {
            if (changePoints(xs.slice(0, at + after)).some((c) => Math.abs(c.index - at) <= 2)) {
              foundAfter.push(after);
              break;
            }
          }
        }
      }
      const within = (n: number) => foundAfter.filter((a) => a <= n).length / tried;
      const sorted = [...foundAfter].sort((a, b) => a - b);
      console.log(`  ${pct(step)} step: found within 5 runs ${pct(within(5))}, within 10 runs ${pct(within(10))}; median runs after the step when found: ${sorted.length ? sorted[Math.floor(sorted.length / 2)] : '-'}`);
    }
  }
  benchScale();
}

/** 365 nightly runs of 100 tests × 10 metrics (1000 series), then `history` over the store in a child process. */
function benchScale(): void {
  const dir = mkdtempSync(join(tmpdir(), 'bsm-history-bench-'));
  try {
    const random = seededRandom(365);
    const started = Date.now();
    for (let night = 0; night < 365; night++) {
      const at = new Date(Date.UTC(2026, 0, 1, 2) + night * 86_400_000).toISOString();
      const tests: TestResult[] = Array.from({ length: 100 }, (_, i) => ({
        id: `suite${i % 10}/lab/guest${Math.floor(i / 10)}`, suite: `suite${i % 10}`, pool: 'lab', host: 'lab', guest: `guest${Math.floor(i / 10)}`, repeat: 0,
        status: random() < 0.01 ? 'failed' : 'passed', attempt: 0, attempts: [], startedAt: at, durationMs: 60_000,
        checks: [{ name: 'boots', status: 'passed', durationMs: 0 }], attachments: [], timeline: { samples: [], events: [] }, reproduce: 'x',
        metrics: Array.from({ length: 10 }, (_, k) => ({ metric: 'throughput' as const, value: 500 * (1 + 0.08 * (random() - 0.5)) * (night > 300 && i === 7 ? 0.8 : 1), unit: 'Mbit/s', better: 'higher' as const, dims: { dose: `d${k}` } })),
      }));
      const run: RunResult = { version: 1, runId: `n${night}`, config: 'bench', startedAt: at, finishedAt: at, durationMs: 3_600_000, hosts: [], tests, exitCode: 0 };
      addToHistory(dir, run);
    }
    console.log(`scale: wrote 365 runs × 1000 series in ${((Date.now() - started) / 1000).toFixed(1)} s (${execFileSync('du', ['-sh', dir], { encoding: 'utf8' }).split('\t')[0]})`);
    const child = `
      const { historyCommand } = await import(${JSON.stringify(new URL('../harness/cli/history.ts', import.meta.url).pathname)});
      const t0 = performance.now();
      const code = await historyCommand.run({ output: ${JSON.stringify(join(dir, 'out'))} }, [${JSON.stringify(dir)}]);
      const h = JSON.parse((await import('node:fs')).readFileSync(${JSON.stringify(join(dir, 'out', 'history.json'))}, 'utf8'));
      const changed = h.series.filter((s) => s.changePoints.length).map((s) => s.id);
      process.stderr.write(JSON.stringify({ code, ms: performance.now() - t0, maxRssKb: process.resourceUsage().maxRSS, changed }) + '\\n');`;
    const t0 = Date.now();
    const c = spawnSync('node', ['--import', 'tsx', '--input-type=module', '-e', child], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
    if (c.status !== 0 && c.status !== 1) throw new Error(`history over the store exited ${c.status}: ${c.stderr}`);
    const r = JSON.parse(c.stderr.trim().split('\n').at(-1)!);
    console.log(`scale: history over 365 runs × 1000 series: ${(r.ms / 1000).toFixed(1)} s in the command, ${((Date.now() - t0) / 1000).toFixed(1)} s with Node's start, peak memory ${(r.maxRssKb / 1024).toFixed(0)} MiB, exit ${r.code}; change points in ${r.changed.length} series (${r.changed.filter((id: string) => id.includes('guest0') && id.startsWith('suite7')).length} of the 10 with a 20% step at night 301)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
