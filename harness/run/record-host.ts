// doctor --record: what a host says to the read-only commands its platform
// relies on, written as transcripts in the layout of fixtures/transcripts (a
// file per command, a SOURCES.md row per file), so the first contact with a
// real host becomes fixtures. Nothing is created or changed on the host: every
// command here lists, prints or reads. Host names, addresses and anything that
// looks like a secret are replaced by placeholders before a byte is written.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Host } from '../host.ts';
import { shQuote } from '../transport/quote.ts';
import { bhyveDevices, bhyvectlUsage } from '../platform/capabilities.ts';

export interface RecordedCommand {
  /** The transcript's file name. */
  file: string;
  what: string;
  command: string;
}

/**
 * The read-only commands a platform relies on; with a running vm's name, its stats too. The recipes
 * are the platform files' own (each cites its source there). The usage texts and the device list
 * are the capability probes' (platform/capabilities.ts), and bhyve's for -h (bhyverun.c main():
 * `case 'h': usage(0)`);
 * `/etc/release` is illumos's release file, `freebsd-version -kru` FreeBSD's (freebsd-version(1)).
 */
export function recordedCommands(host: Host, vm?: string): RecordedCommand[] {
  const p = host.platform;
  const q = shQuote;
  return [
    { file: 'uname-a.txt', what: 'the kernel and machine', command: 'uname -a' },
    { file: 'os-release.txt', what: 'the OS release', command: 'cat /etc/release 2>/dev/null || freebsd-version -kru 2>/dev/null || cat /etc/os-release' },
    { file: 'list-vms.txt', what: 'the vm listing the harness reads (reaper, ownership rule, teardown check)', command: p.listVms.command },
    ...(p.links ? [{ file: 'list-links.txt', what: "the vms' network links listing (reaper)", command: p.links.list.command }] : []),
    { file: 'fingerprint.txt', what: "the host's fingerprint (results.json hosts[].fingerprint)", command: p.fingerprint },
    { file: 'boot-id.txt', what: 'the boot id (wedged hosts, reboots)', command: p.bootId.command },
    { file: 'build.txt', what: 'the build the host runs (results, --expect-build, the gate)', command: p.build },
    ...(p.bootEnvironments ? [{ file: 'boot-environments.txt', what: `its boot environments (${p.bootEnvironments.tool}: the gate)`, command: p.bootEnvironments.list.command }] : []),
    ...(p.crash ? [{ file: 'crash-records.txt', what: `its crash records (${p.crash.source}: a host death's evidence)`, command: p.crash.records.command }] : []),
    { file: 'free-memory.txt', what: 'free memory in MiB (doctor)', command: p.freeMemoryMiB },
    { file: 'bhyvectl-usage.txt', what: "bhyvectl's usage text (its options: the wrlock and vcpu-stats capabilities)", command: bhyvectlUsage(p) },
    { file: 'bhyve-devices.txt', what: "bhyve's PCI device emulations (the framebuffer capability)", command: bhyveDevices(p) },
    { file: 'bhyve-usage.txt', what: "bhyve's usage text (its options)", command: `${q(p.bhyve)} -h 2>&1; true` },
    ...(vm ? [
      { file: 'bhyvectl-get-stats.txt', what: `bhyvectl --get-stats of ${vm}`, command: `${q(p.bhyvectl)} --vm=${q(vm)} --get-stats` },
      { file: 'bhyvectl-get-active-cpus.txt', what: `bhyvectl --get-active-cpus of ${vm}`, command: `${q(p.bhyvectl)} --vm=${q(vm)} --get-active-cpus` },
      { file: 'vcpu-progress.txt', what: `one reading of the vCPU progress counters of ${vm}`, command: `timeout 3 sh -c ${q(p.vcpuProgress.command(vm, 1))} 2>&1 | head -n 40; true` },
    ] : []),
  ];
}

/** Placeholders for what must not leave the machine: names and addresses of hosts, secrets. */
export function redactor(o: { names: string[]; secrets: string[] }): (text: string) => string {
  const names = [...new Set(o.names.filter(Boolean))].sort((a, b) => b.length - a.length);
  const escape = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const secrets = [...new Set(o.secrets.filter(Boolean))].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const s of secrets) out = out.replaceAll(s, '<secret>');
    // As a whole word: a short host name ("vm") must not eat parts of other words.
    for (const n of names) out = out.replace(new RegExp(`(?<![\\w.-])${escape(n)}(?![\\w-])`, 'g'), '<host>');
    return out
      .replace(/\b(?:\d{1,3}\.){3}\d{1,3}\b/g, (ip) => (ip === '127.0.0.1' || ip === '0.0.0.0' ? ip : '<address>'))
      // IPv6: three colons or more, or a '::' (a time of day has two; a MAC address is left: no host's).
      .replace(/\b(?:[0-9a-f]{1,4}:){3,7}[0-9a-f]{1,4}\b|\b[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?\b/gi, (v6) => (/^(?:[0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(v6) ? v6 : '<address>'))
      .replace(/\b(password|passwd|secret|token|key)(\s*[=:]\s*)\S+/gi, '$1$2<secret>');
  };
}

export interface Recording {
  files: Array<{ file: string; command: string; exitCode: number }>;
  platform: string;
  release: string;
}

/** Runs each recorded command on the host and writes its transcript and SOURCES.md into `dir`. */
export async function recordHost(host: Host, dir: string, o: { vm?: string; names: string[]; secrets: string[]; date?: Date }): Promise<Recording> {
  const redact = redactor(o);
  mkdirSync(dir, { recursive: true });
  const files: Recording['files'] = [];
  let release = '';
  const commands = recordedCommands(host, o.vm);
  for (const c of commands) {
    const r = await host.exec(c.command, { doing: `recording ${c.what}`, timeoutMs: 30_000, check: false });
    const text = redact(`${r.stdout}${r.stderr ? `${r.stdout && !r.stdout.endsWith('\n') ? '\n' : ''}${r.stderr}` : ''}`);
    writeFileSync(join(dir, c.file), text);
    files.push({ file: c.file, command: redact(c.command), exitCode: r.exitCode });
    if (c.file === 'uname-a.txt') release = text.trim();
  }
  const date = (o.date ?? new Date()).toISOString().slice(0, 10);
  const rows = commands.map((c, i) => `| ${c.file} | ${c.what}: \`${files[i].command.replace(/\|/g, '\\|')}\` (exit ${files[i].exitCode}) | \`bhyve-smoke doctor --record\` on a ${host.platform.kind} host, ${release.replace(/\|/g, '\\|')}, ${date} |`);
  writeFileSync(join(dir, 'SOURCES.md'), `# Where these transcripts come from

Recorded by \`bhyve-smoke doctor --record\` on a ${host.platform.kind} host on ${date}: the read-only
commands its platform relies on, each output as the host printed it, host names, addresses and
secrets replaced by \`<host>\`, \`<address>\` and \`<secret>\`.

| file | what | source |
| --- | --- | --- |
${rows.join('\n')}
`);
  return { files, platform: host.platform.kind, release };
}
