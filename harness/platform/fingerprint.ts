// A host's fingerprint: the machine that makes its numbers comparable with
// another's — CPU model and count, memory, OS. Not the build it runs: that is
// what a gate changes on purpose (host-life/build.ts keeps it apart). Each
// platform's recipe prints `key=value` lines; results keep them, compare
// warns when a baseline and a candidate host differ.
import { readLines, UnexpectedOutput } from './host-output.ts';

/** What every platform's recipe prints. */
export const FINGERPRINT_KEYS = ['cpu', 'cpus', 'memory', 'os'] as const;

/** Parses the recipe's `key=value` lines: every line one, every key of FINGERPRINT_KEYS there and not empty. */
export function parseFingerprint(out: string, command = "the platform's fingerprint recipe (harness/platform/fingerprint.ts)"): Record<string, string> {
  const shape = { command, expected: `\`key=value\` lines, one for each of ${FINGERPRINT_KEYS.join(', ')}` };
  const fp = Object.fromEntries(readLines(out, shape, /^([a-z][a-z0-9-]*)=(.*)$/, (m) => [m[1], m[2].trim()]));
  const empty = FINGERPRINT_KEYS.filter((k) => !fp[k]);
  if (empty.length) throw new UnexpectedOutput(shape, out, `nothing for ${empty.join(', ')} (the command that prints ${empty.length > 1 ? 'them' : 'it'} found nothing on this host)`);
  return fp;
}

/** Linux (the lab): /proc. */
export const LINUX_FINGERPRINT = [
  `echo "cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"`,
  'echo "cpus=$(nproc)"',
  `echo "memory=$(awk '/^MemTotal:/ { print int($2 / 1024) " MiB" }' /proc/meminfo)"`,
  'echo "os=$(uname -sr)"',
].join('; ');

/**
 * illumos (raw bhyve, SmartOS, OmniOS): `psrinfo -pv` ends with the CPU brand
 * line; prtconf prints `Memory size: 65432 Megabytes`; `uname -sr` is SunOS
 * 5.11 whatever the build.
 */
export const ILLUMOS_FINGERPRINT = [
  `echo "cpu=$(psrinfo -pv | tail -n 1 | sed 's/^[[:space:]]*//')"`,
  'echo "cpus=$(psrinfo | wc -l | tr -d " ")"',
  `echo "memory=$(prtconf 2>/dev/null | awk '/^Memory size/ { print $3 " MiB" }')"`,
  'echo "os=$(uname -sr)"',
].join('; ');

/** FreeBSD: sysctl; the OS and its machine, not its release (`uname -r` is the build's: host-life/build.ts). */
export const FREEBSD_FINGERPRINT = [
  'echo "cpu=$(sysctl -n hw.model)"',
  'echo "cpus=$(sysctl -n hw.ncpu)"',
  'echo "memory=$(( $(sysctl -n hw.physmem) / 1048576 )) MiB"',
  'echo "os=$(uname -sm)"',
].join('; ');
