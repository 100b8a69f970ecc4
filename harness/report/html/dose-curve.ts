// The dose-response curve of a wrlock-dose test, from its metrics: per step
// of the ladder, the rate the hammer reached, throughput over the unstressed
// phase, and cycle latency p50/p99. client.js draws it on a log rate axis.
import { mean, sampleStandardDeviation } from 'simple-statistics';
import type { TestResult } from '../results.ts';

export interface DoseCurve {
  dose: string[];
  rate: number[];
  ratio: Array<number | null>;
  p50: Array<number | null>;
  p99: Array<number | null>;
  threshold?: number;
}

export function doseCurveOf(t: TestResult, threshold?: number): DoseCurve | undefined {
  const rates = (t.metrics ?? []).filter((m) => m.metric === 'wrlock-cycle-rate' && m.dims.dose);
  if (!rates.length) return undefined;
  const at = (metric: string, dose: string) => t.metrics!.find((m) => m.metric === metric && m.dims.dose === dose)?.value ?? null;
  const steps = rates.map((r) => r.dims.dose!).sort((a, b) => at('wrlock-cycle-rate', a)! - at('wrlock-cycle-rate', b)!);
  return {
    dose: steps,
    rate: steps.map((d) => Math.max(0.01, at('wrlock-cycle-rate', d)!)),
    ratio: steps.map((d) => at('throughput-ratio', d)),
    p50: steps.map((d) => at('wrlock-cycle-p50', d)),
    p99: steps.map((d) => at('wrlock-cycle-p99', d)),
    ...(threshold !== undefined ? { threshold } : {}),
  };
}

/** One side's curve in a comparison: per step, the mean rate reached and the mean ratio with its 95% interval. */
export interface DoseSide {
  rate: number[];
  mean: Array<number | null>;
  low: Array<number | null>;
  high: Array<number | null>;
}

export interface DoseOverlay {
  title: string;
  dose: string[];
  base: DoseSide;
  cand: DoseSide;
}

/** 95% interval of a mean (normal approximation; the gate's own interval is of the change, in the table). */
function meanInterval(values: readonly number[]): [number, number, number] | undefined {
  if (!values.length) return undefined;
  const m = mean([...values]);
  const sd = values.length > 1 ? sampleStandardDeviation([...values]) : 0;
  const half = (1.96 * sd) / Math.sqrt(values.length);
  return [m, m - half, m + half];
}

/**
 * Baseline and candidate dose-response curves of each wrlock-dose series
 * group in a comparison (suite, guest, direction): one point per step, the
 * throughput ratio's mean and interval, at the rate each side reached.
 */
export function doseOverlays(series: ReadonlyArray<{ key: { suite: string; guest: string; metric: string; dose?: string; direction?: string }; base: { values: number[] }; cand: { values: number[] } }>): DoseOverlay[] {
  const rates = series.filter((v) => v.key.metric === 'wrlock-cycle-rate' && v.key.dose);
  const groups = new Map<string, typeof rates>();
  for (const r of rates) groups.set(`${r.key.suite} · ${r.key.guest}`, [...(groups.get(`${r.key.suite} · ${r.key.guest}`) ?? []), r]);
  const out: DoseOverlay[] = [];
  for (const [title, steps] of groups) {
    const ratioOf = (dose: string) => series.find((v) => `${v.key.suite} · ${v.key.guest}` === title && v.key.metric === 'throughput-ratio' && v.key.dose === dose);
    const ordered = steps.filter((s) => ratioOf(s.key.dose!)).sort((a, b) => (meanInterval(a.base.values)?.[0] ?? 0) - (meanInterval(b.base.values)?.[0] ?? 0));
    if (!ordered.length) continue;
    const side = (which: 'base' | 'cand'): DoseSide => {
      const ratio = ordered.map((s) => meanInterval(ratioOf(s.key.dose!)![which].values));
      return {
        rate: ordered.map((s) => Math.max(0.01, meanInterval(s[which].values)?.[0] ?? 0.01)),
        mean: ratio.map((r) => r?.[0] ?? null), low: ratio.map((r) => r?.[1] ?? null), high: ratio.map((r) => r?.[2] ?? null),
      };
    };
    out.push({ title, dose: ordered.map((s) => s.key.dose!), base: side('base'), cand: side('cand') });
  }
  return out;
}
