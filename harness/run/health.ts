// A host's health and fingerprint, checked at the start of every run and by
// `doctor`: reachable, the platform it claims, bhyve and bhyvectl present, the
// platform's own tools (vmadm, zoneadm, the bhyve brand) and the vm network,
// free memory, every guest image present and the one the config pins (its
// identity goes into the results); and what it offers the tests (the
// write-lock hook, vCPU counters, the framebuffer: platform/capabilities.ts).
// A host that fails is quarantined for the run: its pool's other hosts take
// its tests. A capability it lacks only skips the tests that need it.
import type { Config } from '../config/schema.ts';
import { messageOf } from '../errors.ts';
import type { Host } from '../host.ts';
import { parseFingerprint } from '../platform/fingerprint.ts';
import { UnexpectedOutput } from '../platform/host-output.ts';
import { bhyveDevices, bhyvectlUsage, judgeCapabilities, type HostCapabilities } from '../platform/capabilities.ts';
import { shQuote } from '../transport/quote.ts';
import { describeImage, diskImageFor, type ImageIdentity } from '../image/disk-image.ts';
import { imageCheck } from '../image/verify.ts';
import { wedgedNote, wedgedOn } from './records.ts';
import { tryBootId } from '../host-life/boot-id.ts';
import { buildId, matchesBuild, readBuild, type BuildIdentity } from '../host-life/build.ts';

export interface Finding {
  ok: boolean;
  what: string;
  detail: string;
  /** The config asks what this host cannot do (a guest's bootrom): exit 2, not the host's fault. */
  config?: boolean;
}

/** A file image's sha256 reads the whole file: allow a big one (about 100 MB/s gives 60 GB). */
const IMAGE_CHECK_MS = 10 * 60_000;

/** The doctor's findings for a host and its capabilities (none when it cannot be reached); `guests` limits the image checks to the guests a run uses there. */
export async function doctorHost(host: Host, config: Config, guests = Object.keys(config.guests)): Promise<{ findings: Finding[]; capabilities?: HostCapabilities }> {
  return examineHost(host, config, guests);
}

/** The findings, the host's capabilities, and the identity of each guest's golden disk on the host (for results). */
async function examineHost(host: Host, config: Config, guests: string[]): Promise<{ findings: Finding[]; images: Record<string, ImageIdentity>; capabilities?: HostCapabilities }> {
  const p = host.platform;
  const findings: Finding[] = [];
  const images: Record<string, ImageIdentity> = {};
  const probe = async (what: string, command: string, judge: (out: string, code: number) => string | true, timeoutMs = 30_000) => {
    try {
      const r = await host.exec(command, { doing: `checking ${what}`, timeoutMs, check: false });
      const verdict = judge(r.stdout.trim(), r.exitCode);
      findings.push({ ok: verdict === true, what, detail: verdict === true ? r.stdout.trim().split('\n')[0] ?? '' : verdict });
    } catch (e) {
      findings.push({ ok: false, what, detail: messageOf(e).split('\n')[0] });
    }
  };
  await probe('reachable', 'echo reachable', (out) => out === 'reachable' || `unexpected answer ${JSON.stringify(out)}`);
  if (!findings[0].ok) return { findings, images };
  // A vm an earlier run left wedged keeps the host out until it reboots (its boot id changes).
  for (const w of wedgedOn(host.name, host.config)) {
    const boot = await tryBootId(host, `reading the boot id of ${host.name} (wedged by run ${w.runId})`);
    const still = 'problem' in boot
      ? `${wedgedNote(w)}, since ${w.since}; its boot id cannot be read to tell whether it rebooted since: ${boot.problem}`
      : boot.id === w.bootId && `${wedgedNote(w)}, since ${w.since} (run ${w.runId}); \`bhyve-smoke clean\` reports it until the host has rebooted`;
    findings.push(still ? { ok: false, what: `not wedged (run ${w.runId})`, detail: still } : { ok: true, what: `not wedged (run ${w.runId})`, detail: `rebooted since (boot id ${'id' in boot ? boot.id : ''})` });
  }
  await probe(`platform ${p.kind}`, 'uname -s', (out) => out === p.uname || `uname -s says ${out}, a ${p.kind} host says ${p.uname}`);
  await probe('bhyve present', `[ -x ${shQuote(p.bhyve)} ] && echo ${shQuote(p.bhyve)}`, (_, code) => code === 0 || `${p.bhyve} is missing or not executable`);
  await probe('bhyvectl present', `[ -x ${shQuote(p.bhyvectl)} ] && echo ${shQuote(p.bhyvectl)}`, (_, code) => code === 0 || `${p.bhyvectl} is missing or not executable`);
  for (const path of p.requires ?? []) {
    await probe(`${path} present`, `[ -e ${shQuote(path)} ] && echo ${shQuote(path)}`, (_, code) => code === 0 || `${path} is missing: a ${p.kind} host needs it`);
  }
  const network = findings.length;
  for (const check of p.hostChecks(host.nic)) {
    await probe(check.what, check.command, (out, code) => (check.judge ? check.judge(out, code) : code === 0 || `\`${check.command}\` exited ${code}`));
  }
  const capabilities = await probeCapabilities(host, findings.slice(network));
  await probe('free memory', p.freeMemoryMiB, (out) => {
    if (!/^\d+$/.test(out)) return new UnexpectedOutput({ command: p.freeMemoryMiB, expected: 'the free memory in MiB, a whole number' }, out, 'not a number').message;
    return Number(out) >= 512 || `${out} MiB free, want at least 512`;
  });
  for (const [name, guest] of Object.entries(config.guests).filter(([n]) => guests.includes(n))) {
    const { bootrom } = guest.image;
    const unbootable = p.checkBootrom?.(bootrom);
    if (unbootable) findings.push({ ok: false, what: `guest ${name} bootrom`, detail: `guests.${name}.image.bootrom: ${unbootable}`, config: true });
    else await probe(`guest ${name} bootrom`, `f=${p.imagePath(bootrom)}; [ -e "$f" ] && echo "$f"`, (_, code) => code === 0 || `${bootrom} is not on the host`);
    const image = diskImageFor(guest, host.name, host.config.pool);
    const check = imageCheck(p, image);
    let required: string | undefined;
    await probe(`guest ${name} disk`, check.command, (out, code) => {
      const found = check.judge(out, code);
      if ('problem' in found) return found.problem;
      const { bootrom: needs, ...identity } = found;
      required = needs;
      images[name] = identity;
      return true;
    }, IMAGE_CHECK_MS);
    if (required && required !== bootrom) {
      findings.push({ ok: false, what: `guest ${name} bootrom`, detail: `guests.${name}.image.bootrom: ${bootrom}, but the image ${describeImage(image)} requires bootrom ${required} (its manifest's requirements.bootrom; vmadm refuses any other)`, config: true });
    }
  }
  return { findings, images, capabilities };
}

/** The host's capabilities (platform/capabilities.ts): its tools' answers, both asked at once, and whether its vm network checks passed. */
export async function probeCapabilities(host: Host, networkFindings: Finding[]): Promise<HostCapabilities> {
  const p = host.platform;
  const answer = async (command: string, what: string) => (await host.exec(command, { doing: `reading ${what}`, timeoutMs: 30_000, check: false })).stdout;
  const [usage, devices, trace] = await Promise.all([
    answer(bhyvectlUsage(p), "bhyvectl's usage text"),
    answer(bhyveDevices(p), "bhyve's device list"),
    p.wrlockTrace ? answer(p.wrlockTrace.probe.command, 'whether the host can trace its write-lock cycles') : undefined,
  ]);
  const failed = networkFindings.filter((f) => !f.ok);
  const links = failed.length
    ? { ok: false, detail: failed.map((f) => `${f.what}: ${f.detail}`).join('; ') }
    : { ok: true, detail: p.links ? `a link of its own per vm over ${host.nic} (${networkFindings.map((f) => f.what).join(', ')})` : `the ${p.kind} zone brand makes each vm's VNIC over ${host.nic}` };
  return judgeCapabilities(p, { usage, devices, ...(trace === undefined ? {} : { trace }) }, links);
}

export interface HostHealth {
  /** Why the host is out of this run, if it is. */
  quarantined?: string;
  /** It is out because the config asks what it cannot do (a guest's bootrom): exit 2. */
  configError?: boolean;
  fingerprint?: Record<string, string>;
  /** The build it runs (host-life/build.ts). */
  build?: BuildIdentity;
  /** It runs another build than the one expected: nothing runs (exit 3). */
  wrongBuild?: boolean;
  /** What the host offers the tests, probed (platform/capabilities.ts). */
  capabilities?: HostCapabilities;
  /** Per guest, the identity of its golden disk on this host. */
  images?: Record<string, ImageIdentity>;
}

/**
 * The doctor's checks, then the fingerprint, the build and the run folder: a
 * host ready for the run, or the reason it is not. A host that runs another
 * build than the one expected (`expectBuild`) is `wrongBuild`: the run ends
 * before any test, naming both.
 */
export async function checkHostForRun(host: Host, config: Config, runDir: string, guests: string[], expectBuild?: string): Promise<HostHealth> {
  const { findings, images, capabilities } = await examineHost(host, config, guests);
  const failed = findings.filter((f) => !f.ok);
  if (failed.length) return { quarantined: failed.map((f) => `${f.what}: ${f.detail}`).join('; '), ...(failed.every((f) => f.config) ? { configError: true } : {}), ...(capabilities ? { capabilities } : {}) };
  try {
    const fp = await host.exec(host.platform.fingerprint, { doing: `fingerprinting host ${host.name}`, timeoutMs: 30_000, check: false });
    const build = await readBuild(host);
    const expected = expectBuild ?? config.hosts[host.name]?.expectBuild;
    if (expected !== undefined && !matchesBuild(build, expected)) {
      return { quarantined: `runs build ${buildId(build)}, not the expected ${expected}`, wrongBuild: true, build, ...(capabilities ? { capabilities } : {}) };
    }
    await host.exec(`mkdir -p ${shQuote(runDir)}`, { doing: `preparing host ${host.name}`, timeoutMs: 30_000 });
    return { fingerprint: parseFingerprint(fp.stdout), build, images, ...(capabilities ? { capabilities } : {}) };
  } catch (e) {
    return { quarantined: messageOf(e).split('\n')[0] };
  }
}
