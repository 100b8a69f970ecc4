// vCPU progress: a counter per vCPU that moves whenever the vCPU runs, read on
// the host by the platform's recipe and parsed here, in the harness, so that
// output in a shape the parser does not read is an error quoting it, never a
// vCPU without a counter. Two sources: `bhyvectl --get-stats` (FreeBSD, the
// lab) and the vmm kstats (illumos, illumos.ts). A sample is `absent` when
// the vm is not there to read (between two bhyves of a reboot), and
// `unavailable` when the vm is there but the host keeps no counters of it (an
// illumos kernel without the vmm kstats): the watch then stands down, saying why.
import { readLines, UnexpectedOutput } from './host-output.ts';
import { shQuote } from '../transport/quote.ts';

export type VcpuSample = { counters: Map<number, number> } | { absent: string } | { unavailable: string };

/** How a platform reads its vCPU counters: the command for a vm of `cpus` vCPUs, and the parser of one sample of its output. */
export interface VcpuProgressRecipe {
  /** Where the counters come from: what the host's capability probe looks for (capabilities.ts). */
  readonly source: 'bhyvectl' | 'kstat';
  command(vmName: string, cpus: number): string;
  parse(sample: string, vmName: string, cpus: number): VcpuSample;
}

/**
 * `bhyvectl --vm=NAME --cpu=N --get-stats` for each vCPU, whose output is
 * `vcpuN stats:` then `printf("%-40s\t%ld\n", description, value)` lines
 * (bhyvectl.c on illumos and FreeBSD; the lab prints the same shape); `stat`
 * is the description of the one that grows while a vCPU runs. Each read is
 * framed by `R N` before and `X N STATUS` after: on FreeBSD VM_STATS freezes
 * the vCPU it reads (sys/dev/vmm/vmm_dev.c: VMMDEV_IOCTL_LOCK_ONE_VCPU, which
 * waits in vcpu_set_state() for it to leave guest context), so a read that
 * never returns is a vCPU that cannot be frozen, and the watch names it. A
 * vm that cannot be opened (`vm_open: NAME could not be opened: …` on stderr,
 * exit 1, bhyvectl.c main()) is not there.
 */
export const statsProgress = (bhyvectl: string, stat: string): VcpuProgressRecipe => ({
  source: 'bhyvectl',
  command: (vmName, cpus) =>
    `for c in ${Array.from({ length: cpus }, (_, i) => i).join(' ')}; do echo "R $c"; ${shQuote(bhyvectl)} --vm=${shQuote(vmName)} --cpu=$c --get-stats 2>&1; echo "X $c $?"; done`,
  parse: (sample, vmName, cpus) => {
    const counters = new Map<number, number>();
    const blocks = [...sample.matchAll(/^R (\d+)\n([\s\S]*?)^X \1 (\d+)$/gm)];
    for (let c = 0; c < cpus; c++) {
      const command = `${bhyvectl} --vm=${vmName} --cpu=${c} --get-stats`;
      const block = blocks.find((b) => Number(b[1]) === c);
      if (!block) throw new UnexpectedOutput({ command, expected: `its output framed by \`R ${c}\` and \`X ${c} STATUS\`` }, sample, `no read of vcpu${c} in the sample`);
      const [, , text, status] = block;
      if (status !== '0') {
        if (/^vm_open: .* could not be opened/m.test(text)) return { absent: `${vmName} could not be opened` };
        throw new UnexpectedOutput({ command, expected: `\`vcpu${c} stats:\` and \`DESCRIPTION<TAB>VALUE\` lines, exit 0` }, text, `it exited ${status}`);
      }
      const shape = { command, expected: `\`vcpu${c} stats:\`, then \`%-40s<TAB>%ld\` lines (bhyvectl.c), one of them \`${stat}\`` };
      const values = readLines(text, shape, /^(?:vcpu\d+ stats:|(.*?)\s*\t\s*(-?\d+))$/, (m) => (m[1] === undefined ? undefined : [m[1], Number(m[2])] as const));
      const value = values.find(([d]) => d === stat)?.[1];
      if (value === undefined) throw new UnexpectedOutput(shape, text, `no \`${stat}\` line`);
      counters.set(c, value);
    }
    return { counters };
  },
});

/**
 * vCPU progress from the vmm kstats, which take no lock of the vm: module
 * vmm, instance the vm's minor (found by its `vm:vm_name`), names vcpu0 …
 * vcpu31 with time_init, time_run, time_idle, time_emu_kern, time_emu_user
 * and time_sched in ns (vmm_sol_dev.c vmm_kstat_alloc(), vmm_kstat_init()).
 * They move only at a vCPU's state changes (vmm.c vcpu_ustate_change() adds
 * the time spent in the state it leaves; vmm_kstat_update_vcpu() adds nothing
 * for the current one), and time halted goes to time_idle, not time_run: a
 * healthy idle guest's time_run stands still. Their sum moves at every change,
 * whatever the states: a guest that runs, halts and wakes moves it; a vCPU
 * frozen by a wedged write lock changes no state and leaves every counter
 * flat. So the sum per vCPU is the counter, for the vm's own vCPUs only.
 * `kstat -p` prints `vmm:3:vcpu0:time_run<TAB>123456`. The recipe first says
 * whether the vm's device node exists (`dev` or `nodev`: /dev/vmm/NAME, which
 * the global zone sees for every vm), then prints the vm_name kstats of every
 * vm whole, then the vCPU kstats of ours (those of the vCPUs it does not have
 * left out on the host: 32 × 6 lines a sample would be most of what is
 * read), and the parser sums here.
 *
 * The kstats came with illumos #13723 (2021): an older kernel has the device
 * node and no kstat naming the vm. That is a host without vCPU counters
 * (`unavailable`), not a vm that is gone (`absent`, a reboot's gap), which a
 * watch would take for a hang. A newer kernel may make a vCPU's kstats only
 * when the vCPU is first used, so a vCPU without them has not run yet; the vm
 * with none of its vCPUs' kstats is output in another shape.
 */
export const kstatProgress: VcpuProgressRecipe = {
  source: 'kstat',
  command: (vmName, cpus) =>
    `if [ -e ${shQuote(`/dev/vmm/${vmName}`)} ]; then echo dev; else echo nodev; fi; ` +
    `names=$(kstat -p vmm:::vm_name); printf '%s\\n' "$names"; ` +
    `i=$(printf '%s\\n' "$names" | awk -F '\\t' -v n=${shQuote(vmName)} '$2 == n { split($1, a, ":"); print a[2] }'); ` +
    `[ -z "$i" ] || kstat -p "vmm:$i:/^vcpu[0-9]+$/:/^time_/" | awk -F '\\t' -v cpus=${cpus} '{ split($1, a, ":"); c = substr(a[3], 5) } c !~ /^[0-9]+$/ || c + 0 < cpus'`,
  parse: (sample, vmName, cpus) => {
    const shape = { command: `[ -e /dev/vmm/${vmName} ]; kstat -p vmm:::vm_name; kstat -p vmm:I:/^vcpu[0-9]+$/:/^time_/`, expected: '`dev` or `nodev`, then `vmm:I:vm:vm_name<TAB>NAME` and `vmm:I:vcpuN:time_STATE<TAB>NS` lines (kstat -p; vmm_sol_dev.c vmm_kstat_init())' };
    const lines = readLines(sample, shape, /^(?:(dev|nodev)|vmm:(\d+):(?:vm:vm_name\t(.*)|vcpu(\d+):time_[a-z_]+\t(\d+)))$/, (m) => m);
    const device = lines.find((m) => m[1])?.[1];
    if (!device) throw new UnexpectedOutput(shape, sample, 'no `dev` or `nodev` line first');
    const instance = lines.find((m) => m[3] === vmName)?.[2];
    if (instance === undefined) {
      return device === 'dev'
        ? { unavailable: `no vmm kstat names ${vmName} although /dev/vmm/${vmName} exists: this kernel keeps no vmm kstats (they came with illumos #13723)` }
        : { absent: `no vmm kstat has vm_name ${vmName}, and no /dev/vmm/${vmName}` };
    }
    const counters = new Map<number, number>();
    for (const m of lines) if (m[2] === instance && m[4] !== undefined && Number(m[4]) < cpus) counters.set(Number(m[4]), (counters.get(Number(m[4])) ?? 0) + Number(m[5]));
    if (counters.size === 0) throw new UnexpectedOutput(shape, sample, `no time_* kstat of any vCPU of ${vmName} (instance ${instance})`);
    return { counters };
  },
};
