// Boots as the gate's unit: the variance between and within boots (ICC),
// a boot's mean as its one sample, and what b boots a side can reach.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bootMeans, bootsNeeded, bootVariance, seriesReachable } from '../../harness/verdict/boots.ts';
import { compareRuns } from '../../harness/verdict/compare.ts';
import { gateSchema } from '../../harness/config/schema.ts';
import type { RunResult, TestResult } from '../../harness/report/results.ts';
import { seededRandom } from '../../harness/verdict/statistics.ts';

describe('boots as the unit', () => {
  it('splits the variance between and within boots (one-way random effects, ICC(1)), worked by hand', () => {
    // Two boots of three: grand mean 3.5; MSB = 13.5, MSW = 1, n0 = 3: between (13.5 − 1)/3, within 1.
    const v = bootVariance([1, 2, 3, 4, 5, 6], [0, 0, 0, 1, 1, 1]);
    assert.equal(v.boots, 2);
    assert.ok(Math.abs(v.between - 12.5 / 3) < 1e-12 && v.within === 1, JSON.stringify(v));
    assert.ok(Math.abs(v.icc - (12.5 / 3) / (12.5 / 3 + 1)) < 1e-12);
    // Boots that do not differ: no variance between them.
    assert.equal(bootVariance([1, 2, 3, 1, 2, 3], [0, 0, 0, 1, 1, 1]).icc, 0);
    assert.ok(Number.isNaN(bootVariance([1, 2], [0, 0]).icc), 'one boot tells nothing of boots');
    assert.deepEqual(bootMeans([1, 2, 3, 4, 5, 6], [1, 1, 1, 0, 0, 0]), [5, 2], 'in boot order');
  });

  it('says what b boots a side can reach: 5 cannot hold 6 series to 0.01 with Holm, 6 can (1/C(2b, b))', () => {
    assert.equal(seriesReachable(5, 0.01, true), 2); // 1/252 = 0.00397
    assert.equal(seriesReachable(6, 0.01, true), 9); // 1/924 = 0.00108
    assert.equal(seriesReachable(3, 0.01, true), 0); // 1/20
    assert.equal(bootsNeeded(6, 0.01, true), 6);
    assert.equal(bootsNeeded(1, 0.01, false), 5);
  });

  it('the gate takes a boot\'s mean as its sample unless told boots do not matter', () => {
    const random = seededRandom(3);
    // 4 boots a side of 5 tests; boots differ by ±10% (the boot is the unit), the candidate no worse.
    const side = (first: number): TestResult[] => Array.from({ length: 20 }, (_, i) => {
      const boot = first + Math.floor(i / 5);
      const value = 500 * (1 + 0.1 * Math.sin(boot * 7.3)) * (1 + 0.02 * (random() - 0.5));
      return {
        id: `s/lab/linux#${i}`, suite: 's', host: 'lab', guest: 'linux', repeat: i, status: 'passed', attempt: 0, attempts: [], startedAt: '', durationMs: 0,
        checks: [], attachments: [], timeline: { samples: [], events: [] }, reproduce: '', boot,
        metrics: [{ metric: 'throughput', value, unit: 'Mbit/s', better: 'higher', dims: { dose: 'hard' } }],
      };
    });
    const run = (tests: TestResult[]): RunResult => ({ version: 1, runId: 'r', config: '', startedAt: '', finishedAt: '', durationMs: 0, hosts: [], tests, exitCode: 0 });
    const gate = gateSchema.parse({ familyWise: 'none' });
    const byBoot = compareRuns([run(side(0))], [run(side(4))], { gate }).series[0];
    assert.deepEqual([byBoot.base.n, byBoot.cand.n, byBoot.boots?.unit], [4, 4, 'boot']);
    assert.equal(byBoot.status, 'insufficient', '4 boots a side cannot reach 0.01 (1/70)');
    assert.match(byBoot.note ?? '', /4 against 4 boots cannot reach p < 0\.01/);
    assert.ok(byBoot.boots!.base.icc > 0.8, `boots dominate: ICC ${byBoot.boots!.base.icc}`);
    const byTest = compareRuns([run(side(0))], [run(side(4))], { gate: { ...gate, bootUnit: 'test' } }).series[0];
    assert.deepEqual([byTest.base.n, byTest.boots?.unit], [20, 'test']);
  });
});
