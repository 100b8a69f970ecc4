// Boots as the unit of a gate. A gate across boot environments runs K tests
// in each of b boots a side; the tests of one boot share its memory
// placement, caches and timers, so they are not b·K independent samples.
// How much they are worth is told by the intra-class correlation (ICC): the
// share of a series' variance that lies between boots. The test the gate
// makes is a permutation over boot means (one sample a boot) unless the
// config says calibration showed boots do not matter (gate.bootUnit: test).
import { smallestPValue } from './statistics.ts';

export interface BootVariance {
  /** Boots, and tests in all. */
  boots: number;
  tests: number;
  /** The variance of a boot's true mean around the series' (between boots), and of a test around its boot's mean (within). */
  between: number;
  within: number;
  /** between / (between + within): 0 when boots do not matter, 1 when only they do. */
  icc: number;
}

/** The tests' values grouped by boot, in boot order. */
export function byBoot(values: readonly number[], boots: readonly number[]): number[][] {
  const groups = new Map<number, number[]>();
  values.forEach((v, i) => groups.set(boots[i], [...(groups.get(boots[i]) ?? []), v]));
  return [...groups].sort(([a], [b]) => a - b).map(([, g]) => g);
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** One mean a boot: the samples of a permutation over boots. */
export const bootMeans = (values: readonly number[], boots: readonly number[]): number[] => byBoot(values, boots).map(mean);

/**
 * The one-way random-effects decomposition (ICC(1), unequal group sizes):
 * MSB = Σ nᵢ(ȳᵢ − ȳ)² / (b − 1), MSW = ΣΣ (y − ȳᵢ)² / (N − b),
 * n₀ = (N − Σnᵢ²/N) / (b − 1); between = max(0, (MSB − MSW) / n₀),
 * within = MSW. Undefined (NaN) with fewer than two boots or no boot of two tests.
 */
export function bootVariance(values: readonly number[], boots: readonly number[]): BootVariance {
  const groups = byBoot(values, boots);
  const b = groups.length;
  const n = values.length;
  const grand = mean(values);
  const ssb = groups.reduce((s, g) => s + g.length * (mean(g) - grand) ** 2, 0);
  const ssw = groups.reduce((s, g) => s + g.reduce((t, y) => t + (y - mean(g)) ** 2, 0), 0);
  if (b < 2 || n - b < 1) return { boots: b, tests: n, between: Number.NaN, within: Number.NaN, icc: Number.NaN };
  const msb = ssb / (b - 1);
  const msw = ssw / (n - b);
  const n0 = (n - groups.reduce((s, g) => s + g.length ** 2, 0) / n) / (b - 1);
  const between = Math.max(0, (msb - msw) / n0);
  return { boots: b, tests: n, between, within: msw, icc: between + msw > 0 ? between / (between + msw) : 0 };
}

/**
 * How many series a permutation over boot means can hold to `significance`
 * with `boots` boots a side: its smallest p is 1/C(2b, b), and Holm holds the
 * smallest of m p-values to significance/m. 0 when not even one.
 */
export function seriesReachable(boots: number, significance: number, holm: boolean): number {
  if (boots < 2) return 0;
  const floor = smallestPValue(boots, boots);
  if (floor >= significance) return 0;
  return holm ? Math.floor(significance / floor - 1e-9) : Number.POSITIVE_INFINITY;
}

/** The fewest boots a side that reach `significance` over `series` series. */
export function bootsNeeded(series: number, significance: number, holm: boolean): number {
  let b = 2;
  while (seriesReachable(b, significance, holm) < (holm ? series : 1)) b++;
  return b;
}
