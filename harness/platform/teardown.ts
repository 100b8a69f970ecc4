// Tearing down a vm the harness runs itself: the supervisor first (or it
// would start bhyve again), then bhyve, then the vmm instance, then what the
// vm had of its own beside it (its link, its disk clone) and its folder.
import { shQuote } from '../transport/quote.ts';
import { readLines } from './host-output.ts';
import type { LinkRecipe } from './types.ts';
import type { ListedVm } from './types.ts';

/** How long removing a vm may take: deleting a zone (halt, uninstall, its datasets) takes longer than killing bhyve. */
export const DESTROY_MS = 180_000;

export function destroySupervisedVm(bhyvectl: string, vm: ListedVm, vmDir: string, o: { destroyClone?: string; links?: LinkRecipe } = {}): string {
  const dir = shQuote(vmDir);
  return [
    stopSupervisor(dir),
    `[ -f ${dir}/bhyve.pid ] && kill -9 "$(cat ${dir}/bhyve.pid)" 2>/dev/null`,
    `${shQuote(bhyvectl)} --vm=${shQuote(vm.id)} --destroy >/dev/null 2>&1`,
    // The link once no bhyve holds it: a VNIC is busy and a tap's destroy waits while one does.
    ...finishTeardown(dir, [...(o.links ? [o.links.destroy(vm.name, vmDir)] : []), ...(o.destroyClone ? [o.destroyClone] : [])]),
  ].join('; ');
}

/** The first step on every platform: the supervisor, or the zone watcher, which write the same pid file. */
export const stopSupervisor = (dir: string) => `[ -f ${dir}/supervisor.pid ] && kill "$(cat ${dir}/supervisor.pid)" 2>/dev/null`;

/**
 * The last steps on every platform: what the vm has outside its folder (a
 * link, a ZFS clone), each tried whatever the others did, then the folder.
 * The first of them that fails is the command's failure.
 */
export const finishTeardown = (dir: string, outside: string[] = []): string[] => [
  'rc=0',
  ...outside.map((step) => `{ ${step}; } || { s=$?; [ "$rc" -ne 0 ] || rc=$s; }`),
  `rm -rf ${dir}`,
  'exit $rc',
];

/**
 * The vm names in a folder, one a line (/dev/vmm and the lab's folder): a
 * name holds no blank and no '/'. A folder that does not exist holds no vm
 * (no vmm instance was ever made: the driver makes /dev/vmm with the first);
 * a listing that fails otherwise fails the command, quoting ls: never an
 * empty list that teardown's leak check, the reaper or `clean` would read as
 * "gone" while vms remain.
 */
export const namesListing = (folder: string) => {
  const command = `if [ -e ${folder} ]; then ls ${folder}; fi`;
  return {
    command,
    parse: (output: string): ListedVm[] =>
      readLines(output, { command, expected: 'one vm name a line (a device node of the vmm: no blanks, no /)' }, /^[^\s/]+$/, (m) => ({ name: m[0], id: m[0] })),
  };
};

/** The vmm instances of an illumos or FreeBSD kernel: one device node each under /dev/vmm. */
export const DEV_VMM_LISTING = namesListing('/dev/vmm');
