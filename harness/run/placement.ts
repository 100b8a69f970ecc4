// Where a test runs, across processes: a slot of this run (HostSlots, its own
// capacity bookkeeping), then the host's lease (run/host-leases.ts), which
// other processes reaching the same host respect too. A host another process
// holds is passed over for a free one of the test's candidates, else waited
// for, saying for whom — or, with --no-wait, not waited for at all.
import { InfraError } from '../errors.ts';
import { describeLease, entryName, type HostLeases, type LeaseEntry, type TakeResult } from './host-leases.ts';
import type { HostSlots } from './host-slots.ts';

/** How often a host another process holds is asked again. */
export const LEASE_POLL_MS = 2_000;

/** --no-wait and the host is held: the run starts nothing more. */
export class HostBusy extends InfraError {}

export interface Placement {
  host: string;
  /** The slots leased on it, given back with release(). */
  lease: LeaseEntry[];
}

export interface PlacementDeps {
  slots: HostSlots;
  leases: ReadonlyMap<string, HostLeases>;
  capacityOf: (host: string) => number;
  noWait: boolean;
  note: (line: string) => void;
  signal: AbortSignal;
  /** The holders last told per host, so a wait is said once per change of holder, not every poll. */
  told: Map<string, string>;
}

/**
 * What one try at a host's lease came to: the entries taken; or, held by
 * another process, undefined after saying for whom (once per holder) — or,
 * with noWait, a HostBusy naming them. Stale leases it broke are said.
 */
export function leaseOutcome(host: string, got: TakeResult, o: { noWait: boolean; note: (line: string) => void; told: Map<string, string>; what: string }): LeaseEntry[] | undefined {
  for (const b of got.broke) o.note(`host ${host}: broke a stale lease on ${entryName(b.slot)}, not renewed for ${b.ageS} s: ${describeLease(b)} (its run died; a vm it left is \`bhyve-smoke clean\`'s on the machine it ran on)`);
  if (got.taken) {
    o.told.delete(host);
    return got.taken;
  }
  const holders = got.heldBy.map(describeLease).join('; ');
  if (o.noWait) throw new HostBusy(`host ${host} is held by another process and --no-wait does not wait: ${holders}`);
  const key = got.heldBy.map((l) => l.owner.run).join(' ');
  if (o.told.get(host) !== key) {
    o.told.set(host, key);
    o.note(`waiting for host ${host}${o.what}, held by ${holders}`);
  }
  return undefined;
}

/** A placed test, or undefined when no candidate is left (all retired) or the run was aborted while waiting. */
export async function placeTest(d: PlacementDeps, candidates: readonly string[], exclusive: boolean): Promise<Placement | undefined> {
  const busy = new Set<string>();
  for (;;) {
    if (d.signal.aborted) return undefined;
    const open = candidates.filter((h) => !busy.has(h));
    const host = open.length ? await d.slots.acquire(open, exclusive) : undefined;
    if (!host) {
      if (busy.size === 0) return undefined;
      await sleep(LEASE_POLL_MS, d.signal);
      busy.clear();
      continue;
    }
    // A host the caller holds whole (a gate's, across its boots) needs no lease of the run's own.
    const leases = d.leases.get(host);
    if (!leases) return { host, lease: [] };
    let got;
    try {
      got = await leases.take(d.capacityOf(host), exclusive);
    } catch (e) {
      d.slots.release(host, exclusive);
      throw e;
    }
    let taken;
    try {
      taken = leaseOutcome(host, got, { ...d, what: exclusive ? ' (the whole host: an exclusive test)' : '' });
    } finally {
      if (!taken) d.slots.release(host, exclusive);
    }
    if (taken) return { host, lease: taken };
    busy.add(host);
  }
}

/** Waits `ms`, or less when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
