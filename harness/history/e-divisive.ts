// Change points in a series of nightly values: E-Divisive means (Matteson &
// James 2014, "A nonparametric approach for multiple change point analysis of
// multivariate data"), as MongoDB's CI uses it (Daly et al., ICPE 2020), with
// the significance of each candidate by a test between the parts either side,
// as Apache Otava (formerly Hunter) does with a t-test:
//  1. in a segment, the split that maximizes the energy divergence Q̂ between
//     its left and right parts (α = 1: absolute differences) is the candidate;
//  2. the candidate is kept when a Mann–Whitney U test between the two parts
//     gives p < `pValue` and their medians differ by at least `minEffect`;
//     then both parts are searched again (binary segmentation);
//  3. at the end every change point is re-tested between its neighbours (the
//     segments either side of it, up to the next change points), weakest
//     first, as Otava does, until all that remain pass.
// A rank test, not Otava's t-test: lab nights have heavy tails (a slow boot, a
// bad iperf3 run), and over series resampled from the recorded runs the
// t-test raised 4.7 false change points per 100 series where the rank test
// raises about 1 at better detection (npm run bench -- history).
// Deterministic: the same series and parameters give the same points.
import { mean, median } from 'simple-statistics';
import { normalTwoSidedP } from './normal-tail.ts';

export interface ChangePointParameters {
  /** Significance of the rank test between the parts either side. */
  pValue: number;
  /** The smallest relative change of the median that counts (|after − before| / |before|). */
  minEffect: number;
  /** The fewest runs on either side of a change point. */
  minSegment: number;
}

export const DEFAULT_CHANGE_POINT_PARAMETERS: ChangePointParameters = { pValue: 0.001, minEffect: 0.05, minSegment: 4 };

export interface ChangePoint {
  /** Index of the first value after the change. */
  index: number;
  /** The means either side (to the neighbouring change points). */
  before: number;
  after: number;
  /** The relative change of the median: (after − before) / |before|. */
  change: number;
  p: number;
  /** The divergence statistic at the split. */
  q: number;
}

/**
 * Q̂ of every split τ of xs (the left part xs[0..τ), the right xs[τ..n)). In
 * the U-statistic form (ecp's e.divisive, MongoDB's) a part's own mean
 * distance is over its distinct pairs; in the V form (R energy's edist) over
 * all n² pairs. O(n²): the pairwise sums move one value at a time.
 */
export function divergences(xs: readonly number[], form: 'U' | 'V' = 'U'): number[] {
  const n = xs.length;
  const q = new Array<number>(n + 1).fill(Number.NaN);
  let total = 0; // Σ over all pairs
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) total += Math.abs(xs[i] - xs[j]);
  let left = 0; // Σ pairs within xs[0..τ)
  let cross = 0; // Σ pairs across τ
  for (let tau = 1; tau < n; tau++) {
    // xs[τ−1] moves from the right part to the left one.
    const p = xs[tau - 1];
    let toLeft = 0;
    let toRight = 0;
    for (let i = 0; i < tau - 1; i++) toLeft += Math.abs(xs[i] - p);
    for (let j = tau; j < n; j++) toRight += Math.abs(xs[j] - p);
    left += toLeft;
    cross += toRight - toLeft;
    const right = total - left - cross;
    const [a, b] = [tau, n - tau];
    if (a < 2 || b < 2) continue;
    const within = form === 'U' ? left / ((a * (a - 1)) / 2) + right / ((b * (b - 1)) / 2) : (2 * left) / (a * a) + (2 * right) / (b * b);
    q[tau] = ((a * b) / n) * ((2 * cross) / (a * b) - within);
  }
  return q;
}

/** Mann–Whitney U between two parts (normal approximation, ties corrected), and their relative change of median. */
export function rankTest(before: readonly number[], after: readonly number[]) {
  const [n1, n2] = [before.length, after.length];
  const all = [...before.map((v) => ({ v, a: 1 })), ...after.map((v) => ({ v, a: 0 }))].sort((x, y) => x.v - y.v);
  let rankSum = 0;
  let ties = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1].v === all[i].v) j++;
    const rank = (i + j + 2) / 2;
    const t = j - i + 1;
    ties += t ** 3 - t;
    for (let k = i; k <= j; k++) if (all[k].a) rankSum += rank;
    i = j + 1;
  }
  const u = rankSum - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1))));
  const z = sigma > 0 ? (Math.abs(u - (n1 * n2) / 2) - 0.5) / sigma : 0;
  const p = sigma > 0 ? normalTwoSidedP(Math.max(0, z)) : 1;
  const [m1, m2] = [median([...before]), median([...after])];
  return { before: mean([...before]), after: mean([...after]), change: m1 === 0 ? (m2 === 0 ? 0 : Infinity) : (m2 - m1) / Math.abs(m1), p };
}

const passes = (r: { change: number; p: number }, o: ChangePointParameters) => r.p < o.pValue && Math.abs(r.change) >= o.minEffect;

export function changePoints(xs: readonly number[], o: ChangePointParameters = DEFAULT_CHANGE_POINT_PARAMETERS): ChangePoint[] {
  const found = new Map<number, number>(); // index → q
  const open: Array<[number, number]> = [[0, xs.length]];
  while (open.length) {
    const [start, end] = open.pop()!;
    if (end - start < 2 * o.minSegment) continue;
    const q = divergences(xs.slice(start, end));
    let [best, bestQ] = [-1, -Infinity];
    for (let tau = o.minSegment; tau <= end - start - o.minSegment; tau++) if (q[tau] > bestQ) [best, bestQ] = [tau, q[tau]];
    if (best < 0) continue;
    const split = start + best;
    if (!passes(rankTest(xs.slice(start, split), xs.slice(split, end)), o)) continue;
    found.set(split, bestQ);
    open.push([start, split], [split, end]);
  }
  // Re-test each between its neighbours; drop the weakest failing one, until none fails.
  for (;;) {
    const at = [...found.keys()].sort((a, b) => a - b);
    const tested = at.map((index, i) => ({ index, q: found.get(index)!, ...rankTest(xs.slice(at[i - 1] ?? 0, index), xs.slice(index, at[i + 1] ?? xs.length)) }));
    const failing = tested.filter((c) => !passes(c, o)).sort((a, b) => b.p - a.p);
    if (!failing.length) return tested;
    found.delete(failing[0].index);
  }
}
