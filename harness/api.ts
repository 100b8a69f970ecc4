// What a suite outside the package may use, under a stable entry point:
// `import { suite, bringUp } from 'bhyve-smoke/suite'` (or 'bhyve-smoke').
// docs/writing-suites.md walks through it; its example is run by the tests.
// Anything not exported here is the harness's own and may change.

// The definition and what a suite's body receives.
export { suite, type SuiteDefinition, type SuiteContext, type ResolvedThresholds } from './suite.ts';
// Steps the package's suites are made of: boot and log in, look around, time a step into a metric, judge the hammer and the watches.
export { bringUp, judgeHammer, judgeLiveness, lookAround, timed } from './steps.ts';
// Checks and metrics (ctx.check, ctx.metrics).
export type { Checks, CheckResult } from './verdict/checks.ts';
export { METRICS, type MetricName, type MetricDims, type Metrics } from './verdict/metrics.ts';
// The vm, its host (host.$ runs zx on the host, over the same transport), the hammer, the watches.
export type { Vm } from './vm.ts';
export type { Host } from './host.ts';
export type { WrlockHammer, HammerSummary } from './disturbance/wrlock-hammer.ts';
export type { LivenessWatch } from './watch/liveness.ts';
export type { Timeline } from './timeline.ts';
// Workloads.
export { Iperf3, longestZeroRun, type Iperf3Interval, type Iperf3Result } from './workload/iperf3.ts';
export { formatDuration, parseDuration } from './duration.ts';
// Errors a suite may throw: a finding (a failed check) or the harness's trouble.
export { CheckFailure, InfraError } from './errors.ts';
// The config, typed: bhyve-smoke.config.ts → export default defineConfig({...}).
export { defineConfig, type ConfigInput } from './config/schema.ts';
