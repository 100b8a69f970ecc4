// Metrics: the numbers a test measures for comparison across runs — one value
// per test, because the run (its boot, its moment on the host) is the unit of
// noise, not the one-second interval. compare keys each metric into a series
// by its dimensions (suite, guest, dose, direction) and tests baseline against
// candidate.
import { ConfigError, InfraError } from '../errors.ts';

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
  'wrlock-cycle-p50': { unit: 'ms', better: 'lower', description: 'median write-lock cycle latency, round trip: the hammer\'s bhyvectl from start to exit, as its lines arrive over the host session' },
  'wrlock-cycle-p99': { unit: 'ms', better: 'lower', description: '99th percentile write-lock cycle latency, round trip (as wrlock-cycle-p50)' },
  'wrlock-hold-p50': { unit: 'µs', better: 'lower', description: 'median write-lock cycle in the kernel: the VM_WRLOCK_CYCLE ioctl from entry to return (DTrace on illumos; the lab\'s bhyvectl clock); only where the host has the wrlock-trace capability' },
  'wrlock-hold-p99': { unit: 'µs', better: 'lower', description: '99th percentile write-lock cycle in the kernel (as wrlock-hold-p50)' },
  'boot-time': { unit: 'ms', better: 'lower', description: 'power-on to a login prompt' },
  'reboot-time': { unit: 'ms', better: 'lower', description: 'reboot request to a login prompt (mean over the test\'s reboots)' },
  'update-time': { unit: 'ms', better: 'lower', description: 'the OS update run to completion' },
  'dose-knee': { unit: 'cycles/s', better: 'higher', description: 'the lowest hammer rate at which throughput falls below throughputUnderHammer (wrlock-dose; the highest rate reached when it never does)' },
  'wrlock-cycle-rate': { unit: 'cycles/s', better: 'higher', description: 'write-lock cycles the hammer completed per second at a dose (wrlock-dose)' },
} as const satisfies Record<string, MetricDefinition>;

/** A built-in metric. */
export type BuiltInMetric = keyof typeof METRICS;
export const METRIC_NAMES = Object.keys(METRICS) as BuiltInMetric[];
/** A metric's name: a built-in one, or one a suite declares (SuiteDefinition.metrics). */
export type MetricName = BuiltInMetric | (string & {});

/** A name a suite may give a metric of its own: lower-case words joined by '-', not a built-in one's. */
export const OWN_METRIC_NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/**
 * A suite's own metrics, checked when the suite loads: each a name of its own
 * (no built-in one's), a unit, which way is better and a description.
 */
export function checkDeclaredMetrics(suite: string, source: string, declared: unknown): Record<string, MetricDefinition> {
  if (declared === undefined) return {};
  const where = `${source}: suite ${suite}: metrics`;
  if (typeof declared !== 'object' || declared === null || Array.isArray(declared)) throw new ConfigError(`${where}: expected an object of metric name → { unit, better, description }`);
  for (const [name, d] of Object.entries(declared as Record<string, Partial<MetricDefinition>>)) {
    if (!OWN_METRIC_NAME.test(name)) throw new ConfigError(`${where}.${name}: a metric name is lower-case words joined by "-" (e.g. guest-uptime)`);
    if ((METRIC_NAMES as string[]).includes(name)) throw new ConfigError(`${where}.${name}: a built-in metric of that name exists (${METRICS[name as BuiltInMetric].description}): record it as it is, or name yours otherwise`);
    if (typeof d?.unit !== 'string' || !d.unit) throw new ConfigError(`${where}.${name}.unit: a unit is required (e.g. "ms", "Mbit/s", "count")`);
    if (d.better !== 'higher' && d.better !== 'lower') throw new ConfigError(`${where}.${name}.better: "higher" or "lower", got ${JSON.stringify(d.better)}`);
    if (typeof d.description !== 'string' || !d.description) throw new ConfigError(`${where}.${name}.description: one line saying what is measured is required`);
  }
  return declared as Record<string, MetricDefinition>;
}

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

  /** `declared`: the suite's own metrics, beside the built-in ones; `suite` names it in errors. */
  constructor(private readonly declared: Readonly<Record<string, MetricDefinition>> = {}, private readonly suite?: string) {}

  record(metric: MetricName, value: number, dims: MetricDims = {}): void {
    const of = this.suite ? `suite ${this.suite}: ` : '';
    const definition = Object.hasOwn(this.declared, metric) ? this.declared[metric] : (METRICS as Record<string, MetricDefinition>)[metric];
    if (!definition) {
      throw new ConfigError(`${of}metric ${metric} is neither built in nor declared by the suite (its metrics: ${Object.keys(this.declared).join(', ') || 'none'}; built in: ${METRIC_NAMES.join(', ')})`);
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      const where = Object.entries(dims).map(([k, v]) => `${k} ${v}`).join(', ');
      throw new InfraError(`${of}metric ${metric}${where ? ` (${where})` : ''}: ${String(value)} is not a measurement (a finite number)`);
    }
    this.values.push({ metric, value, unit: definition.unit, better: definition.better, dims });
  }
}

/** The metric names a config's gate section may name: the built-in ones and every loaded suite's own. */
export const knownMetricNames = (suites: Iterable<{ metrics?: Record<string, MetricDefinition> }>): Set<string> =>
  new Set<string>([...METRIC_NAMES, ...[...suites].flatMap((s) => Object.keys(s.metrics ?? {}))]);
