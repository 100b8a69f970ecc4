// Tearing a vm down, the same on every platform: the supervisor first (or it
// would start bhyve again), then bhyve, then the vmm instance, then its folder.
import { shQuote } from '../transport/quote.ts';
import type { Platform } from './types.ts';

export function destroyVmCommand(platform: Platform, vmName: string, vmDir: string): string {
  const dir = shQuote(vmDir);
  return [
    `[ -f ${dir}/supervisor.pid ] && kill "$(cat ${dir}/supervisor.pid)" 2>/dev/null`,
    `[ -f ${dir}/bhyve.pid ] && kill -9 "$(cat ${dir}/bhyve.pid)" 2>/dev/null`,
    `${shQuote(platform.bhyvectl)} --vm=${shQuote(vmName)} --destroy >/dev/null 2>&1`,
    `rm -rf ${dir}`,
    'true',
  ].join('; ');
}
