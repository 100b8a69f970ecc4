// bhyve-smoke doctor: checks that each host can run tests (run/health.ts) and
// prints each finding.
import { ConfigError } from '../errors.ts';
import { createHost } from '../host.ts';
import { doctorHost } from '../run/health.ts';
import type { Command } from './command.ts';
import { CONFIG_OPTION, KNOWN_HOSTS_OPTION, loadWithHost } from './context.ts';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check that hosts are ready: reachable, platform, bhyve, wrlock, memory, images',
  usage: 'bhyve-smoke doctor [options]',
  options: {
    config: CONFIG_OPTION,
    host: { type: 'string', help: 'only this configured host, or ssh://[user@]host[:port]' },
    'known-hosts': KNOWN_HOSTS_OPTION,
  },
  async run(values) {
    const { config, host: only } = await loadWithHost(values.config as string | undefined, values.host as string | undefined, values['known-hosts'] as string | undefined);
    if (only && !config.hosts[only]) throw new ConfigError(`--host: unknown host "${only}" (configured: ${Object.keys(config.hosts).join(', ')})`);
    let healthy = true;
    for (const [name, hc] of Object.entries(config.hosts)) {
      if (only && name !== only) continue;
      const host = createHost(name, hc);
      process.stdout.write(`host ${name} (${hc.platform}, ${host.transport.name})\n`);
      for (const f of await doctorHost(host, config)) {
        healthy &&= f.ok;
        process.stdout.write(`  ${f.ok ? 'ok  ' : 'FAIL'} ${f.what}${f.detail ? `: ${f.detail}` : ''}\n`);
      }
      await host.close();
    }
    return healthy ? 0 : 3;
  },
};
