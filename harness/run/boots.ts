// A gate across boot environments on one host: for each boot, activate its
// boot environment, reboot the host, wait for it to come back, check that it
// booted that environment and that the environment's build is the one it
// booted before, then run the boot's tests. Boots alternate in a balanced
// order (A B B A A B …), so drift over the hours of a gate falls on both sides
// alike. Whatever happens — a failure, Ctrl-C — the host ends on the boot
// environment it ran when the gate began, booted into it again if need be.
// The gate holds the whole host for all of it (an exclusive lease, kept
// through the reboots): no other process starts a vm on a host whose boot
// environment is being switched under it.
import { InfraError, messageOf } from '../errors.ts';
import type { Host } from '../host.ts';
import { activateBootEnvironment, listBootEnvironments, runningAndNext } from '../host-life/boot-environments.ts';
import { buildId, readBuild } from '../host-life/build.ts';
import { rebootHost, waitUntilUp, type RebootBounds } from '../host-life/reboot.ts';
import type { StatusLine } from '../report/status-line.ts';
import type { BootRecord, RunResult } from '../report/results.ts';
import type { HostLeases, LeaseEntry } from './host-leases.ts';
import { LEASE_POLL_MS, leaseOutcome, sleep } from './placement.ts';

export type Side = BootRecord['side'];

/** How long restoring waits for a host that is still away (one that failed to come back in the gate's bound). */
const RESTORE_PATIENCE_MS = 20 * 60_000;

/** The sides of 2 × `boots` boots, A B B A A B B A …: every prefix of even length holds as many of each. */
export const bootOrder = (boots: number): Side[] =>
  Array.from({ length: 2 * boots }, (_, i) => (['baseline', 'candidate', 'candidate', 'baseline'] as const)[i % 4]);

export interface BootCycleOptions {
  host: Host;
  baseline: string;
  candidate: string;
  /** Boots a side. */
  boots: number;
  bounds: RebootBounds;
  status: StatusLine;
  /** Aborted by Ctrl-C: no further boot starts; the host is restored all the same. */
  signal: AbortSignal;
  /** Both sides may be one build (an A/A gate). */
  aa: boolean;
  /** The host's leases for this gate: it takes them all before the first boot and lets go after restoring. */
  lease: HostLeases;
  /** Fail at once when another process holds the host, instead of waiting (--no-wait). */
  noWait: boolean;
  /** Runs one boot's tests on the host as it now is. */
  runTests(boot: { index: number; be: string; side: Side; build: string; bootId: string }): Promise<RunResult>;
}

export interface BootCycle {
  runs: RunResult[];
  boots: BootRecord[];
  /** Why the cycle stopped before its last boot, if it did. */
  error?: unknown;
  /** What was done to leave the host as it was found, or why that failed. */
  restored: string;
  restoreError?: unknown;
}

/** Two boot environments on one build: the gate would compare a build with itself. */
export class SameBuild extends Error {
  override name = 'SameBuild';
}

export async function runAcrossBoots(o: BootCycleOptions): Promise<BootCycle> {
  const { host } = o;
  const held = await holdWholeHost(o);
  try {
    return await cycle(o);
  } finally {
    await o.lease.release(held).catch((e) => o.status.line(`the gate's lease on ${host.name} could not be released (it goes stale): ${messageOf(e).split('\n')[0]}`));
  }
}

/** The whole host, waited for (saying for whom) unless noWait; throws a HostBusy with the holder's name, or the abort's reason. */
async function holdWholeHost(o: BootCycleOptions): Promise<LeaseEntry[]> {
  const told = new Map<string, string>();
  for (;;) {
    const taken = leaseOutcome(o.host.name, await o.lease.take(1, true), { noWait: o.noWait, note: (line) => o.status.line(line), told, what: ' (the whole host, for every boot of the gate)' });
    if (taken) return taken;
    if (o.signal.aborted) throw o.signal.reason;
    await sleep(LEASE_POLL_MS, o.signal);
  }
}

async function cycle(o: BootCycleOptions): Promise<BootCycle> {
  const { host } = o;
  const start = runningAndNext(host.name, await listBootEnvironments(host));
  const runs: RunResult[] = [];
  const boots: BootRecord[] = [];
  const builds = new Map<string, string>();
  let error: unknown;
  try {
    for (const [index, side] of bootOrder(o.boots).entries()) {
      if (o.signal.aborted) break;
      const be = side === 'baseline' ? o.baseline : o.candidate;
      o.status.line(`boot ${index + 1} of ${2 * o.boots}: ${be} (${side}) on ${host.name}`);
      await activateBootEnvironment(host, be);
      const rebooted = await rebootHost(host, o.bounds, (line) => o.status.update(line));
      const running = runningAndNext(host.name, await listBootEnvironments(host)).running;
      if (running.name !== be) throw new InfraError(`host ${host.name} booted boot environment ${running.name}, not ${be} (activated before its reboot): this boot is no ${side} and counts for neither side`);
      const build = buildId(await readBuild(host));
      const before = builds.get(be);
      if (before !== undefined && before !== build) throw new InfraError(`host ${host.name}: boot environment ${be} booted build ${build}, where its first boot ran ${before}`);
      builds.set(be, build);
      const other = builds.get(be === o.baseline ? o.candidate : o.baseline);
      if (!o.aa && o.baseline !== o.candidate && other === build) {
        throw new SameBuild(`boot environments ${o.baseline} and ${o.candidate} run the same build (${build}): that is an A/A comparison, not a gate (--aa judges it as one)`);
      }
      o.status.line(`host ${host.name} runs ${be}: ${build}; boot id ${rebooted.after} (down after ${(rebooted.downMs / 1000).toFixed(1)} s, back after ${(rebooted.upMs / 1000).toFixed(1)} s)`);
      const startedAt = new Date().toISOString();
      const run = await o.runTests({ index, be, side, build, bootId: rebooted.after });
      runs.push(run);
      boots.push({ index, host: host.name, be, side, bootId: rebooted.after, build, downMs: rebooted.downMs, upMs: rebooted.upMs, startedAt, finishedAt: new Date().toISOString(), tests: run.tests.map((t) => t.id) });
      if (run.interrupted) break;
    }
  } catch (e) {
    error = e;
  }
  const { restored, restoreError } = await restore(o, start);
  return { runs, boots, ...(error !== undefined ? { error } : {}), restored, ...(restoreError !== undefined ? { restoreError } : {}) };
}

/** Back to the boot environment the host ran when the gate began (booted into it), and the one it was to boot next. */
async function restore(o: BootCycleOptions, start: ReturnType<typeof runningAndNext>): Promise<{ restored: string; restoreError?: unknown }> {
  const { host } = o;
  try {
    // A host that did not come back in time may still be booting: restoring it waits longer than a boot may take.
    await waitUntilUp(host, Math.max(o.bounds.upWithinMs, RESTORE_PATIENCE_MS), (line) => o.status.update(line));
    let now = runningAndNext(host.name, await listBootEnvironments(host));
    const done: string[] = [];
    if (now.running.name !== start.running.name) {
      o.status.line(`restoring ${host.name}: booting ${start.running.name} again, as when the gate began`);
      await activateBootEnvironment(host, start.running.name);
      await rebootHost(host, o.bounds, (line) => o.status.update(line));
      now = runningAndNext(host.name, await listBootEnvironments(host));
      if (now.running.name !== start.running.name) throw new InfraError(`host ${host.name} booted ${now.running.name}, not ${start.running.name}`);
      done.push(`booted ${start.running.name} again`);
    }
    if (now.next.name !== start.next.name) {
      await activateBootEnvironment(host, start.next.name);
      done.push(`activated ${start.next.name}`);
    }
    const restored = `host ${host.name} runs ${start.running.name}${start.next.name !== start.running.name ? ` and boots ${start.next.name} next` : ''}, as when the gate began${done.length ? ` (${done.join(', ')})` : ''}`;
    o.status.line(restored);
    return { restored };
  } catch (e) {
    return { restored: `host ${host.name} could not be restored to ${start.running.name}: ${messageOf(e).split('\n')[0]}`, restoreError: e };
  }
}
