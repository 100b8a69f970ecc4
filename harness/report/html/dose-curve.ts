// The dose-response curve of a wrlock-dose test, from its metrics: per step
// of the ladder, the rate the hammer reached, throughput over the unstressed
// phase, and cycle latency p50/p99. client.js draws it on a log rate axis.
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
