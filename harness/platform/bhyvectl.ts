// Parsers for bhyvectl output, shared by every platform that has bhyvectl
// (illumos usr/src/cmd/bhyvectl/bhyvectl.c; FreeBSD usr.sbin/bhyvectl).

/** `--get-stats`: a `vcpuN stats:` header, then `printf("%-40s\t%ld\n", desc, value)` lines. */
export function parseVcpuStats(text: string): Map<string, number> {
  const stats = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(.*\S)\s*\t(-?\d+)$/.exec(line);
    if (m) stats.set(m[1], Number(m[2]));
  }
  return stats;
}

/** `--get-active-cpus`: `active cpus:\t 0, 1` or `active cpus:\t (none)`. */
export function parseCpuList(text: string): number[] {
  const m = /:\t(.*)$/m.exec(text);
  if (!m || m[1].trim() === '(none)') return [];
  return m[1].split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n));
}
