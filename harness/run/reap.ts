// Reaping what dead runs left behind: their vms (found by prefix + run id on
// each host they used), their ZFS disk clones and their folders. Nothing else
// on a host is touched.
import { createHost } from '../host.ts';
import { messageOf } from '../errors.ts';
import { deadRuns, removeRecord, vmNamePrefix, type RunRecord } from './records.ts';
import { shQuote } from '../transport/quote.ts';
import { cloneDataset, destroyCloneDataset } from '../image/clone.ts';
import { DESTROY_MS } from '../platform/teardown.ts';
import type { ListedVm, Platform } from '../platform/types.ts';

export interface Reaped {
  runId: string;
  vms: string[];
  errors: string[];
}

/** The vms of a host's listing that carry the run's prefix and id: only those are ever touched. */
export const ownedVms = (platform: Platform, listing: string, owned: string): ListedVm[] =>
  platform.listVms.parse(listing).filter((vm) => vm.name.startsWith(owned));

export async function reapRun(record: RunRecord): Promise<Reaped> {
  const reaped: Reaped = { runId: record.runId, vms: [], errors: [] };
  const owned = vmNamePrefix(record.prefix, record.runId);
  for (const [name, { config, runDir }] of Object.entries(record.hosts)) {
    const host = createHost(name, config);
    try {
      const { listVms } = host.platform;
      const listed = await host.exec(listVms.command, { doing: `listing vms of dead run ${record.runId}` });
      for (const vm of ownedVms(host.platform, listed.stdout, owned)) {
        await host.exec(host.platform.destroyVm(vm, `${runDir}/${vm.name}`), { doing: `reaping ${vm.name}`, timeoutMs: DESTROY_MS });
        reaped.vms.push(`${vm.name} on ${name}`);
      }
      // ZFS clones of the run's vms (named after them), also those whose vm is gone already.
      if (config.cloneRoot) {
        const datasets = await host.exec(`zfs list -H -o name -d 1 ${shQuote(config.cloneRoot)}`, { doing: `listing the disk clones of dead run ${record.runId}` });
        for (const ds of datasets.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith(cloneDataset(config.cloneRoot!, owned)))) {
          await host.exec(destroyCloneDataset(ds), { doing: `reaping the disk clone ${ds}` });
          reaped.vms.push(`clone ${ds} on ${name}`);
        }
      }
      await host.exec(`rm -rf ${shQuote(runDir)}`, { doing: `removing ${runDir}` });
    } catch (e) {
      reaped.errors.push(`${name}: ${messageOf(e)}`);
    } finally {
      await host.close();
    }
  }
  if (reaped.errors.length === 0) removeRecord(record.runId);
  return reaped;
}

export async function reapDeadRuns(): Promise<Reaped[]> {
  const results: Reaped[] = [];
  for (const record of deadRuns()) results.push(await reapRun(record));
  return results;
}
