// bhyve-smoke doctor: checks that each host can run tests (run/health.ts) and
// prints each finding.
import { ConfigError, EXIT } from '../errors.ts';
import { createHost } from '../host.ts';
import { doctorHost } from '../run/health.ts';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.ts';
import { recordHost } from '../run/record-host.ts';
import { parseSshDestination } from '../transport/ssh.ts';
import type { Command } from './command.ts';
import { CONFIG_OPTION, KNOWN_HOSTS_OPTION, loadWithHost } from './context.ts';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check that hosts are ready (reachable, not left wedged, platform, bhyve and its tools, vm network, memory, images) and what they offer (wrlock hook, vCPU counters, framebuffer, links); exit 3 when one is not',
  usage: 'bhyve-smoke doctor [options]',
  options: {
    config: CONFIG_OPTION,
    host: { type: 'string', help: 'only this configured host, or ssh://[user@]host[:port]' },
    'known-hosts': KNOWN_HOSTS_OPTION,
    record: { type: 'string', help: 'also write what each host says to the read-only commands its platform relies on into DIR, as transcripts (DIR/PLATFORM, with SOURCES.md), names, addresses and secrets replaced' },
    vm: { type: 'string', help: "with --record: a running vm's name, to record its bhyvectl stats and vCPU counters too" },
  },
  async run(values) {
    const { config, host: only } = await loadWithHost(values.config as string | undefined, values.host as string | undefined, values['known-hosts'] as string | undefined);
    if (only && !config.hosts[only]) throw new ConfigError(`--host: unknown host "${only}" (configured: ${Object.keys(config.hosts).join(', ')})`);
    if (values.vm !== undefined && values.record === undefined) throw new ConfigError('--vm names a vm to record: give --record DIR too');
    const recorded = new Map<string, number>();
    let healthy = true;
    for (const [name, hc] of Object.entries(config.hosts)) {
      if (only && name !== only) continue;
      const host = createHost(name, hc);
      process.stdout.write(`host ${name} (${hc.platform}, ${host.transport.name})\n`);
      const { findings, capabilities } = await doctorHost(host, config);
      for (const f of findings) {
        healthy &&= f.ok;
        process.stdout.write(`  ${f.ok ? 'ok  ' : 'FAIL'} ${f.what}${f.detail ? `: ${f.detail}` : ''}\n`);
      }
      // What tests may ask of the host: a missing one skips the tests that need it, it fails nothing.
      for (const [c, f] of Object.entries(capabilities ?? {})) process.stdout.write(`  ${f.present ? 'has ' : 'lack'} ${c}: ${f.detail.split('\n').join('\n        ')}\n`);
      if (values.record !== undefined) {
        const dir = join(resolve(String(values.record)), `${hc.platform}${recorded.has(hc.platform) ? `-${recorded.get(hc.platform)}` : ''}`);
        recorded.set(hc.platform, (recorded.get(hc.platform) ?? 1) + 1);
        const nodename = (await host.exec('uname -n', { doing: 'reading the host name', check: false })).stdout.trim();
        const r = await recordHost(host, dir, { vm: values.vm as string | undefined, names: [nodename, ...(hc.ssh ? [parseSshDestination(hc.ssh).host] : []), ...(name.includes('.') ? [name] : [])], secrets: configSecrets(config) });
        process.stdout.write(`  recorded ${r.files.length} transcripts in ${dir} (names, addresses and secrets replaced; see its SOURCES.md)\n`);
      }
      await host.close();
    }
    return healthy ? EXIT.passed : EXIT.infra;
  },
};

/** Every password the config's guests name by environment variable, as set here. */
const configSecrets = (config: Config) =>
  Object.values(config.guests).flatMap((g) => [g.credentials.passwordEnv, g.framebuffer?.passwordEnv].map((env) => (env ? process.env[env] ?? '' : '')));
