// The fresh check of history (harness/history/fresh.ts): its exact rank-test
// tail against enumeration; a 20% step in the last 3 runs is found with k = 3
// in the worse direction, whichever way the metric's better side is; a step
// to the better side, one or two bad nights and the recorded clean series
// night by night are not; the reference starts at E-Divisive's latest change
// point; and the output, the nightly's verdict, JUnit and the trend page say
// a fresh change point as they say the others, marked provisional.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { changePoints } from '../../harness/history/e-divisive.ts';
import { DEFAULT_FRESH_PARAMETERS, freshChange, rankLowerTail, worseRankTest } from '../../harness/history/fresh.ts';
import { buildHistoryJunit, formatHistory } from '../../harness/history/output.ts';
import { buildHistoryHtml } from '../../harness/history/page.ts';
import { analyzeHistory, recentRegressions, seriesChangePoints } from '../../harness/history/series.ts';
import type { RunResult } from '../../harness/report/results.ts';
import { collectSeries } from '../../harness/verdict/compare.ts';
import { seededRandom } from '../../harness/verdict/statistics.ts';
import { nightlyRuns } from '../helpers/history-store.ts';

const recorded: RunResult = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../fixtures/recorded/lab-wrlock-iperf.results.json'), 'utf8'));

/** P(U ≤ u) for samples of m and n untied values, by enumerating every choice of the m positions among m + n. */
function enumeratedTail(m: number, n: number): (u: number) => number {
  const counts: number[] = [];
  let total = 0;
  const walk = (pos: number, left: number, u: number, below: number) => {
    if (pos === m + n) {
      if (left === 0) {
        counts[u] = (counts[u] ?? 0) + 1;
        total++;
      }
      return;
    }
    if (left > 0) walk(pos + 1, left - 1, u + below, below); // position pos is one of the m: above `below` of the n
    if (pos - (m - left) < n) walk(pos + 1, left, u, below + 1);
  };
  walk(0, m, 0, 0);
  return (u) => counts.slice(0, Math.max(0, Math.floor(u) + 1)).reduce((a, c) => a + (c ?? 0), 0) / total;
}

/** 40 nights around 500 (±6%, uniform), seeded. */
const flat = (seed: number, n = 40) => {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => 500 * (1 + 0.12 * (random() - 0.5)));
};

describe('history: the fresh check of the newest runs', () => {
  it('the exact Mann–Whitney tail equals enumeration, and the far tail is 1 / C(m + n, m)', () => {
    for (const [m, n] of [[1, 6], [2, 9], [3, 10], [4, 8], [5, 7], [7, 6]]) {
      const exact = enumeratedTail(m, n);
      for (let u = -1; u <= m * n + 1; u++) assert.ok(Math.abs(rankLowerTail(m, n, u) - exact(u)) < 1e-12, `m=${m} n=${n} u=${u}: ${rankLowerTail(m, n, u)} vs ${exact(u)}`);
    }
    assert.ok(Math.abs(rankLowerTail(5, 35, 0) - 1 / 658_008) < 1e-15, 'C(40, 5) = 658008');
    assert.ok(Math.abs(rankLowerTail(1, 35, 0) - 1 / 36) < 1e-15);
  });

  it('finds a 20% step in the last 3 runs as fresh, k = 3, in the worse direction for either better side', () => {
    const xs = flat(7);
    const down = xs.map((x, i) => (i >= 37 ? x * 0.8 : x));
    const f = freshChange(down, 0, 'higher', 0.05);
    assert.ok(f, 'found');
    assert.equal(f.runs, 3);
    assert.equal(f.index, 37);
    assert.ok(f.change < -0.15 && f.change > -0.25, `change ${f.change}`);
    assert.ok(f.p < DEFAULT_FRESH_PARAMETERS.pValue && Math.abs(f.p - 1 / 9880) < 1e-12, `p ${f.p}: the three lowest of 40, 1 / C(40, 3)`);
    // A boot time (lower is better) 20% slower in the last 3 runs.
    const up = xs.map((x, i) => (i >= 37 ? x * 1.2 : x));
    const g = freshChange(up, 0, 'lower', 0.05);
    assert.ok(g && g.runs === 3 && g.change > 0.15, JSON.stringify(g));
    // As the series' change points: E-Divisive has none yet (3 runs after the step); the fresh one is the latest, a regression.
    assert.deepEqual(changePoints(down), []);
    const cps = seriesChangePoints(down, 'higher');
    assert.equal(cps.length, 1);
    assert.deepEqual([cps[0].index, cps[0].regression, 'fresh' in cps[0] && cps[0].fresh], [37, true, { runs: 3, from: 0 }]);
  });

  it('does not flag a step to the better side, nor one or two bad nights, nor too short a reference', () => {
    const xs = flat(11);
    const better = xs.map((x, i) => (i >= 36 ? x * 1.25 : x));
    assert.equal(freshChange(better, 0, 'higher', 0.05), undefined, 'faster throughput');
    assert.equal(freshChange(xs.map((x, i) => (i >= 36 ? x * 0.75 : x)), 0, 'lower', 0.05), undefined, 'a shorter boot time');
    assert.ok(freshChange(better, 0, 'lower', 0.05), 'the same numbers as boot times are a regression');
    // One bad night cannot pass (p ≥ 1/36 against 35), nor two (p ≥ 1/C(40, 2)).
    for (const bad of [1, 2]) assert.equal(freshChange(xs.map((x, i) => (i >= 40 - bad ? x * 0.4 : x)), 0, 'higher', 0.05), undefined, `${bad} bad nights`);
    // 9 runs of reference and 4 bad nights: too few to test.
    assert.equal(freshChange(flat(3, 13).map((x, i) => (i >= 9 ? x * 0.5 : x)), 0, 'higher', 0.05), undefined);
    // Below --min-effect: a quiet series (±2%) whose five newest are each below all 35 before, by 2–3% of the median.
    const quiet = flat(13, 35).map((x) => 500 + (x - 500) / 3);
    const low = Math.min(...quiet);
    const creep = [...quiet, ...[1, 2, 3, 4, 5].map((i) => low - i / 10)];
    assert.ok(worseRankTest(creep.slice(0, 35), creep.slice(35), 'higher') < 1e-5, 'significant');
    assert.equal(freshChange(creep, 0, 'higher', 0.05), undefined, 'a change of the median under 5%');
    assert.ok(freshChange(creep, 0, 'higher', 0.01), 'found at --min-effect 0.01');
  });

  it('flags no night of seeded noisy flat series as the nightly would check them; of the recorded clean lab series, only their slow spell', () => {
    for (let seed = 100; seed < 140; seed++) {
      // Heavy tails: one night in ten 30% slow.
      const random = seededRandom(seed);
      const xs = flat(seed).map((x) => (random() < 0.1 ? x * 0.7 : x));
      for (let n = 2; n <= xs.length; n++) {
        const cps = seriesChangePoints(xs.slice(0, n), 'higher');
        assert.ok(!cps.some((c) => 'fresh' in c), `seed ${seed}, night ${n}: ${JSON.stringify(cps.at(-1))}`);
      }
    }
    // The 40 recorded runs are in the order they ran, on a shared 2-core machine: runs 20–23 were slow in every
    // metric at once (boot 15–40% slower, throughput 10–20% lower). Checked night by night, the fresh check flags
    // that spell once, at night 24 in the recovery phase's throughput (its 4 lowest of 24); nothing else, ever.
    const flagged: string[] = [];
    for (const [id, s] of collectSeries(recorded.tests)) {
      for (let n = 2; n <= s.values.length; n++) {
        const last = seriesChangePoints(s.values.slice(0, n), s.better).at(-1);
        if (last && 'fresh' in last) flagged.push(`${id} night ${n}: the last ${last.fresh.runs}`);
      }
    }
    assert.deepEqual(flagged, ['wrlock-iperf · linux · throughput · recovery · host-to-guest night 24: the last 4']);
  });

  it('tests against the stable segment since E-Divisive\'s latest change point', () => {
    const random = seededRandom(5);
    const noise = () => 1 + 0.06 * (random() - 0.5);
    // 18 nights at 600, 18 at 500 (E-Divisive's change point at 18), then 4 at 400.
    const xs = Array.from({ length: 40 }, (_, i) => (i < 18 ? 600 : i < 36 ? 500 : 400) * noise());
    const cps = seriesChangePoints(xs, 'higher');
    assert.deepEqual(cps.map((c) => [c.index, 'fresh' in c ? c.fresh : null]), [[18, null], [36, { runs: 4, from: 18 }]]);
    // Against all 36 runs before it, the first segment's 600s would weigh in: the reference is the 18 since the change.
    assert.ok(Math.abs(cps[1].before - xs.slice(18, 36).reduce((a, b) => a + b, 0) / 18) < 1e-9);
    assert.deepEqual(seriesChangePoints(xs, 'higher', undefined, { ...DEFAULT_FRESH_PARAMETERS, maxRuns: 0 }).map((c) => c.index), [18], '--fresh 0: off');
  });

  it('reports a fresh change point in the output, the verdict, JUnit and the trend page like the others, marked provisional', () => {
    // The recorded nights with the dosed throughput 20% lower from night 36: the light dose's 4 newest runs are the 4 lowest.
    const runs = nightlyRuns({ from: 36, drop: 0.2 }).map((run, i) => ({ source: `night${i}.json`, run }));
    const a = analyzeHistory(runs);
    const light = a.series.find((s) => s.id === 'wrlock-iperf · linux · throughput · light · host-to-guest · lab')!;
    assert.deepEqual(light.changePoints.map((c) => [c.run.runId, c.regression, c.fresh]), [['night36', true, { runs: 4, from: 0 }]]);
    const text = formatHistory(a, 5);
    assert.match(text, /^40 runs, 9 series; change points by E-Divisive means \(Mann–Whitney p < 0\.001[^\n]*; a fresh step: the newest 1–5 runs against the ≥ 10 stable runs before them \(one-sided exact Mann–Whitney p < 0\.0002\)\n/);
    assert.match(text, /\n {2}REGRESSION +fresh: the last 4 runs against the 36 before them, [\d.]+ → [\d.]+ Mbit\/s \(-\d+\.\d%\), one-sided p=\d\.\de-5, from run night36 \(2026-02-06, build=136\); provisional until E-Divisive confirms it\n/);
    assert.match(text, /verdict: FAIL — 1 series regressed within the last 5 runs \(1 a fresh step, provisional\)\n$/);
    assert.deepEqual(recentRegressions(a, 5).map((r) => r.series.id), [light.id]);
    assert.deepEqual(recentRegressions(a, 3), [], 'a fresh step of 4 runs is older than --recent 3, as any change point would be');
    assert.match(buildHistoryJunit(a, [], 5), /<failure message="regressed within the last 5 runs: fresh: the last 4 runs against the 36 before them, [^"]+provisional until E-Divisive confirms it" type="PerfRegression"/);
    const page = buildHistoryHtml(a, [], 5, '/tmp');
    assert.match(page, /<span class="badge regressed" data-fresh>regression -\d+\.\d% \(fresh\)<\/span>/);
    assert.match(page, /<li data-fresh>regression: fresh: the last 4 runs/);
    const off = analyzeHistory(runs, undefined, { ...DEFAULT_FRESH_PARAMETERS, maxRuns: 0 });
    assert.equal(recentRegressions(off, 5).length, 0, 'E-Divisive alone has not found it yet');
    assert.match(formatHistory(off, 5), /; no fresh check\n[^]*verdict: pass/);
  });
});
