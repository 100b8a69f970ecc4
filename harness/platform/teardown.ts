// Tearing a vm down, the same on every platform: the supervisor first (or it
// would start bhyve again), then bhyve, then the vmm instance, then its disk
// clone and its folder.
import { shQuote } from '../transport/quote.ts';
import type { Platform } from './types.ts';

export function destroyVmCommand(platform: Platform, vmName: string, vmDir: string, destroyClone?: string): string {
  const dir = shQuote(vmDir);
  return [
    `[ -f ${dir}/supervisor.pid ] && kill "$(cat ${dir}/supervisor.pid)" 2>/dev/null`,
    `[ -f ${dir}/bhyve.pid ] && kill -9 "$(cat ${dir}/bhyve.pid)" 2>/dev/null`,
    `${shQuote(platform.bhyvectl)} --vm=${shQuote(vmName)} --destroy >/dev/null 2>&1`,
    // A clone outside the folder (a ZFS dataset) goes once bhyve has let go of it; its failure is the command's.
    ...(destroyClone ? [`{ ${destroyClone}; } || { rc=$?; rm -rf ${dir}; exit $rc; }`] : []),
    `rm -rf ${dir}`,
    'true',
  ].join('; ');
}
