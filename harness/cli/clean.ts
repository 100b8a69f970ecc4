// bhyve-smoke clean: reaps what dead runs left behind (vms, host folders).
import { reapDeadRuns } from '../run/reap.ts';
import { recordsDir } from '../run/records.ts';
import type { Command } from './command.ts';

export const cleanCommand: Command = {
  name: 'clean',
  summary: 'destroy the vms and folders left by runs that died (killed, crashed, or --keep-on-failure)',
  usage: 'bhyve-smoke clean',
  options: {},
  async run() {
    const reaped = await reapDeadRuns();
    if (reaped.length === 0) process.stdout.write(`nothing to clean (run records in ${recordsDir()})\n`);
    for (const r of reaped) {
      process.stdout.write(`run ${r.runId}: ${r.vms.length ? `destroyed ${r.vms.join(', ')}` : 'no vms left'}\n`);
      for (const e of r.errors) process.stdout.write(`run ${r.runId}: could not clean ${e}\n`);
    }
    return reaped.some((r) => r.errors.length) ? 3 : 0;
  },
};
