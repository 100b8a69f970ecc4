// bhyve-smoke clean: reaps what dead runs left behind (vms, links, host
// folders), and reports hosts they left wedged instead of hanging on them.
import { EXIT } from '../errors.ts';
import { corruptNote, reapDeadRuns, reapRun } from '../run/reap.ts';
import { recordOf, recordsDir } from '../run/records.ts';
import type { Command } from './command.ts';

export const cleanCommand: Command = {
  name: 'clean',
  summary: 'destroy the vms, links, disk clones and folders left by runs that died (killed, crashed, or --keep-on-failure); report wedged hosts (exit 3 while anything is left: a wedged host, an unreadable run record, a failed destroy)',
  usage: 'bhyve-smoke clean [--run ID] [--reset-lab]',
  options: {
    run: { type: 'string', help: 'only this run (its kept vms too); the others are left as they are' },
    'reset-lab': { type: 'boolean', help: 'reset a wedged lab host (its stand-in for a reboot: ends every vm on it) and then clean it' },
  },
  async run(values) {
    const opts = { resetLab: Boolean(values['reset-lab']) };
    const { reaped, corrupt } = values.run !== undefined
      ? { reaped: [await reapRun(recordOf(String(values.run)), opts)], corrupt: [] }
      : await reapDeadRuns(opts);
    for (const c of corrupt) process.stdout.write(`${corruptNote(c)}\n`);
    if (reaped.length === 0 && corrupt.length === 0) process.stdout.write(`nothing to clean (run records in ${recordsDir()})\n`);
    for (const r of reaped) {
      for (const reset of r.reset) process.stdout.write(`run ${r.runId}: reset ${reset}\n`);
      process.stdout.write(`run ${r.runId}: ${r.vms.length ? `destroyed ${r.vms.join(', ')}` : 'no vms left'}\n`);
      for (const w of r.wedged) process.stdout.write(`run ${r.runId}: ${w}\n`);
      for (const e of r.errors) process.stdout.write(`run ${r.runId}: could not clean ${e}\n`);
    }
    return corrupt.length || reaped.some((r) => r.errors.length || r.wedged.length) ? EXIT.infra : EXIT.passed;
  },
};
