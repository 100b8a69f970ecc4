// bhyve-smoke doctor: checks that each host can run tests — reachable, the
// platform it claims, bhyve and bhyvectl present, the write-lock hook, free
// memory, every guest image present.
import { ConfigError, messageOf } from '../errors.ts';
import { createHost, type Host } from '../host.ts';
import type { Config } from '../config/schema.ts';
import type { Command } from './command.ts';
import { CONFIG_OPTION, KNOWN_HOSTS_OPTION, loadWithHost } from './context.ts';
import { shQuote } from '../transport/quote.ts';

interface Finding {
  ok: boolean;
  what: string;
  detail: string;
}

export async function doctorHost(host: Host, config: Config): Promise<Finding[]> {
  const p = host.platform;
  const findings: Finding[] = [];
  const probe = async (what: string, command: string, judge: (out: string, code: number) => string | true) => {
    try {
      const r = await host.exec(command, { doing: `checking ${what}`, timeoutMs: 30_000, check: false });
      const verdict = judge(r.stdout.trim(), r.exitCode);
      findings.push({ ok: verdict === true, what, detail: verdict === true ? r.stdout.trim().split('\n')[0] ?? '' : verdict });
    } catch (e) {
      findings.push({ ok: false, what, detail: messageOf(e).split('\n')[0] });
    }
  };
  await probe('reachable', 'echo reachable', (out) => out === 'reachable' || `unexpected answer ${JSON.stringify(out)}`);
  if (!findings[0].ok) return findings;
  await probe(`platform ${p.kind}`, 'uname -s', (out) => out === p.uname || `uname -s says ${out}, a ${p.kind} host says ${p.uname}`);
  await probe('bhyve present', `[ -x ${shQuote(p.bhyve)} ] && echo ${shQuote(p.bhyve)}`, (_, code) => code === 0 || `${p.bhyve} is missing or not executable`);
  await probe('bhyvectl present', `[ -x ${shQuote(p.bhyvectl)} ] && echo ${shQuote(p.bhyvectl)}`, (_, code) => code === 0 || `${p.bhyvectl} is missing or not executable`);
  if (p.capabilities.wrlock) {
    // The usage text lists the option where the hook exists.
    await probe('wrlock capability', `${shQuote(p.bhyvectl)} 2>&1 | grep -c -- --wrlock-cycle`, (out) => Number(out) > 0 || 'bhyvectl has no --wrlock-cycle');
  } else {
    findings.push({ ok: true, what: 'wrlock capability', detail: `none on ${p.kind}: tests that need it are skipped` });
  }
  await probe('free memory', p.freeMemoryMiB, (out) => (Number(out) >= 512 ? true : `${out} MiB free, want at least 512`));
  for (const [name, guest] of Object.entries(config.guests)) {
    for (const [part, path] of Object.entries(guest.image)) {
      await probe(`guest ${name} ${part}`, `f=${p.imagePath(path)}; [ -e "$f" ] && echo "$f"`, (_, code) => code === 0 || `${path} is not on the host`);
    }
  }
  return findings;
}

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
