// Calibration: how the gate behaves on this host's own noise. A population of
// runs of one build (A against A) is split at random into a baseline and a
// candidate, many times; each split goes through the gate's comparison. The
// share of splits the gate fails is its false-positive rate at the configured
// thresholds; with a drop injected into the candidate, its detection rate.
// Whole tests are resampled (all their metrics together), so the correlation
// between a run's series is kept.
import { mean } from 'simple-statistics';
import type { GateConfig } from '../config/schema.ts';
import type { RunResult, TestResult } from '../report/results.ts';
import { collectSeries, compareRuns, type SeriesKey } from './compare.ts';
import type { MetricName } from './metrics.ts';
import { coefficientOfVariation, normalQuantile, seededRandom } from './statistics.ts';
import { bootVariance, type BootVariance } from './boots.ts';

export interface SplitTrials {
  trials: number;
  perSide: number;
  /** Share of splits in which the gate failed. */
  gateRate: number;
  /** Per series id: share of splits in which it was flagged (significant and past its threshold). */
  seriesRates: Map<string, number>;
}

export interface InjectedDrop {
  /** Fraction by which the candidate's values get worse (0.1: a 10% drop of a higher-is-better metric). */
  fraction: number;
  /** Which series get it. */
  applies: (metric: MetricName, dims: { dose?: string; direction?: string }) => boolean;
}

/** The candidate made worse: higher-is-better values scaled down, lower-is-better ones up. */
function worsen(tests: TestResult[], drop: InjectedDrop): TestResult[] {
  return tests.map((t) => ({
    ...t,
    metrics: (t.metrics ?? []).map((m) => (drop.applies(m.metric, m.dims) ? { ...m, value: m.value * (m.better === 'higher' ? 1 - drop.fraction : 1 + drop.fraction) } : m)),
  }));
}

/**
 * Random splits of `tests` into two sides of `perSide` (at most half each),
 * seeded. Tests that ran in the boots of a gate across boots are split by
 * boot (`perSide` boots a side, each with all its tests): the unit the gate
 * judges them by, so what calibration says holds for the gate.
 */
export function splitTrials(run: RunResult, tests: readonly TestResult[], gate: GateConfig, o: { trials: number; perSide: number; seed: number; drop?: InjectedDrop }): SplitTrials {
  const random = seededRandom(o.seed);
  const units = unitsOf(tests);
  const perSide = Math.min(o.perSide, Math.floor(units.length / 2));
  const seriesHits = new Map<string, number>();
  let failed = 0;
  for (let trial = 0; trial < o.trials; trial++) {
    const shuffled = [...units];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
    }
    const base = shuffled.slice(0, perSide).flat();
    const cand = shuffled.slice(perSide, 2 * perSide).flat();
    const c = compareRuns([{ ...run, tests: base }], [{ ...run, tests: o.drop ? worsen(cand, o.drop) : cand }], { gate: { ...gate, seed: gate.seed + trial }, intervals: false, aa: true });
    if (c.regressed) failed++;
    for (const v of c.flagged) seriesHits.set(v.id, (seriesHits.get(v.id) ?? 0) + 1);
  }
  return { trials: o.trials, perSide, gateRate: failed / o.trials, seriesRates: new Map([...seriesHits].map(([id, n]) => [id, n / o.trials])) };
}

/** What a calibration splits: each boot's tests together where the tests ran in boots, else each test alone. */
export function unitsOf(tests: readonly TestResult[]): TestResult[][] {
  if (!tests.length || tests.some((t) => t.boot === undefined)) return tests.map((t) => [t]);
  const boots = new Map<number, TestResult[]>();
  for (const t of tests) boots.set(t.boot!, [...(boots.get(t.boot!) ?? []), t]);
  return [...boots.values()];
}

export interface SeriesNoise {
  id: string;
  key: SeriesKey;
  unit: string;
  n: number;
  mean: number;
  /** Between-test coefficient of variation: the noise the gate works against. */
  cv: number;
  /** Tests that ran in boots: the variance between boots and within a boot (verdict/boots.ts). */
  boots?: BootVariance;
  /**
   * The smallest relative change the gate would catch 95% of the time with
   * `perSide` tests a side at its significance level (normal approximation):
   * (z₁₋α + z₀.₉₅) · cv · √(2 / perSide), but never below the noise threshold.
   */
  detectable: number;
}

/**
 * The noise of each series with its vms' vCPUs pinned and without
 * (TestResult.vcpusPinned), side by side: what pinning buys on this host.
 * Undefined unless both kinds of test are there, at least 2 of each.
 */
export function pinningNoise(tests: readonly TestResult[]): { unpinned: number; pinned: number; as: string[]; series: Array<{ id: string; unpinned?: number; pinned?: number }> } | undefined {
  const pinned = tests.filter((t) => t.vcpusPinned);
  const unpinned = tests.filter((t) => !t.vcpusPinned);
  if (pinned.length < 2 || unpinned.length < 2) return undefined;
  const cvs = (group: readonly TestResult[]) => new Map([...collectSeries(group)].filter(([, s]) => s.values.length >= 2).map(([id, s]) => [id, coefficientOfVariation(s.values)]));
  const [off, on] = [cvs(unpinned), cvs(pinned)];
  const ids = [...new Set([...off.keys(), ...on.keys()])].sort();
  return {
    unpinned: unpinned.length, pinned: pinned.length,
    as: [...new Set(pinned.map((t) => t.vcpusPinned!))],
    series: ids.map((id) => ({ id, ...(off.has(id) ? { unpinned: off.get(id) } : {}), ...(on.has(id) ? { pinned: on.get(id) } : {}) })),
  };
}

export function seriesNoise(tests: readonly TestResult[], gate: GateConfig, perSide: number): SeriesNoise[] {
  return [...collectSeries(tests)].map(([id, s]) => {
    const cv = coefficientOfVariation(s.values);
    const significance = gate.overrides[s.key.metric]?.significance ?? gate.significance;
    const threshold = gate.overrides[s.key.metric]?.noiseThreshold ?? gate.noiseThreshold;
    const detectable = Math.max(threshold, (normalQuantile(1 - significance) + normalQuantile(0.95)) * cv * Math.sqrt(2 / perSide));
    const booted = s.boots.every((b) => b !== undefined) && new Set(s.boots).size >= 2;
    return { id, key: s.key, unit: s.unit, n: s.values.length, mean: mean(s.values), cv, detectable, ...(booted ? { boots: bootVariance(s.values, s.boots as number[]) } : {}) };
  });
}
