// How a suite is written: a name, the guests and capabilities it needs, and a
// body that reads like the engineer's notes of the test.
import type { Capability } from './platform/capabilities.ts';
import type { GuestOs } from './guest/adapter.ts';
import type { Host } from './host.ts';
import type { Timeline } from './timeline.ts';
import type { Checks } from './verdict/checks.ts';
import type { MetricDefinition, Metrics } from './verdict/metrics.ts';
import type { Vm } from './vm.ts';
import type { WrlockHammer } from './disturbance/wrlock-hammer.ts';
import type { LivenessWatch } from './watch/liveness.ts';

/** Thresholds in ms, resolved from config and profile. */
export interface ResolvedThresholds {
  bootReadyMs: number;
  rebootReadyMs: number;
  commandMs: number;
  osUpdateMs: number;
  wrlockCycleMs: number;
  wedgeGraceMs: number;
  hostUnresponsiveMs: number;
  hostReturnMs: number;
  crashRecordWaitMs: number;
  /** A host lease not renewed for this long is stale (run/host-leases.ts). */
  leaseStaleMs: number;
  heartbeatGapMs: number;
  heartbeatIntervalMs: number;
  reboots: number;
  upBetweenRebootsMs: number;
  throughputUnderHammer: number;
  zeroThroughputRunMs: number;
  recovery: number;
  recoveryWithinMs: number;
  iperfPhaseMs: number;
  lightRate: number;
  /** wrlock-dose's hammer rates, cycles per second, in order; 'max' is flat out. */
  doseLadder: ReadonlyArray<number | 'max'>;
}

export interface SuiteContext {
  vm: Vm;
  host: Host;
  check: Checks;
  /** The numbers compare and the gate read: one value per metric and dose per test. */
  metrics: Metrics;
  timeline: Timeline;
  thresholds: ResolvedThresholds;
  /** The write-lock hammer on this vm's host (needs: ['wrlock']). */
  hammer: WrlockHammer;
  /** The liveness watches (guest heartbeat, vCPU progress); a gap past the threshold ends the test as a hang. */
  liveness: LivenessWatch;
  /** Progress lines for the live reporter and the test log. */
  log: (line: string) => void;
  /** Keeps a text (a workload's raw output) with the test: a file in its report folder, listed in results and JUnit. */
  attach: (name: string, content: string) => void;
}

export interface SuiteDefinition {
  name: string;
  /** One line for `list` and reports. */
  description: string;
  /** Guest OS families the suite runs on. */
  guests: readonly GuestOs[];
  /**
   * Host capabilities the suite needs (platform/capabilities.ts: wrlock,
   * vcpu-stats, framebuffer, links); a host without them skips the test with
   * the reason its probe gave.
   */
  needs: ReadonlyArray<Capability>;
  /**
   * A measurement suite has the host to itself (all its slots): a neighbour vm
   * on the same CPUs would be part of what it measures. On the lab at
   * capacity 2, sharing tripled the run-to-run noise of iperf3 throughput.
   */
  exclusive?: boolean;
  /**
   * The suite's own metrics, beside the built-in ones (verdict/metrics.ts
   * METRICS): name → unit, which way is better, one line of what. What it
   * records under them the gate, history, calibrate, JUnit and the report
   * treat as the built-in ones; recording a metric neither built in nor
   * declared here is an error naming the suite and the metric.
   */
  metrics?: Readonly<Record<string, MetricDefinition>>;
  run(ctx: SuiteContext): Promise<void>;
}

export const suite = (definition: SuiteDefinition): SuiteDefinition => definition;
