// A host's fingerprint: what makes its numbers comparable with another's — CPU
// model and count, memory, OS or platform image, bhyve build. Each platform's
// recipe prints `key=value` lines; results keep them, compare warns when a
// baseline and a candidate host differ.
import { readLines, UnexpectedOutput } from './host-output.ts';

/** What every platform's recipe prints. */
export const FINGERPRINT_KEYS = ['cpu', 'cpus', 'memory', 'os', 'bhyve'] as const;

/** Parses the recipe's `key=value` lines: every line one, every key of FINGERPRINT_KEYS there and not empty. */
export function parseFingerprint(out: string, command = "the platform's fingerprint recipe (harness/platform/fingerprint.ts)"): Record<string, string> {
  const shape = { command, expected: `\`key=value\` lines, one for each of ${FINGERPRINT_KEYS.join(', ')}` };
  const fp = Object.fromEntries(readLines(out, shape, /^([a-z][a-z0-9-]*)=(.*)$/, (m) => [m[1], m[2].trim()]));
  const empty = FINGERPRINT_KEYS.filter((k) => !fp[k]);
  if (empty.length) throw new UnexpectedOutput(shape, out, `nothing for ${empty.join(', ')} (the command that prints ${empty.length > 1 ? 'them' : 'it'} found nothing on this host)`);
  return fp;
}

/** Linux (the lab): /proc, and the QEMU that stands in for bhyve. */
export const LINUX_FINGERPRINT = [
  `echo "cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"`,
  'echo "cpus=$(nproc)"',
  `echo "memory=$(awk '/^MemTotal:/ { print int($2 / 1024) " MiB" }' /proc/meminfo)"`,
  'echo "os=$(uname -sr)"',
  'echo "bhyve=lab over $(qemu-system-x86_64 --version 2>/dev/null | head -n 1)"',
].join('; ');

/**
 * illumos (raw bhyve, SmartOS, OmniOS): bhyve ships with the OS, so the
 * platform image or OS build (`uname -v`: joyent_20240208T000614Z,
 * omnios-r151048-…) is its build. `psrinfo -pv` ends with the CPU brand line;
 * prtconf prints `Memory size: 65432 Megabytes`.
 */
export const ILLUMOS_FINGERPRINT = [
  `echo "cpu=$(psrinfo -pv | tail -n 1 | sed 's/^[[:space:]]*//')"`,
  'echo "cpus=$(psrinfo | wc -l | tr -d " ")"',
  `echo "memory=$(prtconf 2>/dev/null | awk '/^Memory size/ { print $3 " MiB" }')"`,
  'echo "os=$(uname -sr)"',
  'echo "bhyve=$(uname -v)"',
].join('; ');

/** FreeBSD: sysctl; bhyve is in base, so the userland version is its build. */
export const FREEBSD_FINGERPRINT = [
  'echo "cpu=$(sysctl -n hw.model)"',
  'echo "cpus=$(sysctl -n hw.ncpu)"',
  'echo "memory=$(( $(sysctl -n hw.physmem) / 1048576 )) MiB"',
  'echo "os=$(uname -sr)"',
  'echo "bhyve=$(freebsd-version -u)"',
].join('; ');
