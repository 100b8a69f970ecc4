// The change-point method against an independent implementation (R's energy
// package, pnorm() and wilcox.test(), values in fixtures/history/reference.json), and on the
// recorded lab series: a 10% step is found at its run, the clean series gives
// none, one outlier night is not a change point.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { changePoints, divergences, rankTest } from '../../harness/history/e-divisive.ts';
import { normalTwoSidedP } from '../../harness/history/normal-tail.ts';
import { collectSeries } from '../../harness/verdict/compare.ts';
import type { RunResult } from '../../harness/report/results.ts';

const ref = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../fixtures/history/reference.json'), 'utf8'));
const recorded: RunResult = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../fixtures/recorded/lab-wrlock-iperf.results.json'), 'utf8'));
const series = collectSeries(recorded.tests);
const values = (id: string) => series.get(id)!.values;
const close = (a: number, b: number, rel = 1e-9) => Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));

describe('history: the change-point statistics', () => {
  it('the divergence at every split equals R energy::edist (V form); the U form (that of ecp) differs', () => {
    for (const name of ['hard', 'step']) {
      const { values: xs, edist } = ref.series[name];
      const v = divergences(xs, 'V');
      assert.equal(edist.length, xs.length - 3);
      edist.forEach((e: number, i: number) => assert.ok(close(v[i + 2], e), `${name} τ=${i + 2}: ${v[i + 2]} vs R ${e}`));
      const u = divergences(xs, 'U');
      assert.ok(u.slice(2, -2).every((q, i) => Number.isFinite(q) && q !== v[i + 2]), 'the forms differ');
    }
  });

  it('the normal two-sided tail equals R 2 * pnorm(-|z|), far into the tail', () => {
    ref.pnorm.z.forEach((z: number, i: number) => assert.ok(close(normalTwoSidedP(z), ref.pnorm.p[i], 1e-10), `z=${z}: ${normalTwoSidedP(z)} vs R ${ref.pnorm.p[i]}`));
  });

  it('the Mann–Whitney test between two parts equals R wilcox.test (normal approximation, continuity and ties corrected)', () => {
    for (const name of ['hard', 'step']) {
      const xs: number[] = ref.series[name].values;
      ref.wilcox.splits.forEach((t: number, i: number) => {
        const p = rankTest(xs.slice(0, t), xs.slice(t)).p;
        assert.ok(close(p, ref.wilcox[name][i], 1e-9), `${name} split ${t}: ${p} vs R ${ref.wilcox[name][i]}`);
      });
    }
    assert.ok(close(rankTest(ref.wilcox.ties.a, ref.wilcox.ties.b).p, ref.wilcox.ties.p, 1e-9), 'ties');
  });

  it('finds a 10% step after run 20 of the recorded hard-dose throughput at run 20', () => {
    const found = changePoints(ref.series.step.values);
    assert.deepEqual(found.map((c) => c.index), [20]);
    assert.ok(found[0].change < -0.05 && found[0].change > -0.2, `change ${found[0].change}`);
    assert.ok(found[0].p < 0.001);
  });

  it('finds no change point in any clean recorded series at the defaults', () => {
    for (const [id, s] of series) {
      assert.ok(s.values.length === 40 && s.values.every(Number.isFinite), id);
      assert.deepEqual(changePoints(s.values).map((c) => c.index), [], id);
    }
    // The nearest miss: the recording's first seven runs had p99 cycle latencies up to 167 ms, the rest 14–20 ms bar two.
    const p99 = values('wrlock-iperf · linux · wrlock-cycle-p99');
    assert.deepEqual(changePoints(p99, { pValue: 0.002, minEffect: 0.05, minSegment: 4 }).map((c) => c.index), [7], 'found when asked at p < 0.002');
  });

  it('does not call one outlier night a change point, anywhere in the series', () => {
    const xs = values('wrlock-iperf · linux · throughput · unstressed · host-to-guest');
    for (const at of [0, 5, 20, 35, 39]) {
      const bent = xs.map((x, i) => (i === at ? x * 0.4 : x));
      assert.deepEqual(changePoints(bent).map((c) => c.index), [], `outlier at ${at}`);
    }
  });
});
