// bhyve-smoke clean: reaps what dead runs left behind (vms, links, host
// folders, their leases), reports hosts they left wedged instead of hanging on
// them, and tells the leases held on the config's hosts, breaking stale ones.
import { loadConfig } from '../config/load.ts';
import { parseDuration } from '../duration.ts';
import { EXIT, messageOf } from '../errors.ts';
import { createHost } from '../host.ts';
import { describeLease, entryName, inspectLeases } from '../run/host-leases.ts';
import { CONFIG_OPTION } from './context.ts';
import { corruptNote, reapDeadRuns, reapRun } from '../run/reap.ts';
import { recordOf, recordsDir } from '../run/records.ts';
import type { Command } from './command.ts';

export const cleanCommand: Command = {
  name: 'clean',
  summary: 'destroy the vms, links, disk clones and folders left by runs that died (killed, crashed, or --keep-on-failure); report wedged hosts (exit 3 while anything is left: a wedged host, an unreadable run record, a failed destroy)',
  usage: 'bhyve-smoke clean [--run ID] [--reset-lab] [--config FILE]',
  options: {
    config: { ...CONFIG_OPTION, help: 'config whose hosts\' leases are told, the stale ones broken (default: bhyve-smoke.config.ts/.yaml here, else the built-in lab)' },
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
      for (const l of r.leases) process.stdout.write(`run ${r.runId}: let go of its leases (${l})\n`);
      for (const e of r.errors) process.stdout.write(`run ${r.runId}: could not clean ${e}\n`);
    }
    const leaseErrors = values.run === undefined ? await tellLeases(values.config as string | undefined) : 0;
    return corrupt.length || leaseErrors || reaped.some((r) => r.errors.length || r.wedged.length) ? EXIT.infra : EXIT.passed;
  },
};

/** The leases on each configured host: stale ones broken (their runs died on some machine), live ones told. Returns how many hosts could not be read. */
async function tellLeases(configFile: string | undefined): Promise<number> {
  const { config } = await loadConfig(configFile);
  const staleMs = parseDuration(config.thresholds.leaseStale, 'thresholds.leaseStale');
  let errors = 0;
  for (const [name, hostConfig] of Object.entries(config.hosts)) {
    const host = createHost(name, hostConfig);
    try {
      const { held, broke } = await inspectLeases(host, staleMs);
      for (const l of broke) process.stdout.write(`host ${name}: broke a stale lease on ${entryName(l.slot)}: ${describeLease(l)}\n`);
      // A run with several tests there holds several slots: one line a run.
      for (const run of new Set(held.map((l) => l.owner.run))) {
        const its = held.filter((l) => l.owner.run === run);
        process.stdout.write(`host ${name}: ${its.length === 1 ? entryName(its[0].slot) : `${its.length} slots`} leased by ${describeLease(its[0])} (live: left as it is)\n`);
      }
    } catch (e) {
      errors++;
      process.stdout.write(`host ${name}: could not read its leases: ${messageOf(e).split('\n')[0]}\n`);
    } finally {
      await host.close();
    }
  }
  return errors;
}
