// Tearing down a vm the harness runs itself: the supervisor first (or it
// would start bhyve again), then bhyve, then the vmm instance, then its disk
// clone and its folder.
import { shQuote } from '../transport/quote.ts';
import type { ListedVm } from './types.ts';

/** How long removing a vm may take: deleting a zone (halt, uninstall, its datasets) takes longer than killing bhyve. */
export const DESTROY_MS = 180_000;

export function destroySupervisedVm(bhyvectl: string, vm: ListedVm, vmDir: string, destroyClone?: string): string {
  const dir = shQuote(vmDir);
  return [
    stopSupervisor(dir),
    `[ -f ${dir}/bhyve.pid ] && kill -9 "$(cat ${dir}/bhyve.pid)" 2>/dev/null`,
    `${shQuote(bhyvectl)} --vm=${shQuote(vm.id)} --destroy >/dev/null 2>&1`,
    ...finishTeardown(dir, destroyClone),
  ].join('; ');
}

/** The first step on every platform: the supervisor, or the zone watcher, which write the same pid file. */
export const stopSupervisor = (dir: string) => `[ -f ${dir}/supervisor.pid ] && kill "$(cat ${dir}/supervisor.pid)" 2>/dev/null`;

/** The last steps on every platform: a clone outside the folder (a ZFS dataset) once nothing holds it, then the folder. */
export const finishTeardown = (dir: string, destroyClone?: string): string[] => [
  // The clone's failure is the command's.
  ...(destroyClone ? [`{ ${destroyClone}; } || { rc=$?; rm -rf ${dir}; exit $rc; }`] : []),
  `rm -rf ${dir}`,
  'true',
];

/** A listing of vm names, one a line (/dev/vmm and the lab's folder). */
export const namesListing = (command: string) => ({
  command,
  parse: (output: string): ListedVm[] => output.split('\n').map((l) => l.trim()).filter(Boolean).map((name) => ({ name, id: name })),
});

/** The vmm instances of an illumos or FreeBSD kernel: one device node each under /dev/vmm. */
export const DEV_VMM_LISTING = namesListing('ls /dev/vmm 2>/dev/null; true');
