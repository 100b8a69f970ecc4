// vCPU progress from `bhyvectl --vm=NAME --cpu=N --get-stats`, whose lines are
// `printf("%-40s\t%ld\n", description, value)` under a `vcpuN stats:` header
// (bhyvectl.c on illumos and FreeBSD; the lab prints the same shape). The
// recipe prints `vcpuN VALUE` for the one stat that grows while a vCPU runs,
// and `R N` before reading vCPU N: on FreeBSD VM_STATS freezes the vCPU it
// reads (sys/dev/vmm/vmm_dev.c: VMMDEV_IOCTL_LOCK_ONE_VCPU, which waits in
// vcpu_set_state() for it to leave guest context), so a read that never
// returns is a vCPU that cannot be frozen, and the watch names it.
import { shQuote } from '../transport/quote.ts';

export const statsProgress = (bhyvectl: string, stat: string) => (vmName: string, cpus: number): string =>
  `for c in ${Array.from({ length: cpus }, (_, i) => i).join(' ')}; do echo "R $c"; ${shQuote(bhyvectl)} --vm=${shQuote(vmName)} --cpu=$c --get-stats 2>/dev/null | ` +
  `awk -F '\t' -v c="$c" -v want=${shQuote(stat)} '{ d = $1; sub(/ +$/, "", d) } d == want { print "vcpu" c, $2 }'; done`;

/** `vcpu0 123456` lines into counters by vCPU. */
export function parseVcpuProgress(output: string): Map<number, number> {
  const counters = new Map<number, number>();
  for (const m of output.matchAll(/^vcpu(\d+) (\d+)$/gm)) counters.set(Number(m[1]), Number(m[2]));
  return counters;
}
