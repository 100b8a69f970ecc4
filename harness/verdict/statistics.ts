// The statistics of the gate, in one place, every parameter named. The unit of
// a sample is one test (one run of a suite): one-second iperf3 intervals of one
// run are not independent — on the lab, pooling them flagged 44% of A/A pairs
// (docs/noise.md) — so a series holds one value per test.
//
// The test is Firecracker's (tools/ab_test.py): a permutation test on the
// difference of means, paired with a minimum relative effect. Here it is
// seeded, so a verdict can be recomputed, and one-sided by default: the gate
// asks "is the candidate worse?", and an improvement must not fail it.
import { mean, quantileSorted, sampleStandardDeviation } from 'simple-statistics';

/** The named parameters of a comparison. */
export interface StatParameters {
  /** A series is significant when its p-value is below this. */
  significance: number;
  /** ... and flagged when it is also worse by more than this fraction of the baseline mean. */
  noiseThreshold: number;
  /** Random permutations when there are more distinct ones than this (else all are enumerated: exact). */
  resamples: number;
  /** Bootstrap resamples for the confidence interval of the relative effect. */
  bootstrapResamples: number;
  /** Two-sided confidence level of that interval. */
  confidence: number;
  /** Seed of every random draw: the same inputs give the same verdict. */
  seed: number;
}

export const DEFAULT_STAT_PARAMETERS: StatParameters = {
  significance: 0.01,
  noiseThreshold: 0.05,
  resamples: 9999,
  bootstrapResamples: 9999,
  confidence: 0.95,
  seed: 1,
};

/** Which way the candidate's mean must differ from the baseline's for a small p. */
export type Alternative = 'less' | 'greater' | 'two-sided';

/**
 * mulberry32: a small, fast 32-bit generator, good enough for resampling and
 * fully determined by its seed (Math.random is not seedable).
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}

/** Every way to choose k of n indices, in lexicographic order. */
function* combinations(n: number, k: number): Generator<number[]> {
  const idx = Array.from({ length: k }, (_, i) => i);
  while (true) {
    yield idx;
    let i = k - 1;
    while (i >= 0 && idx[i] === n - k + i) i--;
    if (i < 0) return;
    idx[i]++;
    for (let j = i + 1; j < k; j++) idx[j] = idx[j - 1] + 1;
  }
}

export interface PermutationResult {
  /** mean(b) − mean(a). */
  statistic: number;
  pValue: number;
  /** All distinct permutations were enumerated (no randomness in the p-value). */
  exact: boolean;
  permutations: number;
}

/**
 * Permutation test of two independent samples on mean(b) − mean(a), with
 * scipy.stats.permutation_test's conventions: exact when the distinct
 * splits number at most `resamples` (the observed split counts among them);
 * otherwise random splits with the observed one added, p = (k + 1)/(R + 1);
 * a relative tolerance of 100 ε on ties; two-sided p = 2 min(less, greater).
 */
export function permutationTest(a: readonly number[], b: readonly number[], o: { resamples: number; seed: number; alternative: Alternative }): PermutationResult {
  if (a.length === 0 || b.length === 0) throw new RangeError('permutation test: both samples need at least one value');
  const pooled = [...a, ...b];
  const total = sum(pooled);
  const na = a.length;
  const nb = b.length;
  // mean(b) − mean(a) from the sum of the values put on a's side.
  const statOf = (sumA: number) => (total - sumA) / nb - sumA / na;
  const observed = statOf(sum(a));
  const gamma = Math.abs(observed * 100 * Number.EPSILON);
  let less = 0;
  let greater = 0;
  const count = (s: number) => {
    if (s <= observed + gamma) less++;
    if (s >= observed - gamma) greater++;
  };

  const distinct = binomial(na + nb, na);
  const exact = distinct <= o.resamples;
  if (exact) {
    for (const idx of combinations(na + nb, na)) {
      let sa = 0;
      for (const i of idx) sa += pooled[i];
      count(statOf(sa));
    }
  } else {
    const random = seededRandom(o.seed);
    const work = [...pooled];
    for (let r = 0; r < o.resamples; r++) {
      // A partial Fisher–Yates shuffle: the first na places are a random a-side.
      let sa = 0;
      for (let i = 0; i < na; i++) {
        const j = i + Math.floor(random() * (work.length - i));
        [work[i], work[j]] = [work[j], work[i]];
        sa += work[i];
      }
      count(statOf(sa));
    }
  }
  const adjust = exact ? 0 : 1;
  const n = exact ? distinct : o.resamples;
  const pLess = (less + adjust) / (n + adjust);
  const pGreater = (greater + adjust) / (n + adjust);
  const pValue = o.alternative === 'less' ? pLess : o.alternative === 'greater' ? pGreater : Math.min(1, 2 * Math.min(pLess, pGreater));
  return { statistic: observed, pValue, exact, permutations: n };
}

/** (mean(b) − mean(a)) / mean(a): the candidate's change as a fraction of the baseline. */
export const relativeChange = (a: readonly number[], b: readonly number[]): number => (mean([...b]) - mean([...a])) / mean([...a]);

/**
 * Percentile bootstrap confidence interval of the relative change: resample
 * each side with replacement, seeded; the (1 − confidence)/2 and
 * (1 + confidence)/2 quantiles of the resampled changes.
 */
export function bootstrapRelativeChange(a: readonly number[], b: readonly number[], o: { resamples: number; confidence: number; seed: number }): [number, number] {
  const random = seededRandom(o.seed);
  const resampleMean = (xs: readonly number[]) => {
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += xs[Math.floor(random() * xs.length)];
    return s / xs.length;
  };
  const changes: number[] = [];
  for (let r = 0; r < o.resamples; r++) {
    const ma = resampleMean(a);
    changes.push((resampleMean(b) - ma) / ma);
  }
  // Sorted once: simple-statistics' quantile() with several p on an unsorted array gave a wrong low end.
  changes.sort((x, y) => x - y);
  const tail = (1 - o.confidence) / 2;
  return [quantileSorted(changes, tail), quantileSorted(changes, 1 - tail)];
}

/** Coefficient of variation: sample standard deviation over the mean (0 for fewer than two values). */
export const coefficientOfVariation = (xs: readonly number[]): number => (xs.length < 2 ? 0 : sampleStandardDeviation([...xs]) / Math.abs(mean([...xs])));

/** The smallest p-value a permutation test can give for these sample sizes (exact enumeration). */
export const smallestPValue = (na: number, nb: number): number => 1 / binomial(na + nb, na);

/** Standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
