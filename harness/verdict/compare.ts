// A/B comparison of two sets of results: the gate's verdict. Pure over
// results.json, so it needs no host and every verdict can be recomputed.
//
// 1. Series: every metric value of every test, keyed by suite, guest, metric,
//    dose and direction; a test is one sample (the mean of its values).
// 2. Per series: a seeded one-sided permutation test ("is the candidate
//    worse?") and the relative change; significant when p < significance
//    (held to Holm's steps across the series, by default), flagged when also
//    worse by more than the noise threshold.
// 3. Consistency (Firecracker's cross-scenario filter): a real regression shows
//    across the guests and directions of a metric and dose, so a flagged series
//    is a regression only when the mean change over all series of its group,
//    and over the significant ones, are both worse than the threshold.
// 4. Liveness is not statistical: any hang in the candidate fails the gate.
import { mean } from 'simple-statistics';
import type { GateConfig } from '../config/schema.ts';
import type { RunResult, TestResult } from '../report/results.ts';
import type { Better, MetricName } from './metrics.ts';
import { bootMeans, bootVariance, type BootVariance } from './boots.ts';
import { exposureOf, type SideExposure } from './exposure.ts';
import {
  bootstrapRelativeChange, coefficientOfVariation, DEFAULT_STAT_PARAMETERS, permutationTest, smallestPValue, type StatParameters,
} from './statistics.ts';

export interface SeriesKey {
  suite: string;
  guest: string;
  metric: MetricName;
  dose?: string;
  direction?: string;
}

export type SeriesStatus =
  /** significant, worse than the threshold, and consistent across its group: fails the gate */
  | 'regressed'
  /** significant and worse than the threshold, but not consistent across its group */
  | 'inconsistent'
  | 'ok'
  /** too few samples on a side for the test to reach the significance level */
  | 'insufficient'
  /** in the config's ignore list */
  | 'ignored'
  /** measured on one side only */
  | 'missing';

export interface SideSummary {
  n: number;
  mean: number;
  cv: number;
  values: number[];
}

export interface SeriesVerdict {
  id: string;
  key: SeriesKey;
  unit: string;
  better: Better;
  base: SideSummary;
  cand: SideSummary;
  /** (mean(cand) − mean(base)) / mean(base). */
  change: number;
  /** The change signed so that > 0 is worse (a throughput drop, a latency rise). */
  worse: number;
  /** Bootstrap interval of `change`. */
  interval?: [number, number];
  pValue?: number;
  exact?: boolean;
  /** p below the level it is held to: `significance`, or Holm's stricter step of it. */
  significant?: boolean;
  /** The level `pValue` was held to (with Holm, significance / the series still in the running). */
  level?: number;
  /** A gate across boots: the unit the test took (a boot's mean, or every test) and each side's variance between and within boots. */
  boots?: { unit: 'boot' | 'test'; base: BootVariance; cand: BootVariance };
  significance: number;
  noiseThreshold: number;
  status: SeriesStatus;
  note?: string;
}

export interface LivenessFinding {
  /** A vm that hung, or its host that died (rebooted, panicked, stopped answering) under the test. */
  kind: 'hang' | 'host';
  test: string;
  host: string;
  message: string;
}

export interface Comparison {
  /** The builds each side ran (its tests' builds); empty where results predate builds. */
  builds: { base: string[]; cand: string[] };
  /** Judged as an A/A comparison (asked for: both sides may run one build). */
  aa: boolean;
  parameters: StatParameters;
  familyWise: GateConfig['familyWise'];
  series: SeriesVerdict[];
  /** Hangs, blocked write locks and host deaths in the candidate: each fails the gate. */
  liveness: LivenessFinding[];
  /** What each side exposed its hosts to, and its hangs and host deaths (verdict/exposure.ts). */
  exposure?: { base: SideExposure; cand: SideExposure };
  warnings: string[];
  regressed: boolean;
  /** Series significant and past the threshold, before the consistency filter (see inDoubt). */
  flagged: SeriesVerdict[];
}

/**
 * Why a comparison cannot give a verdict, if it cannot: no series was tested
 * (none in common, or too few tests a side) and nothing hung. Passing then
 * would let anything in.
 */
export function untestable(c: Comparison): string | undefined {
  // Both sides on one build: the change a gate asks about is not there (a BE that did not activate, a run forgotten).
  if (!c.aa && sameBuilds(c.builds)) return `both sides ran the same build (${c.builds.base.join(', ')}): that is an A/A comparison, not a gate (--aa judges it as one)`;
  if (c.liveness.length || c.series.some((v) => v.pValue !== undefined)) return undefined;
  const few = c.series.filter((v) => v.status === 'insufficient');
  if (few.length) return `no series could be tested: ${few[0].note}`;
  return 'the two sides have no series in common';
}

export const seriesId = (k: SeriesKey): string => [k.suite, k.guest, k.metric, k.dose, k.direction].filter(Boolean).join(' · ');
const groupId = (k: SeriesKey): string => [k.suite, k.metric, k.dose].filter(Boolean).join(' · ');

interface Collected {
  key: SeriesKey;
  unit: string;
  better: Better;
  values: number[];
  /** Each value's boot (TestResult.boot), where the tests ran in a gate across boots. */
  boots: Array<number | undefined>;
}

/** One sample per test per series: the mean of the test's values of that metric and dims. */
export function collectSeries(tests: readonly TestResult[]): Map<string, Collected> {
  const series = new Map<string, Collected>();
  for (const t of tests) {
    const perTest = new Map<string, { c: Omit<Collected, 'values' | 'boots'>; values: number[] }>();
    for (const m of t.metrics ?? []) {
      const key: SeriesKey = { suite: t.suite, guest: t.guest, metric: m.metric, ...(m.dims.dose ? { dose: m.dims.dose } : {}), ...(m.dims.direction ? { direction: m.dims.direction } : {}) };
      const id = seriesId(key);
      const entry = perTest.get(id) ?? { c: { key, unit: m.unit, better: m.better }, values: [] };
      entry.values.push(m.value);
      perTest.set(id, entry);
    }
    for (const [id, { c, values }] of perTest) {
      const s = series.get(id) ?? { ...c, values: [], boots: [] };
      s.values.push(mean(values));
      s.boots.push(t.boot);
      series.set(id, s);
    }
  }
  return series;
}

/**
 * The flagged series whose verdict is still in doubt: their bootstrap interval
 * reaches back under the noise threshold. A gate runs more iterations only for
 * these; a regression whose whole interval is past the threshold (a lock that
 * halves throughput) is decided, and confirming it again would only cost time.
 */
export function inDoubt(c: Comparison): SeriesVerdict[] {
  return c.flagged.filter((v) => {
    if (!v.interval) return true;
    const [lo, hi] = v.interval;
    const leastWorse = v.better === 'higher' ? -hi : lo;
    return leastWorse <= v.noiseThreshold;
  });
}

/** A hang or a blocked write lock, from a test's checks and error. */
export function livenessFailures(tests: readonly TestResult[]): LivenessFinding[] {
  const out: LivenessFinding[] = [];
  for (const t of tests) {
    const failed = t.checks.filter((c) => c.status === 'failed' && (c.kind === 'liveness' || c.type === 'HangDetected'));
    const kind = t.hostDeath || failed.some((c) => c.type === 'HostDied') ? 'host' : 'hang';
    if (failed.length) out.push({ kind, test: t.id, host: t.host, message: failed.map((c) => c.message ?? c.name).join('; ') });
    else if (t.error?.type === 'HangDetected') out.push({ kind, test: t.id, host: t.host, message: t.error.message });
  }
  return out;
}

export interface CompareOptions {
  gate: GateConfig;
  /** Bootstrap intervals for the report (default true); the gate's verdict does not use them. */
  intervals?: boolean;
  /** An A/A comparison was asked for: both sides running one build is no reason to refuse a verdict. */
  aa?: boolean;
}

/** The builds a side's tests ran, sorted. */
export const buildsOf = (runs: readonly RunResult[]): string[] => [...new Set(runs.flatMap((r) => r.tests.flatMap((t) => (t.build ? [t.build] : []))))].sort();

/** Both sides known, and the same builds. */
export const sameBuilds = (b: Comparison['builds']): boolean =>
  b.base.length > 0 && b.base.length === b.cand.length && b.base.every((x, i) => x === b.cand[i]);

const summary = (values: number[]): SideSummary => ({ n: values.length, mean: values.length ? mean(values) : Number.NaN, cv: coefficientOfVariation(values), values });

/** The config's ignore rule that covers a series, if one does. */
export const ignoreRuleFor = (gate: GateConfig, k: SeriesKey) =>
  gate.ignore.find((rule) => rule.metric === k.metric && (!rule.suite || rule.suite === k.suite) && (!rule.guest || rule.guest === k.guest) && (!rule.dose || rule.dose === k.dose));

export function compareRuns(base: readonly RunResult[], cand: readonly RunResult[], { gate, intervals = true, aa = false }: CompareOptions): Comparison {
  const parameters: StatParameters = { ...DEFAULT_STAT_PARAMETERS, significance: gate.significance, noiseThreshold: gate.noiseThreshold, resamples: gate.resamples, seed: gate.seed };
  const baseSeries = collectSeries(base.flatMap((r) => r.tests));
  const candSeries = collectSeries(cand.flatMap((r) => r.tests));
  const warnings = fingerprintWarnings(base, cand);

  const verdicts: SeriesVerdict[] = [];
  for (const id of [...new Set([...baseSeries.keys(), ...candSeries.keys()])].sort()) {
    const b = baseSeries.get(id);
    const c = candSeries.get(id);
    const info = (b ?? c)!;
    const override = gate.overrides[info.key.metric] ?? {};
    const significance = override.significance ?? parameters.significance;
    const noiseThreshold = override.noiseThreshold ?? parameters.noiseThreshold;
    // Across boots, a boot's tests share it: one sample a boot (its tests' mean), unless calibration said boots do not matter.
    const booted = b !== undefined && c !== undefined && [b, c].every((x) => x.boots.every((n) => n !== undefined) && new Set(x.boots).size >= 2);
    const unit = gate.bootUnit;
    const samples = (x?: Collected) => (!x ? [] : booted && unit === 'boot' ? bootMeans(x.values, x.boots as number[]) : x.values);
    const base1 = summary(samples(b));
    const cand1 = summary(samples(c));
    const change = (cand1.mean - base1.mean) / base1.mean;
    const worse = info.better === 'higher' ? -change : change;
    const v: SeriesVerdict = {
      id, key: info.key, unit: info.unit, better: info.better, base: base1, cand: cand1, change, worse, significance, noiseThreshold, status: 'ok',
      ...(booted ? { boots: { unit, base: bootVariance(b!.values, b!.boots as number[]), cand: bootVariance(c!.values, c!.boots as number[]) } } : {}),
    };
    verdicts.push(v);
    const ignored = ignoreRuleFor(gate, info.key);
    if (ignored) {
      v.status = 'ignored';
      v.note = ignored.reason;
    } else if (!b || !c) {
      v.status = 'missing';
      v.note = `measured only in the ${b ? 'baseline' : 'candidate'}`;
    } else if (base1.n < 2 || cand1.n < 2 || smallestPValue(base1.n, cand1.n) >= significance) {
      v.status = 'insufficient';
      v.note = booted && unit === 'boot'
        ? `${base1.n} against ${cand1.n} boots cannot reach p < ${significance} (a permutation over boot means: 1/C(2b, b) at best); boot more (--boots)`
        : `${base1.n} against ${cand1.n} samples cannot reach p < ${significance}; repeat each test more (--repeat-each)`;
    } else {
      // Seeded per series, so adding a series does not change another's p-value.
      const seed = parameters.seed + hash(id);
      const p = permutationTest(base1.values, cand1.values, { resamples: parameters.resamples, seed, alternative: info.better === 'higher' ? 'less' : 'greater' });
      v.pValue = p.pValue;
      v.exact = p.exact;
      v.significant = p.pValue < significance;
      if (intervals) v.interval = bootstrapRelativeChange(base1.values, cand1.values, { resamples: parameters.bootstrapResamples, confidence: parameters.confidence, seed });
    }
  }

  // Family-wise control: with many series, some A/A series fall under p < 0.01 by chance alone.
  const tested = verdicts.filter((v) => v.pValue !== undefined);
  if (gate.familyWise === 'holm') holm(tested);
  const flagged = tested.filter((v) => v.significant && v.worse > v.noiseThreshold);
  // The consistency filter, per group of series (a metric and dose across guests and directions).
  for (const v of flagged) {
    const group = tested.filter((o) => groupId(o.key) === groupId(v.key));
    const significant = group.filter((o) => o.significant);
    const overAll = mean(group.map((o) => o.worse));
    const overSignificant = mean(significant.map((o) => o.worse));
    if (overAll > v.noiseThreshold && overSignificant > v.noiseThreshold) {
      v.status = 'regressed';
    } else {
      v.status = 'inconsistent';
      v.note = `its group (${groupId(v.key)}, ${group.length} series) changes by ${pct(-overAll)} on average: not consistent`;
    }
  }

  const liveness = livenessFailures(cand.flatMap((r) => r.tests));
  const errored = cand.flatMap((r) => r.tests).filter((t) => t.status === 'error');
  if (errored.length) warnings.push(`${errored.length} candidate test(s) ended in an infrastructure error and gave fewer samples: ${errored.map((t) => t.id).join(', ')}`);
  const builds = { base: buildsOf(base), cand: buildsOf(cand) };
  if (builds.base.length > 1 || builds.cand.length > 1) warnings.push(`a side ran several builds (baseline: ${builds.base.join(', ') || 'unknown'}; candidate: ${builds.cand.join(', ') || 'unknown'}): its tests are pooled across them`);
  const exposure = { base: exposureOf(base.flatMap((r) => r.tests)), cand: exposureOf(cand.flatMap((r) => r.tests)) };
  return { builds, aa, parameters, familyWise: gate.familyWise, series: verdicts, liveness, exposure, warnings, regressed: liveness.length > 0 || verdicts.some((v) => v.status === 'regressed'), flagged };
}

/**
 * Holm–Bonferroni step-down over the tested series: the smallest p is held to
 * significance/m, the next to significance/(m − 1), … and the first that
 * misses its level ends the significant ones. The chance that an A/A
 * comparison has any significant series stays below the significance level,
 * however many series the gate holds.
 */
function holm(tested: SeriesVerdict[]): void {
  const order = [...tested].sort((a, b) => a.pValue! - b.pValue!);
  let open = true;
  order.forEach((v, i) => {
    v.level = v.significance / (order.length - i);
    open &&= v.pValue! < v.level;
    v.significant = open;
  });
}

/** Host fingerprints that differ between the two sides, by host name (and across sides when the names differ, as in an A/B of two hosts). */
function fingerprintWarnings(base: readonly RunResult[], cand: readonly RunResult[]): string[] {
  const prints = (runs: readonly RunResult[]) => {
    const m = new Map<string, Record<string, string>>();
    for (const r of runs) for (const h of r.hosts) if (h.fingerprint) m.set(h.name, h.fingerprint);
    return m;
  };
  const b = prints(base);
  const c = prints(cand);
  const out: string[] = [];
  for (const [name, fb] of b) {
    for (const [cname, fc] of c) {
      if (b.has(cname) && cname !== name) continue; // compare a host with itself when both sides have it
      const diff = Object.keys({ ...fb, ...fc }).filter((k) => fb[k] !== fc[k]);
      if (diff.length) out.push(`host fingerprints differ (baseline ${name}, candidate ${cname}): ${diff.map((k) => `${k}: ${JSON.stringify(fb[k] ?? null)} → ${JSON.stringify(fc[k] ?? null)}`).join('; ')}`);
    }
  }
  return out;
}

/** A small stable string hash (FNV-1a), to derive a series' seed from its id. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
