// The build a host runs: what a lock change changes, and what every result
// belongs to. Read when a run starts and after every boot, from the
// platform's own commands (each platform's `build` recipe cites them): the
// platform build, the release, the vmm module the kernel has (its file and
// the sha256 of it), and whether the kernel is a DEBUG one where the
// platform says.
import { InfraError } from '../errors.ts';
import type { Host } from '../host.ts';
import { readLines, UnexpectedOutput } from '../platform/host-output.ts';

export interface BuildIdentity {
  /** The platform build: `uname -v` (illumos, OmniOS, FreeBSD), the platform image stamp (SmartOS), the lab's boot environment stamp. */
  platform: string;
  /** The release beside it: illumos's /etc/release first line, FreeBSD's kernel and userland versions (freebsd-version -ku). */
  release: string;
  /** The vmm module: its file, whether the kernel has it loaded, and the sha256 of the file. */
  vmm: { file: string; loaded: boolean; sha256: string };
  /** A DEBUG (FreeBSD: INVARIANTS) kernel; absent where the platform does not say. */
  debug?: boolean;
  /** The lab only: the faults its vmm stand-in acts out (a bad build's symptoms). */
  faults?: string;
}

/** Every key a build recipe prints, and which may be left empty. */
const KEYS = ['platform', 'release', 'vmm-file', 'vmm-loaded', 'vmm-sha256', 'debug'] as const;

/** Parses a build recipe's `key=value` lines (platform build recipes). */
export function parseBuild(out: string, command = "the platform's build recipe"): BuildIdentity {
  const shape = { command, expected: `\`key=value\` lines: ${KEYS.join(', ')} (and lab-faults on the lab)` };
  const kv = Object.fromEntries(readLines(out, shape, /^([a-z][a-z0-9-]*)=(.*)$/, (m) => [m[1], m[2].trim()]));
  const missing = KEYS.filter((k) => kv[k] === undefined || (kv[k] === '' && k !== 'release'));
  if (missing.length) throw new UnexpectedOutput(shape, out, `nothing for ${missing.join(', ')}`);
  if (!/^(yes|no)$/.test(kv['vmm-loaded'])) throw new UnexpectedOutput(shape, out, `vmm-loaded=${kv['vmm-loaded']} is neither yes nor no`);
  if (!/^[0-9a-f]{64}$/.test(kv['vmm-sha256'])) throw new UnexpectedOutput(shape, out, `vmm-sha256=${kv['vmm-sha256']} is not a sha256 (the vmm module's file cannot be read?)`);
  if (!/^(yes|no|unknown)$/.test(kv.debug)) throw new UnexpectedOutput(shape, out, `debug=${kv.debug} is none of yes, no, unknown`);
  return {
    platform: kv.platform,
    release: kv.release,
    vmm: { file: kv['vmm-file'], loaded: kv['vmm-loaded'] === 'yes', sha256: kv['vmm-sha256'] },
    ...(kv.debug === 'unknown' ? {} : { debug: kv.debug === 'yes' }),
    ...(kv['lab-faults'] ? { faults: kv['lab-faults'] } : {}),
  };
}

/**
 * A build in one short line, the id a series, a history record and a gate
 * side are keyed by: the platform build, the vmm module's hash, DEBUG, and
 * on the lab the faults it acts out.
 */
export const buildId = (b: BuildIdentity): string =>
  [b.platform, `vmm ${b.vmm.sha256.slice(0, 12)}`, ...(b.debug ? ['DEBUG'] : []), ...(b.faults ? [`faults ${b.faults}`] : [])].join(' · ');

/** The build the host runs now. */
export async function readBuild(host: Host): Promise<BuildIdentity> {
  const r = await host.exec(host.platform.build, { doing: `reading the build of ${host.name}`, timeoutMs: 60_000 });
  return parseBuild(r.stdout, `the ${host.platform.kind} build recipe on ${host.name}`);
}

/**
 * Whether a build is the one expected (`--expect-build`, a host's
 * `expectBuild`): its platform build as printed, or `vmm:HEX`, a prefix of
 * the vmm module's sha256.
 */
export function matchesBuild(b: BuildIdentity, expected: string): boolean {
  const vmm = /^vmm:([0-9a-f]{4,64})$/.exec(expected);
  return vmm ? b.vmm.sha256.startsWith(vmm[1]) : b.platform === expected || buildId(b) === expected;
}

/** The expectation, checked: an InfraError naming both builds when the host runs another. */
export function checkExpectedBuild(host: string, b: BuildIdentity, expected: string | undefined): void {
  if (expected !== undefined && !matchesBuild(b, expected)) {
    throw new InfraError(`host ${host} runs build ${buildId(b)}, not the expected ${expected} (--expect-build, hosts.${host}.expectBuild)`);
  }
}
