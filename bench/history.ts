// history's change points, as the nightly job meets them: false alerts and
// the detection of a step over series resampled from the recorded clean lab
// runs (fixtures/recorded, 40 wrlock-iperf runs), before (E-Divisive alone)
// and after (with the fresh check of the newest runs), beside an oracle that
// knows where the step is; and the time and memory of `history` over a year
// of nightly runs.
//  - the nightly: `history` runs every night over the history as it stands;
//    that night is red when the latest change point of the series is a
//    regression from one of the last 5 runs (--recent 5: recentRegressions);
//  - false alerts: 40-night series drawn with replacement from each recorded
//    series (no change by construction), checked on nights 1..40; any red
//    night is a false alert; counted per 100 series (series with one, and red
//    nights), and again on continuous noise (no ties: the exact test's worst
//    case; the resampled series have ties, where it is conservative);
//  - fresh steps: 35 clean nights, then a step to the metric's worse side;
//    detected on night d after it when that night is red from a change point
//    within 2 runs of the step; "by night d" is red on some night up to d.
//    The oracle: the last d nights against the 35 before, one-sided
//    Mann–Whitney (normal approximation) p < 0.001, on night d only;
//  - the past: a step at a random run 12..28 (either direction, as the first
//    bench had it), found when a change point within 2 runs of it is in the
//    history 1..10 runs after it, red or not; and E-Divisive's false change
//    points over whole 40-run series;
//  - scale: 365 runs × 1000 series written as a store, then `history` over it
//    in a child process (its own peak memory).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { changePoints, DEFAULT_CHANGE_POINT_PARAMETERS, rankTest } from '../harness/history/e-divisive.ts';
import { DEFAULT_FRESH_PARAMETERS } from '../harness/history/fresh.ts';
import { seriesChangePoints } from '../harness/history/series.ts';
import { addToHistory } from '../harness/history/store.ts';
import { readResultsFile } from '../harness/report/read-results.ts';
import type { RunResult, TestResult } from '../harness/report/results.ts';
import { collectSeries } from '../harness/verdict/compare.ts';
import type { Better } from '../harness/verdict/metrics.ts';
import { seededRandom } from '../harness/verdict/statistics.ts';
import { GATE_SAMPLES } from './gate.ts';

const LENGTH = 40;
const SERIES_PER_METRIC = 200;
/** Series per metric for the false alerts: rare events, so more of them. */
const NULL_SERIES_PER_METRIC = 1000;
const RECENT = 5;
const STEP_AT = 35;
const NIGHTS = [1, 2, 3, 4, 5, 6, 7, 10];
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

interface Night {
  /** Red that night, and from which change point: E-Divisive's alone, and with the fresh check. */
  before?: number;
  after?: number;
}

/** The nightly's verdict on night n (the first n runs) of a series: the index of the red change point, per method. */
function nightly(xs: readonly number[], better: Better, n: number): Night {
  const cps = seriesChangePoints(xs.slice(0, n), better);
  const past = cps.filter((c) => !('fresh' in c));
  const red = (c: (typeof cps)[number] | undefined) => (c && c.regression && c.index >= n - RECENT ? c.index : undefined);
  return { before: red(past.at(-1)), after: red(cps.at(-1)) };
}

export async function benchHistory(): Promise<void> {
  const recorded = collectSeries(readResultsFile(GATE_SAMPLES).tests);
  const random = seededRandom(20261129);
  const draw = (xs: number[], length = LENGTH) => Array.from({ length }, () => xs[Math.floor(random() * xs.length)]);
  const p = DEFAULT_CHANGE_POINT_PARAMETERS;
  const f = DEFAULT_FRESH_PARAMETERS;
  console.log(`before: E-Divisive means, Mann–Whitney p < ${p.pValue}, change >= ${pct(p.minEffect)}, >= ${p.minSegment} runs a side`);
  console.log(`after: and the fresh check, the newest 1..${f.maxRuns} runs against >= ${f.minReference} before them since the latest change point, one-sided exact Mann–Whitney p < ${f.pValue}`);
  console.log(`the nightly: red when the latest change point is a regression from one of the last ${RECENT} runs; series resampled from ${GATE_SAMPLES.replace(/.*fixtures/, 'fixtures')}`);

  const groups = [
    { name: 'all but p99 latency', ids: [...recorded.keys()].filter((id) => !id.includes('p99')) },
    { name: 'p99 latency (CV 127%)', ids: [...recorded.keys()].filter((id) => id.includes('p99')) },
  ];
  for (const g of groups) {
    console.log(`-- ${g.name} (${g.ids.length} metric${g.ids.length === 1 ? '' : 's'})`);
    const started = Date.now();
    // False alerts: every night of a 40-night history without a step.
    const falseAlerts = (make: (id: string) => number[]) => {
      const count = { series: 0, before: { series: 0, nights: 0 }, after: { series: 0, nights: 0 }, oracle: 0 };
      for (const id of g.ids) {
        const better = recorded.get(id)!.better;
        for (let i = 0; i < NULL_SERIES_PER_METRIC; i++) {
          count.series++;
          const xs = make(id);
          const nights = Array.from({ length: LENGTH }, (_, n) => nightly(xs, better, n + 1));
          for (const m of ['before', 'after'] as const) {
            const red = nights.filter((x) => x[m] !== undefined).length;
            count[m].nights += red;
            if (red) count[m].series++;
          }
          const o = rankTest(xs.slice(0, STEP_AT), xs.slice(STEP_AT, STEP_AT + 5));
          if (o.p / 2 < 0.001 && (better === 'higher' ? o.change < 0 : o.change > 0)) count.oracle++;
        }
      }
      const per100 = (x: number) => (100 * x / count.series).toFixed(2);
      return { ...count, per100 };
    };
    const resampled = falseAlerts((id) => draw(recorded.get(id)!.values));
    const r = resampled.per100;
    console.log(`false alerts per 100 series over ${LENGTH} nights (${resampled.series} series, each checked every night): before ${r(resampled.before.series)} (${r(resampled.before.nights)} red nights), after ${r(resampled.after.series)} (${r(resampled.after.nights)} red nights); the oracle, one test a series: ${r(resampled.oracle)}`);
    if (g.ids.length > 1) {
      const continuous = falseAlerts(() => Array.from({ length: LENGTH }, () => 500 * (1 + 0.3 * (random() - 0.5))));
      const c = continuous.per100;
      console.log(`  the same on continuous noise, no ties (${continuous.series} series): before ${c(continuous.before.series)} (${c(continuous.before.nights)} red nights), after ${c(continuous.after.series)} (${c(continuous.after.nights)} red nights)`);
    }
    // Fresh steps: 35 clean nights, then a step to the worse side, the nightly run every night after it.
    console.log(`a step to the worse side after night ${STEP_AT}: red from a change point within 2 runs of it, by night d after it (oracle: at night d)`);
    console.log(`  ${'step'.padEnd(5)} ${'method'.padEnd(7)} ${NIGHTS.map((d) => `d=${d}`.padStart(6)).join(' ')}   found on night d=10, red or not`);
    for (const step of [0.1, 0.15, 0.2]) {
      const first = { before: [] as number[], after: [] as number[], found: { before: 0, after: 0 } };
      const oracle = new Map(NIGHTS.map((d) => [d, 0]));
      let tried = 0;
      for (const id of g.ids) {
        const better = recorded.get(id)!.better;
        for (let i = 0; i < SERIES_PER_METRIC; i++) {
          tried++;
          const xs = draw(recorded.get(id)!.values, STEP_AT + NIGHTS.at(-1)!).map((x, j) => (j >= STEP_AT ? x * (better === 'higher' ? 1 - step : 1 + step) : x));
          const firstRed = { before: Infinity, after: Infinity };
          for (let d = 1; d <= NIGHTS.at(-1)!; d++) {
            const night = nightly(xs, better, STEP_AT + d);
            for (const m of ['before', 'after'] as const) {
              const at = night[m];
              if (at !== undefined && Math.abs(at - STEP_AT) <= 2) firstRed[m] = Math.min(firstRed[m], d);
            }
          }
          first.before.push(firstRed.before);
          first.after.push(firstRed.after);
          const cps = seriesChangePoints(xs, better);
          if (cps.some((c) => !('fresh' in c) && c.regression && Math.abs(c.index - STEP_AT) <= 2)) first.found.before++;
          if (cps.some((c) => c.regression && Math.abs(c.index - STEP_AT) <= 2)) first.found.after++;
          for (const d of NIGHTS) {
            const o = rankTest(xs.slice(0, STEP_AT), xs.slice(STEP_AT, STEP_AT + d));
            if (o.p / 2 < 0.001 && (better === 'higher' ? o.change < 0 : o.change > 0)) oracle.set(d, oracle.get(d)! + 1);
          }
        }
      }
      const by = (xs: number[], d: number) => xs.filter((x) => x <= d).length / tried;
      const row = (name: string, cells: number[], tail = '') => console.log(`  ${pct(step).padEnd(5)} ${name.padEnd(7)} ${cells.map((x) => pct(x).padStart(6)).join(' ')}${tail}`);
      row('before', NIGHTS.map((d) => by(first.before, d)), `   ${pct(first.found.before / tried)}`);
      row('after', NIGHTS.map((d) => by(first.after, d)), `   ${pct(first.found.after / tried)}`);
      row('oracle', NIGHTS.map((d) => oracle.get(d)! / tried));
    }
    // The past: E-Divisive's false change points, and a step at a random run 12..28 found 1..10 runs after it.
    let falseSeries = 0;
    let total = 0;
    for (const id of g.ids) {
      for (let i = 0; i < SERIES_PER_METRIC; i++) {
        total++;
        if (changePoints(draw(recorded.get(id)!.values)).length) falseSeries++;
      }
    }
    console.log(`the past: E-Divisive's false change points in whole ${LENGTH}-run series, either direction: ${(100 * falseSeries / total).toFixed(2)} per 100 series (${falseSeries} of ${total})`);
    for (const step of [0.05, 0.1, 0.2]) {
      const foundAfter = { before: [] as number[], after: [] as number[] };
      let tried = 0;
      for (const id of g.ids) {
        const better = recorded.get(id)!.better;
        for (let i = 0; i < SERIES_PER_METRIC; i++) {
          tried++;
          const at = 12 + Math.floor(random() * 17);
          const xs = draw(recorded.get(id)!.values).map((x, j) => (j >= at ? x * (1 - step) : x));
          const found = { before: false, after: false };
          for (let after = 1; after <= 10 && at + after <= LENGTH; after++) {
            const cps = seriesChangePoints(xs.slice(0, at + after), better);
            const near = (c: (typeof cps)[number]) => Math.abs(c.index - at) <= 2;
            if (!found.before && cps.some((c) => !('fresh' in c) && near(c))) {
              found.before = true;
              foundAfter.before.push(after);
            }
            if (!found.after && cps.some(near)) {
              found.after = true;
              foundAfter.after.push(after);
            }
            if (found.before && found.after) break;
          }
        }
      }
      const within = (xs: number[], n: number) => pct(xs.filter((a) => a <= n).length / tried);
      console.log(`  ${pct(step)} step at a random run 12..28: found within 5 / 10 runs: before ${within(foundAfter.before, 5)} / ${within(foundAfter.before, 10)}, after ${within(foundAfter.after, 5)} / ${within(foundAfter.after, 10)}`);
    }
    console.log(`  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
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
