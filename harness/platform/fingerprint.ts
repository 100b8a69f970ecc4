// A host's fingerprint: what makes its numbers comparable with another's — CPU
// model and count, memory, OS or platform image, bhyve build. Each platform's
// recipe prints `key=value` lines; results keep them, compare warns when a
// baseline and a candidate host differ.

/** Parses `key=value` lines; blank values and other lines are left out. */
export function parseFingerprint(out: string): Record<string, string> {
  const fp: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^([a-z][a-z0-9-]*)=(.*)$/.exec(line.trim());
    if (m && m[2].trim()) fp[m[1]] = m[2].trim();
  }
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
