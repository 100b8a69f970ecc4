// Reaping what dead runs left behind: their vms (found by prefix + run id on
// each host they used), their links and ZFS disk clones and their folders.
// Nothing else on a host is touched. A host a run left wedged is not touched
// either until it has rebooted (its boot id changed): destroying the wedged vm
// would block, holding the host's vmm_mtx; it is reported instead.
import { createHost, type Host } from '../host.ts';
import { InfraError, messageOf } from '../errors.ts';
import { readBootId } from '../host-life/boot-id.ts';
import { deadRuns, folderAt, removeRecord, vmNamePrefix, wedgedNote, type CorruptRecord, type RunRecord } from './records.ts';
import { shQuote } from '../transport/quote.ts';
import { releaseLeasesOf } from './host-leases.ts';
import { cloneDataset, destroyCloneDataset } from '../image/clone.ts';
import { DESTROY_MS } from '../platform/teardown.ts';
import type { ListedVm, Platform } from '../platform/types.ts';

export interface Reaped {
  runId: string;
  vms: string[];
  errors: string[];
  /** Hosts left alone because they are still wedged, each with what to do. */
  wedged: string[];
  /** Wedged lab hosts reset (clean --reset-lab). */
  reset: string[];
  /** Hosts where the run's leases were let go (run/host-leases.ts): no one waits for them to go stale. */
  leases: string[];
}

export interface ReapOptions {
  /** Reset a wedged lab host (its stand-in for a reboot) instead of only reporting it. */
  resetLab?: boolean;
  /** Leave runs that kept vms for inspection (a new run does; `clean` does not). */
  leaveKept?: boolean;
}

/** The vms of a host's listing that carry the run's prefix and id: only those are ever touched. */
export const ownedVms = (platform: Platform, listing: string, owned: string): ListedVm[] =>
  platform.listVms.parse(listing).filter((vm) => vm.name.startsWith(owned));

export async function reapRun(record: RunRecord, opts: ReapOptions = {}): Promise<Reaped> {
  const reaped: Reaped = { runId: record.runId, vms: [], errors: [], wedged: [], reset: [], leases: [] };
  const owned = vmNamePrefix(record.prefix, record.runId);
  // Wedged hosts first: their vms are never destroyed, also where another host name lists them (two names, one machine).
  const untouchable = { vms: new Set<string>(), dirs: new Set<string>() };
  const hosts = Object.entries(record.hosts).sort(([a], [b]) => Number(!record.wedged?.[a]) - Number(!record.wedged?.[b]));
  for (const [name, { config, runDir }] of hosts) {
    const host = createHost(name, config);
    try {
      if (await stillWedged(host, record, opts, reaped)) {
        untouchable.vms.add(record.wedged![name].vm);
        untouchable.dirs.add(folderAt(config, runDir));
        continue;
      }
      const { listVms } = host.platform;
      const listed = await host.exec(listVms.command, { doing: `listing vms of dead run ${record.runId}` });
      const reapable = (out: string) => ownedVms(host.platform, out, owned).filter((v) => !untouchable.vms.has(v.name));
      for (const vm of reapable(listed.stdout)) {
        await host.exec(host.platform.destroyVm(vm, `${runDir}/${vm.name}`), { doing: `reaping ${vm.name}`, timeoutMs: DESTROY_MS });
        reaped.vms.push(`${vm.name} on ${name}`);
      }
      // Looked for, not trusted: bhyvectl --destroy exits 0 whatever became of the vm.
      const still = reapable((await host.exec(listVms.command, { doing: `checking that the vms of dead run ${record.runId} are gone` })).stdout);
      if (still.length) throw new InfraError(`${still.map((v) => v.name).join(', ')} still in \`${listVms.command}\` after their destroy`);
      // Links of the run's vms (named or described after them), also those whose vm is gone already.
      const { links } = host.platform;
      if (links) {
        const listed = await host.exec(links.list.command, { doing: `listing the network links of dead run ${record.runId}` });
        for (const link of links.list.parse(listed.stdout).filter((l) => l.vm.startsWith(owned) && !untouchable.vms.has(l.vm))) {
          await host.exec(links.remove(link), { doing: `reaping the link ${link.link} of ${link.vm}` });
          reaped.vms.push(`link ${link.link} on ${name}`);
        }
      }
      // ZFS clones of the run's vms (named after them), also those whose vm is gone already.
      if (config.cloneRoot) {
        const datasets = await host.exec(`zfs list -H -o name -d 1 ${shQuote(config.cloneRoot)}`, { doing: `listing the disk clones of dead run ${record.runId}` });
        for (const ds of datasets.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith(cloneDataset(config.cloneRoot!, owned)))) {
          await host.exec(destroyCloneDataset(ds), { doing: `reaping the disk clone ${ds}` });
          reaped.vms.push(`clone ${ds} on ${name}`);
        }
      }
      if (!untouchable.dirs.has(folderAt(config, runDir))) await host.exec(`rm -rf ${shQuote(runDir)}`, { doing: `removing ${runDir}` });
      // Its vms gone, the slots it held are free: its leases go now rather than when they turn stale.
      const released = await releaseLeasesOf(host, record.runId);
      if (released) reaped.leases.push(`${released} slot${released > 1 ? 's' : ''} on ${name}`);
    } catch (e) {
      reaped.errors.push(`${name}: ${messageOf(e)}`);
    } finally {
      await host.close();
    }
  }
  if (reaped.errors.length === 0 && reaped.wedged.length === 0) removeRecord(record.runId);
  return reaped;
}

/**
 * Whether the run left this host wedged and it has not rebooted since (its
 * boot id is the one recorded): then it is reported and left alone, or, a lab
 * host with `resetLab`, reset first.
 */
async function stillWedged(host: Host, record: RunRecord, opts: ReapOptions, reaped: Reaped): Promise<boolean> {
  const w = record.wedged?.[host.name];
  if (!w) return false;
  const boot = await readBootId(host, `reading the boot id of wedged host ${host.name}`);
  // Rebooted since (a boot id unread when it wedged proves nothing): the wedged vm went with the reboot.
  if (w.bootId && boot !== w.bootId) return false;
  const { hostReset } = host.platform;
  if (opts.resetLab && hostReset) {
    const r = await host.exec(hostReset, { doing: `resetting lab host ${host.name}`, timeoutMs: 60_000 });
    reaped.reset.push(`lab host ${host.name}: ${r.stdout.trim()}`);
    return false;
  }
  reaped.wedged.push(`host ${host.name} is ${wedgedNote(w)}, since ${w.since}; left alone until it has rebooted${hostReset ? ' (a lab host: `bhyve-smoke clean --reset-lab` resets it, the lab\'s stand-in for a reboot, which ends every vm on it)' : ''}`);
  return true;
}

/** Reaps every dead run; a record that cannot be read is reported (kept aside), its vms left for a person to find by their names. */
export async function reapDeadRuns(opts: ReapOptions = {}): Promise<{ reaped: Reaped[]; corrupt: CorruptRecord[]; keptBy: RunRecord[] }> {
  const { records, corrupt } = deadRuns();
  const reaped: Reaped[] = [];
  const keptBy = opts.leaveKept ? records.filter((r) => r.kept?.length) : [];
  for (const record of records) if (!keptBy.includes(record)) reaped.push(await reapRun(record, opts));
  return { reaped, corrupt, keptBy };
}

/** What to tell of a record that cannot be read. */
export const corruptNote = (c: CorruptRecord) =>
  `run record ${c.file} cannot be read (${c.problem}); kept as ${c.keptAs}. The vms and links of its run are not reaped: find them by the run's prefix and id on its hosts, then remove the file`;
