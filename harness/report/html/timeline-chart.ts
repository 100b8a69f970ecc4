// A test's timeline as the report charts it: samples put into time bins on
// one axis (seconds since the test started), so iperf3 intervals, write-lock
// cycles, heartbeats and events line up. Binning keeps the report small: a
// hammer makes thousands of cycles a minute, the chart needs their rate and
// spread per bin, not each one.
import { percentile } from '../../verdict/latency.ts';
import type { TestResult } from '../results.ts';

export interface ChartEvent {
  /** seconds since the test started */
  t: number;
  kind: string;
  detail?: string;
}

export interface TimelineChart {
  /** Bin width in seconds. */
  bin: number;
  /** Bin starts, seconds since the test started. */
  x: number[];
  /** iperf3 throughput, Mbit/s (mean of the intervals ending in the bin). */
  throughput: Array<number | null>;
  /** Write-lock cycles started per second while the hammer ran; null while it did not. */
  wrlockRate: Array<number | null>;
  /** Median and longest write-lock cycle in the bin, ms. */
  wrlockP50: Array<number | null>;
  wrlockMax: Array<number | null>;
  /** Longest silence between guest heartbeats ending in the bin, s (a hang shows as a gap to the hang). */
  heartbeatGap: Array<number | null>;
  events: ChartEvent[];
}

/** At most this many bins a chart: a long test gets wider bins. */
const MAX_BINS = 600;

export function chartOf(test: Pick<TestResult, 'startedAt' | 'durationMs' | 'timeline'>): TimelineChart | undefined {
  const { samples, events } = test.timeline;
  if (samples.length === 0) return undefined;
  const t0 = Math.min(Date.parse(test.startedAt), ...events.map((e) => e.t), ...samples.map((s) => s.t));
  const end = Math.max(t0 + test.durationMs, ...events.map((e) => e.t), ...samples.map((s) => s.t));
  const seconds = (t: number) => (t - t0) / 1000;
  const span = seconds(end);
  const bin = Math.max(1, Math.ceil(span / MAX_BINS));
  const n = Math.floor(span / bin) + 1;
  const at = (t: number) => Math.min(n - 1, Math.floor(seconds(t) / bin));
  const groups = (series: string) => {
    const g: number[][] = Array.from({ length: n }, () => []);
    for (const s of samples) if (s.series === series) g[at(s.t)].push(s.value);
    return g;
  };

  const throughput = groups('iperf3.mbps').map((v) => (v.length ? round(v.reduce((a, b) => a + b, 0) / v.length) : null));
  const cycles = groups('wrlock.latency_ms');
  const hammering = hammerBins(events, n, at);
  const wrlockRate = cycles.map((v, i) => (hammering[i] || v.length ? round(v.length / bin) : null));
  // The same nearest-rank p50 as the suites' write-lock checks and metrics.
  const wrlockP50 = cycles.map((v) => (v.length ? round(percentile(v, 50)) : null));
  const wrlockMax = cycles.map((v) => (v.length ? round(Math.max(...v)) : null));

  // A heartbeat's gap is the time since the one before, while the watch was
  // armed (a reboot pauses it); a hang adds the gap up to its detection.
  const pauses = events.filter((e) => e.kind === 'heartbeat-paused' || e.kind === 'heartbeat-armed').map((e) => e.t);
  const beats = samples.filter((s) => s.series === 'heartbeat.uptime_s').map((s) => s.t);
  const heartbeatGap: Array<number | null> = Array(n).fill(null);
  const gapAt = (t: number, gap: number) => {
    const i = at(t);
    heartbeatGap[i] = Math.max(heartbeatGap[i] ?? 0, round(gap / 1000));
  };
  beats.forEach((t, i) => i > 0 && !pauses.some((p) => p > beats[i - 1] && p <= t) && gapAt(t, t - beats[i - 1]));
  const hang = events.find((e) => e.kind === 'hang-detected');
  if (hang && beats.length && hang.t > beats.at(-1)!) gapAt(hang.t, hang.t - beats.at(-1)!);

  return {
    bin,
    x: Array.from({ length: n }, (_, i) => i * bin),
    throughput, wrlockRate, wrlockP50, wrlockMax, heartbeatGap,
    events: events.map((e) => ({ t: round(seconds(e.t)), kind: e.kind, ...(e.detail !== undefined ? { detail: e.detail } : {}) })),
  };
}

/** Which bins the hammer ran in (between hammer-start and hammer-stop; to the end when it never stopped). */
function hammerBins(events: TestResult['timeline']['events'], n: number, at: (t: number) => number): boolean[] {
  const on = Array<boolean>(n).fill(false);
  let from: number | undefined;
  for (const e of events) {
    if (e.kind === 'hammer-start') from = at(e.t);
    if (e.kind === 'hammer-stop' && from !== undefined) {
      for (let i = from; i <= at(e.t); i++) on[i] = true;
      from = undefined;
    }
  }
  if (from !== undefined) for (let i = from; i < n; i++) on[i] = true;
  return on;
}

const round = (x: number) => Math.round(x * 1000) / 1000;
