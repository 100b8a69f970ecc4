// Metrics: the numbers a test measures for comparison across runs — one value
// per test, because the run (its boot, its moment on the host) is the unit of
// noise, not the one-second interval. compare keys each metric into a series
// by its dimensions (suite, guest, dose, direction) and tests baseline against
// candidate.
import { InfraError } from '../errors.ts';

export type Better = 'higher' | 'lower';

export interface MetricDefinition {
  unit: string;
  better: Better;
  description: string;
}

/** Every metric a suite may record. Config overrides and ignore lists are checked against these names. */
export const METRICS = {
  throughput: { unit: 'Mbit/s', better: 'higher', description: 'iperf3 mean over a phase (warm-up omitted)' },
  'throughput-ratio': { unit: 'ratio', better: 'higher', description: "a dose's throughput over the same test's unstressed phase (paired)" },
  'wrlock-cycle-p50': { unit: 'ms', better: 'lower', description: 'median write-lock cycle latency' },
  'wrlock-cycle-p99': { unit: 'ms', better: 'lower', description: '99th percentile write-lock cycle latency' },
  'boot-time': { unit: 'ms', better: 'lower', description: 'power-on to a login prompt' },
  'reboot-time': { unit: 'ms', better: 'lower', description: 'reboot request to a login prompt (mean over the test\'s reboots)' },
  'update-time': { unit: 'ms', better: 'lower', description: 'the OS update run to completion' },
  'dose-knee': { unit: 'cycles/s', better: 'higher', description: 'the lowest hammer rate at which throughput falls below throughputUnderHammer (wrlock-dose; the highest rate reached when it never does)' },
  'wrlock-cycle-rate': { unit: 'cycles/s', better: 'higher', description: 'write-lock cycles the hammer completed per second at a dose (wrlock-dose)' },
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof METRICS;
export const METRIC_NAMES = Object.keys(METRICS) as MetricName[];

/** Dimensions beyond suite and guest: the dose (phase) and the traffic direction. */
export type MetricDims = { dose?: string; direction?: string };

export interface MetricValue {
  metric: MetricName;
  value: number;
  unit: string;
  better: Better;
  dims: MetricDims;
}

/**
 * Collects a test's metrics. A metric recorded more than once with the same
 * dimensions (each reboot's time) contributes the mean of its values as the
 * test's one sample. A value that is not a finite number is a broken
 * measurement, never a silent gap: left out, the gate would call its series
 * "missing" and JUnit show it as skipped; it is an error naming the metric.
 */
export class Metrics {
  readonly values: MetricValue[] = [];

  record(metric: MetricName, value: number, dims: MetricDims = {}): void {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      const where = Object.entries(dims).map(([k, v]) => `${k} ${v}`).join(', ');
      throw new InfraError(`metric ${metric}${where ? ` (${where})` : ''}: ${String(value)} is not a measurement (a finite number)`);
    }
    const { unit, better } = METRICS[metric];
    this.values.push({ metric, value, unit, better, dims });
  }
}
