// The gate's statistics against a reference implementation. Every expected
// value below was computed with SciPy 1.17.1 (numpy 2, Python 3.11) on this
// machine, with the call shown beside it:
//   stat = lambda x, y, axis=-1: np.mean(y, axis=axis) - np.mean(x, axis=axis)
//   stats.permutation_test((a, b), stat, vectorized=True, permutation_type='independent', ...)
//   stats.bootstrap((a, b), rel, paired=False, method='percentile', ...)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bootstrapRelativeChange, coefficientOfVariation, normalQuantile, permutationTest, relativeChange, seededRandom, smallestPValue,
} from '../../harness/verdict/statistics.ts';

// Small samples: C(11, 5) = 462 splits, so both SciPy and we enumerate them all.
const a5 = [0.496, 0.578, 0.51, 0.469, 0.553];
const b6 = [0.557, 0.509, 0.474, 0.49, 0.447, 0.43];

// 20 per side: the lab's run means (docs/noise.md) and ten more, and a
// reordering of them scaled by 0.92 (an 8% drop) or 0.97 (a 3% drop).
const A = [0.496, 0.578, 0.51, 0.469, 0.553, 0.557, 0.509, 0.474, 0.49, 0.447, 0.501, 0.533, 0.488, 0.52, 0.462, 0.545, 0.497, 0.515, 0.479, 0.53];
const reordered = [0.509, 0.474, 0.49, 0.447, 0.501, 0.533, 0.488, 0.52, 0.462, 0.545, 0.497, 0.515, 0.479, 0.53, 0.496, 0.578, 0.51, 0.469, 0.553, 0.557];
const B92 = reordered.map((x) => x * 0.92);
const B97 = reordered.map((x) => x * 0.97);

describe('permutation test on the difference of means', () => {
  it('matches SciPy exactly when every split is enumerated', () => {
    // n_resamples=9999 > 462: SciPy's exact test. statistic -0.0366999999999999.
    const expected = { less: 0.1038961038961039, greater: 0.9004329004329005, 'two-sided': 0.2077922077922078 } as const;
    for (const alternative of ['less', 'greater', 'two-sided'] as const) {
      const r = permutationTest(a5, b6, { resamples: 9999, seed: 1, alternative });
      assert.equal(r.exact, true);
      assert.equal(r.permutations, 462);
      assert.ok(Math.abs(r.statistic - -0.0366999999999999) < 1e-12);
      assert.ok(Math.abs(r.pValue - expected[alternative]) < 1e-12, `${alternative}: ${r.pValue} vs ${expected[alternative]}`);
    }
  });

  it('agrees with SciPy within sampling error when splits are drawn at random', () => {
    // SciPy, n_resamples=500000, random_state=1: less 0.08109183781632437, two-sided 0.16218367563264874.
    // Ours draws 9999 splits: the standard error at p = 0.08 is about 0.0027; allow four of them.
    const less = permutationTest(A, B97, { resamples: 9999, seed: 7, alternative: 'less' });
    assert.equal(less.exact, false);
    assert.ok(Math.abs(less.pValue - 0.0811) < 0.011, `less: ${less.pValue}`);
    const two = permutationTest(A, B97, { resamples: 9999, seed: 7, alternative: 'two-sided' });
    assert.ok(Math.abs(two.pValue - 0.1622) < 0.015, `two-sided: ${two.pValue}`);
    // SciPy, n_resamples=200000: an 8% drop gives p = 0.00022999885000574998 (less).
    const drop = permutationTest(A, B92, { resamples: 9999, seed: 7, alternative: 'less' });
    assert.ok(drop.pValue < 0.002, `8% drop: ${drop.pValue}`);
    assert.ok(Math.abs(drop.statistic - -0.04061199999999998) < 1e-12);
  });

  it('is seeded: the same seed gives the same p-value, another seed may not', () => {
    const p = (seed: number) => permutationTest(A, B97, { resamples: 2000, seed, alternative: 'less' }).pValue;
    assert.equal(p(3), p(3));
    assert.notEqual(p(3), p(4));
  });

  it('cannot go below 1/C(n, k) for small samples, so 4 against 4 can never reach p < 0.01', () => {
    assert.equal(smallestPValue(4, 4), 1 / 70);
    assert.equal(smallestPValue(5, 5), 1 / 252);
    const apart = permutationTest([10, 11, 12, 13], [1, 2, 3, 4], { resamples: 9999, seed: 1, alternative: 'less' });
    assert.equal(apart.pValue, 1 / 70);
  });

  it('refuses an empty sample', () => {
    assert.throws(() => permutationTest([], [1], { resamples: 10, seed: 1, alternative: 'less' }), /at least one value/);
  });
});

describe('relative change and its bootstrap interval', () => {
  it('computes the relative change of the means as SciPy does', () => {
    // (mean(B) - mean(A)) / mean(A) = -0.07999999999999996 (numpy).
    assert.ok(Math.abs(relativeChange(A, B92) - -0.08) < 1e-12);
  });

  it('gives the percentile interval SciPy gives, within resampling error', () => {
    // stats.bootstrap(..., n_resamples=200000, confidence_level=0.95, random_state=1):
    // low -0.1169225930201483, high -0.04163944071959034.
    const [lo, hi] = bootstrapRelativeChange(A, B92, { resamples: 9999, confidence: 0.95, seed: 11 });
    assert.ok(Math.abs(lo - -0.1169) < 0.004, `low ${lo}`);
    assert.ok(Math.abs(hi - -0.0416) < 0.004, `high ${hi}`);
  });

  it('computes the coefficient of variation with the sample standard deviation', () => {
    // np.std(A, ddof=1) / np.mean(A) = 0.06762551497334895
    assert.ok(Math.abs(coefficientOfVariation(A) - 0.06762551497334895) < 1e-12);
    assert.equal(coefficientOfVariation([5]), 0);
  });
});

describe('normal quantile', () => {
  it('matches scipy.stats.norm.ppf', () => {
    const expected: Array<[number, number]> = [
      [0.001, -3.090232306167813], [0.01, -2.3263478740408408], [0.05, -1.6448536269514729],
      [0.5, 0], [0.95, 1.6448536269514722], [0.99, 2.3263478740408408],
    ];
    for (const [p, z] of expected) assert.ok(Math.abs(normalQuantile(p) - z) < 1e-8, `${p}: ${normalQuantile(p)} vs ${z}`);
  });
});

describe('seeded random numbers', () => {
  it('repeats for a seed and stays in [0, 1)', () => {
    const r1 = seededRandom(42);
    const r2 = seededRandom(42);
    const xs = Array.from({ length: 1000 }, () => r1());
    assert.deepEqual(xs.slice(0, 5), Array.from({ length: 5 }, () => r2()));
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const meanX = xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(Math.abs(meanX - 0.5) < 0.05);
  });
});
