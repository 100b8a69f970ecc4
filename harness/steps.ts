// Steps several suites share, each a check (or a few) in the test's notes.
import type { HammerSummary } from './disturbance/wrlock-hammer.ts';
import { formatDuration } from './duration.ts';
import type { SuiteContext } from './suite.ts';
import { percentile } from './verdict/latency.ts';
import type { MetricDims, MetricName, Metrics } from './verdict/metrics.ts';
import { judgeRecovery } from './verdict/recovery.ts';
import type { Iperf3Result } from './workload/iperf3.ts';

/** Runs a step and records how long it took (when it succeeded) as a metric. */
export async function timed<T>(metrics: Metrics, metric: MetricName, fn: () => Promise<T>, dims?: MetricDims): Promise<T> {
  const started = Date.now();
  const value = await fn();
  metrics.record(metric, Date.now() - started, dims);
  return value;
}

/** Provision the vm, boot it to its login prompt within the threshold, log in. */
export async function bringUp({ vm, check, metrics, thresholds: t }: SuiteContext): Promise<void> {
  await check.step('provisions under the supervisor', () => vm.provision());
  await timed(metrics, 'boot-time', () => check.step('boots to a login prompt', () => vm.waitReady(t.bootReadyMs), t.bootReadyMs));
  await check.step('logs in on the serial console', () => vm.login());
}

/** Look around a logged-in guest: kernel, uptime, network up, boot disk readable. */
export async function lookAround({ vm, check, thresholds: t }: SuiteContext, when = ''): Promise<void> {
  const probes = vm.probes;
  const suffix = when && ` ${when}`;
  check.match(`kernel answers uname${suffix}`, (await vm.run(probes.kernel)).output, /^(Linux|FreeBSD|Microsoft Windows) \S+/);
  const uptime = Number((await vm.run(probes.uptimeSeconds)).output.trim());
  check.that(`uptime is a plausible number of seconds${suffix}`, uptime > 0 && uptime < 24 * 3600, { measured: `${uptime} s`, threshold: '0 < uptime < 1 day' });
  // The link may come up a moment after the login prompt: give it the command threshold.
  const interfaces = (await vm.poll(probes.interfaces, /^\S+ up$/m, t.commandMs)).trim();
  check.that(`a network interface is up${suffix}`, /^\S+ up$/m.test(interfaces), { measured: interfaces || '(no interfaces)', threshold: 'one interface up' });
  check.match(`the boot disk is readable${suffix}`, (await vm.run(probes.diskRead)).output, /^\s*4096\s*$/);
}

/**
 * What every hammered test asserts of the hammer: it ran, no cycle failed,
 * cycles were quick, as the hammer times them (round trip) and, where the host
 * can trace, as its kernel does (p50/p99 of each recorded).
 */
export function judgeHammer({ check, metrics, thresholds: t }: SuiteContext, h: HammerSummary): void {
  // A hammer that timed no cycle has no latency to give: its check below fails, and no metric is made up.
  if (h.latenciesMs.length) {
    metrics.record('wrlock-cycle-p50', percentile(h.latenciesMs, 50));
    metrics.record('wrlock-cycle-p99', percentile(h.latenciesMs, 99));
  }
  judgeKernelHold(check, metrics, t.wrlockCycleMs, h);
  check.that('the hammer ran write-lock cycles throughout', h.cycles > 0 && h.failed === 0, {
    measured: `${h.cycles} cycles, ${h.failed} failed${h.failed ? ` (${Object.entries(h.failures).map(([why, n]) => `${why} ×${n}`).join(', ')})` : ''}`,
    threshold: '> 0 cycles, none failed',
  });
  check.that('write-lock cycle latency p99', percentile(h.latenciesMs, 99) <= t.wrlockCycleMs, {
    measured: `round trip: p50 ${formatDuration(percentile(h.latenciesMs, 50))}, p99 ${formatDuration(percentile(h.latenciesMs, 99))}, ${h.cycles} cycles (bhyvectl from start to exit, as the hammer sees it)`,
    threshold: `p99 <= ${formatDuration(t.wrlockCycleMs)}`,
  });
}

/**
 * The cycles as the kernel timed them: the hold metrics and their check, or
 * the check skipped with why the host could not trace (no DTrace, no
 * privileges, the tracer failed). Traced cycles are counted against the
 * hammer's: a tracer that saw few of them is said.
 */
function judgeKernelHold(check: SuiteContext['check'], metrics: Metrics, limitMs: number, h: HammerSummary): void {
  const name = 'write-lock cycle in the kernel p99';
  const k = h.kernel;
  if ('off' in k) return check.skip(name, `not timed in the kernel: ${k.off}`);
  if (!k.latenciesUs.length) return check.skip(name, `the tracer timed none of ${h.cycles} cycles${k.failed ? ` (${k.failed})` : ''}`);
  const p50 = percentile(k.latenciesUs, 50);
  const p99 = percentile(k.latenciesUs, 99);
  metrics.record('wrlock-hold-p50', p50);
  metrics.record('wrlock-hold-p99', p99);
  const us = (x: number) => (x < 10_000 ? `${x.toFixed(0)} µs` : formatDuration(x / 1000));
  const notes = [
    `${k.latenciesUs.length} of ${h.cycles} cycles traced`,
    ...(k.failed ? [k.failed] : []),
    ...k.said.filter((l) => /drop/.test(l)).slice(0, 3),
  ];
  check.that(name, p99 <= limitMs * 1000, {
    measured: `p50 ${us(p50)}, p99 ${us(p99)}; ${notes.join('; ')} — ${k.timing}`,
    threshold: `p99 <= ${formatDuration(limitMs)}`,
  });
}

/** The longest silences while the liveness watches were armed: the guest's heartbeat and its vCPUs' progress. */
export function judgeLiveness({ check, liveness, thresholds: t }: SuiteContext, when = ''): void {
  const threshold = `<= ${formatDuration(t.heartbeatGapMs)}`;
  check.that(`heartbeat gaps${when && ` ${when}`}`, liveness.heartbeat.maxGapMs <= t.heartbeatGapMs, { measured: formatDuration(liveness.heartbeat.maxGapMs), threshold, kind: 'liveness' });
  // A host without vCPU counters has no such watch: the check is skipped with the reason, never made up.
  const name = `vCPU progress stalls${when && ` ${when}`}`;
  const { vcpus } = liveness;
  if (!vcpus || vcpus.off) check.skip(name, vcpus?.off ?? liveness.vcpusOff ?? 'no vCPU progress watch');
  else check.that(name, vcpus.maxStallMs <= t.heartbeatGapMs, { measured: formatDuration(vcpus.maxStallMs), threshold, kind: 'liveness' });
}

/** The recovery check of a hammered iperf3 test (verdict/recovery.ts): its two phases' intervals against thresholds.recovery within recoveryWithin. */
export function judgeRecoveryPhase({ check, thresholds: t }: SuiteContext, name: string, unstressed: Iperf3Result, recovery: Iperf3Result): void {
  const v = judgeRecovery(unstressed.intervals.map((i) => i.mbps), recovery.intervals.map((i) => i.mbps), { level: t.recovery, withinMs: t.recoveryWithinMs });
  check.that(name, v.ok, { measured: v.measured, threshold: v.threshold });
}
