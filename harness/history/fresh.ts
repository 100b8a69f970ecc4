// A fresh step: is the newest run or few worse than the stable segment
// before them? E-Divisive (e-divisive.ts) looks at the past: it keeps a
// change point only with at least `minSegment` runs after it and a rank test
// between whole segments, so a step in the last nights waits many runs before
// it is found, and the nightly, red only for a change point among the last
// runs, may never go red for it. Online change-point detection tests the
// newest points against the segment they extend; so does this check, beside
// E-Divisive and without changing it:
//  1. the reference is the stable segment: the runs since the latest change
//     point E-Divisive found (all runs when none), up to the newest k;
//  2. for k = 1..`maxRuns`, the newest k runs against that reference, by an
//     exact one-sided Mann–Whitney (rank) test in the series' worse
//     direction, with at least `minReference` runs in the reference;
//  3. a k passes when its p < `pValue` and the median of the newest k is worse
//     than the reference's by at least `minEffect`; of the k that pass, the
//     one whose split has the largest energy divergence (E-Divisive's own
//     measure of where a change is) is reported: "fresh: the last k runs".
// Its p-value is exact (the tail of the Mann–Whitney U distribution; the
// normal approximation is far off there: for the 5 newest runs below all 35
// before them it says 1.9e-4, the exact p is 1.5e-6). So at p < 0.0002 one
// bad night never passes (k = 1 against n runs: p ≥ 1/(n + 1)), nor two
// against fewer than 99 runs (p ≥ 2/((n + 1)(n + 2))); and the several k
// tried are held by `pValue` itself, chosen so that a nightly check
// over a 40-night history raises at most about one false alert in a hundred
// series (npm run bench -- history; docs/history.md). Provisional: the same
// step is confirmed, placed and sized by E-Divisive once enough runs follow it.
// Deterministic: no seed.
import { mean, median } from 'simple-statistics';
import type { Better } from '../verdict/metrics.ts';
import { divergences } from './e-divisive.ts';

export interface FreshParameters {
  /** The most newest runs tested (k = 1..maxRuns); 0 turns the check off. */
  maxRuns: number;
  /** The fewest runs of the stable segment before the newest k. */
  minReference: number;
  /** Significance of each k's one-sided rank test. */
  pValue: number;
}

export const DEFAULT_FRESH_PARAMETERS: FreshParameters = { maxRuns: 5, minReference: 10, pValue: 0.0002 };

export interface FreshChange {
  /** Index of the first of the newest k runs. */
  index: number;
  /** How many newest runs moved. */
  runs: number;
  /** The means of the reference and of the newest k. */
  before: number;
  after: number;
  /** The relative change of the median: (after − before) / |before|. */
  change: number;
  /** The exact one-sided p of the rank test, in the worse direction. */
  p: number;
  /** The reference: its first index (the latest change point, or 0). */
  from: number;
}

/**
 * The exact lower tail of the Mann–Whitney U for samples of m and n untied
 * values under no difference: P(U ≤ u). The number of orderings with U = j
 * is the coefficient of q^j in the Gaussian binomial [m + n choose m]_q,
 * built here factor by factor ([n + i choose i]_q = [n + i − 1 choose i − 1]_q ·
 * (1 − q^(n+i)) / (1 − q^i), every step a polynomial with non-negative
 * coefficients), truncated at degree u: O(m·u).
 */
export function rankLowerTail(m: number, n: number, u: number): number {
  if (u < 0) return 0;
  if (u >= m * n) return 1;
  const top = Math.floor(u);
  const c = new Float64Array(top + 1);
  c[0] = 1;
  let total = 1;
  for (let i = 1; i <= m; i++) {
    for (let j = top; j >= n + i; j--) c[j] -= c[j - n - i];
    for (let j = i; j <= top; j++) c[j] += c[j - i];
    total = (total * (n + i)) / i;
  }
  let sum = 0;
  for (let j = 0; j <= top; j++) sum += c[j];
  return Math.min(1, sum / total);
}

/**
 * One-sided Mann–Whitney test that `after` is worse than `before`: U counts
 * the pairs (before, after) where the after value is on the better side (a
 * tie counts half), small when the newest runs are worse; p = P(U ≤ ⌈U⌉)
 * exactly for untied values (with ties the next whole count is taken).
 */
export function worseRankTest(before: readonly number[], after: readonly number[], better: Better): number {
  let u = 0;
  for (const a of after) {
    for (const b of before) {
      if (a === b) u += 0.5;
      else if (better === 'higher' ? a > b : a < b) u += 1;
    }
  }
  return rankLowerTail(after.length, before.length, Math.ceil(u));
}

/**
 * The fresh step in the newest runs of xs, if any: the newest k against the
 * runs since `from` (the latest change point; 0 when none) before them.
 */
export function freshChange(xs: readonly number[], from: number, better: Better, minEffect: number, o: FreshParameters = DEFAULT_FRESH_PARAMETERS): FreshChange | undefined {
  const passing: FreshChange[] = [];
  for (let k = 1; k <= o.maxRuns; k++) {
    const cut = xs.length - k;
    if (cut - from < o.minReference) break;
    const before = xs.slice(from, cut);
    const after = xs.slice(cut);
    const [m1, m2] = [median(before), median(after)];
    const change = m1 === 0 ? (m2 === 0 ? 0 : m2 > 0 ? Infinity : -Infinity) : (m2 - m1) / Math.abs(m1);
    const worse = better === 'higher' ? -change : change;
    if (!(worse >= minEffect)) continue;
    const p = worseRankTest(before, after, better);
    if (p < o.pValue) passing.push({ index: cut, runs: k, before: mean(before), after: mean(after), change, p, from });
  }
  if (passing.length < 2) return passing[0];
  // Where the step is, when several k pass: the split with the largest energy
  // divergence, as E-Divisive places its change points (ranks would not do:
  // a larger k has a smaller exact p as soon as the runs it adds are a little
  // worse than the median, and the step would be placed too early).
  const q = divergences(xs.slice(from));
  const at = (c: FreshChange) => q[c.index - from] ?? Number.NaN;
  return passing.reduce((a, b) => (at(b) > at(a) || (Number.isNaN(at(a)) && !Number.isNaN(at(b))) ? b : a));
}
