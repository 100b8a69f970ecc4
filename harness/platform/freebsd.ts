// FreeBSD: bhyve(8) with the console on an nmdm(4) pair. FreeBSD's bhyvectl has
// no write-lock cycle, so tests that need it are skipped there.
import { FREEBSD_FINGERPRINT } from './fingerprint.ts';
import { createHash } from 'node:crypto';
import type { BootEnvironment, BootEnvironmentRecipe, Platform, VmLaunch } from './types.ts';
import { shQuote } from '../transport/quote.ts';
import { statsProgress } from './vcpu-stats.ts';
import { copyFile, fbufOptions } from './illumos.ts';
import { supervisedPlan } from './supervised.ts';
import { DEV_VMM_LISTING, destroySupervisedVm } from './teardown.ts';
import { tapLinks } from './links.ts';
import { FREEBSD_ERRNO } from './bhyvectl.ts';
import { parseProcstatKk, FREEBSD_VMM_FUNCTION } from './stacks.ts';
import { FREEBSD_CRASH } from './freebsd-crash.ts';
import { oneLine, readLines } from './host-output.ts';
import { bhyvePinArgs } from './vcpu-pinning.ts';

/** bhyve(8)'s FreeBSD command line: the Handbook's slots, the NIC the vm's own tap. */
export const freebsdBhyveArgv = (vm: VmLaunch) => [
  '/usr/sbin/bhyve',
  '-c', String(vm.cpus), '-m', `${vm.memoryMiB}M`, '-A', '-H', '-P',
  '-s', '0:0,hostbridge', '-s', '1:0,lpc',
  '-s', `2:0,virtio-net,${vm.nic}`, '-s', `3:0,virtio-blk,${vm.disk}`,
  ...(vm.slots ?? []).flatMap((slot) => ['-s', slot]),
  '-l', `com1,${vm.console}`,
  '-l', `bootrom,${vm.bootrom}`,
  // bhyve pins each vCPU thread itself (bhyve(8) -p: "A -p option is required for every guest vCPU to be pinned").
  ...bhyvePinArgs(vm.pinVcpus),
  vm.name,
];

/**
 * kern.boot_id: 16 random bytes drawn at the first read after boot
 * (sys/kern/kern_mib.c sysctl_bootid()). Not kern.boottime, which a clock
 * step moves (kern_tc.c tc_setclock(): "modifying our estimate of when we
 * booted"), so a wedged host whose clock was set would look rebooted. The
 * sysctl is opaque: `sysctl -n` prints nothing for it; `-x` prints
 * `kern.boot_id: Format: Length:16 Dump:0x<32 hex>` (sbin/sysctl/sysctl.c
 * show_var()). A FreeBSD without it says `unknown oid` and exits non-zero.
 */
const FREEBSD_BOOT_ID = {
  command: 'sysctl -x kern.boot_id',
  parse: (out: string) => oneLine(out, { command: 'sysctl -x kern.boot_id', expected: '`kern.boot_id: Format: Length:16 Dump:0x<32 hex digits>` (sysctl.c show_var(), kern_mib.c sysctl_bootid())' }, /^kern\.boot_id: Format:\S* Length:16 Dump:0x([0-9a-f]{32})$/)[1],
};

/**
 * The build (host-life/build.ts). `uname -v` is kern.version, the kernel's
 * version, build number, git hash and date (sys/conf/newvers.sh);
 * freebsd-version -ku the installed kernel and the userland (bhyve,
 * bhyvectl: bin/freebsd-version). The vmm module is the file `kldstat -v -n
 * vmm.ko` names (sbin/kldstat/kldstat.c: `vmm.ko (/boot/kernel/vmm.ko)`),
 * /boot/kernel/vmm.ko until it is loaded; hashed with sha256(1). A kernel
 * built with INVARIANTS has the sysctl kern.features.invariants
 * (sys/kern/init_main.c FEATURE(invariants)); one without has none.
 */
const FREEBSD_BUILD = [
  'echo "platform=$(uname -v)"',
  'echo "release=$(freebsd-version -ku | paste -sd " " -)"',
  `f=$(kldstat -v -n vmm.ko 2>/dev/null | sed -n 's/.* vmm\\.ko (\\(.*\\))$/\\1/p' | head -n 1)`,
  'if [ -n "$f" ]; then echo vmm-loaded=yes; else echo vmm-loaded=no; f=/boot/kernel/vmm.ko; fi',
  'echo "vmm-file=$f"; echo "vmm-sha256=$(sha256 -q "$f")"',
  'if sysctl -n kern.features.invariants >/dev/null 2>&1; then echo debug=yes; else echo debug=no; fi',
].join('; ');

/**
 * `bectl list -H`: one boot environment a line, fields joined by a tab:
 * name, flags, mountpoint, space, created (sbin/bectl/bectl_list.c
 * print_info(): "all delimiters/padding are a single tab"). Flags N active,
 * R next boot, T once, `-` none.
 */
export function parseBectlList(output: string): BootEnvironment[] {
  return readLines(output, { command: 'bectl list -H', expected: '`NAME<TAB>FLAGS<TAB>MOUNTPOINT<TAB>SPACE<TAB>CREATED` lines (bectl_list.c print_info(), -H)' },
    /^([^\t]+)\t([NRT]+|-)\t[^\t]+\t[^\t]+\t[^\t]+$/, (m) => ({ name: m[1], active: m[2].includes('N'), next: m[2].includes('R'), once: m[2].includes('T') }));
}

/**
 * bectl(8): `activate BE` makes it the pool's bootfs for every boot from now
 * on and prints `Successfully activated boot environment BE`; an unknown BE
 * prints `Did not successfully activate …` and exits 3 (BE_ERR_NOENT,
 * lib/libbe/be.h) (sbin/bectl/bectl.c bectl_cmd_activate()).
 */
const BECTL_BOOT_ENVIRONMENTS: BootEnvironmentRecipe = {
  tool: 'bectl',
  list: { command: '/sbin/bectl list -H', parse: parseBectlList },
  activate: (be) => `/sbin/bectl activate ${shQuote(be)}`,
};

export const freebsdPlatform = (): Platform => ({
  kind: 'freebsd',
  // illumos's bhyvectl has --wrlock-cycle under `#ifndef __FreeBSD__` (bhyvectl.c; illumos 12665); FreeBSD's none.
  lacks: { wrlock: "freebsd's bhyvectl has no --wrlock-cycle (an illumos option)", 'wrlock-trace': "freebsd's bhyvectl has no --wrlock-cycle: no cycle to trace" },
  // bhyve's own -p (freebsdBhyveArgv).
  pinning: { how: 'bhyve -p' },
  images: ['file', 'zfs'],
  bhyve: '/usr/sbin/bhyve',
  bhyvectl: '/usr/sbin/bhyvectl',
  errnoNames: FREEBSD_ERRNO,
  uname: 'FreeBSD',
  fingerprint: FREEBSD_FINGERPRINT,
  build: FREEBSD_BUILD,
  crash: FREEBSD_CRASH,
  bootEnvironments: BECTL_BOOT_ENVIRONMENTS,
  // shutdown(8) -r runs rc.shutdown, then init reboots; it forks and exits 0 at once (sbin/shutdown/shutdown.c), detached all the same.
  reboot: 'daemon -f /sbin/shutdown -r now',
  freeMemoryMiB: 'echo $(( $(sysctl -n vm.stats.vm.v_free_count) * $(sysctl -n hw.pagesize) / 1048576 ))',
  bootId: FREEBSD_BOOT_ID,
  workRoot: '/var/tmp/bhyve-smoke',
  leaseRoot: '/var/tmp/bhyve-smoke-leases',
  plan: (host, vm) => supervisedPlan(host, vm, freebsdBhyveArgv),
  // A tap takes one open: a tap per vm, on the bridge hosts.X.nic names.
  links: tapLinks,
  hostChecks: (bridge) => [
    ...tapLinks.checks(bridge),
    // com1 is an nmdm(4) pair; without the module bhyve cannot open it and exits 4 (uart_backend.c, bhyverun.c).
    { what: 'nmdm module', command: 'kldstat -q -m nmdm', judge: (_, code) => code === 0 || 'nmdm(4) is not loaded (kldload nmdm): the vms\' consoles are nmdm pairs' },
  ],
  console: (_vmDir, vmName) => {
    // nmdm(4) pairs are created on first open; a unit derived from the vm name keeps runs apart.
    const unit = [...createHash('sha256').update(vmName).digest().subarray(0, 3)].reduce((n, b) => n * 256 + b, 0) % 1_000_000;
    const b = `/dev/nmdm${unit}B`;
    return {
      backend: `/dev/nmdm${unit}A`,
      // The B end in raw mode on fd 3: the guest's output to stdout, stdin to the guest.
      attach: { kind: 'command', command: `exec 3<>${b} && stty raw -echo <&3 && { cat <&3 & exec cat >&3; }` },
      describe: `nmdm device ${b} (cu -l ${b})`,
    };
  },
  framebuffer: (_vmDir, vmName, fb) => {
    // FreeBSD's fbuf listens on TCP only: a port on loopback derived from the
    // vm name, in 5900-6899 (two vms of one host rarely meet there).
    const port = 5900 + ([...createHash('sha256').update(`vnc/${vmName}`).digest().subarray(0, 2)].reduce((n, b) => n * 256 + b, 0) % 1000);
    return {
      device: `29,fbuf,tcp=127.0.0.1:${port},${fbufOptions(fb)}`,
      endpoint: { kind: 'tcp', host: '127.0.0.1', port },
    };
  },
  listVms: DEV_VMM_LISTING,
  destroyVm: (vm, dir, destroyClone) => destroySupervisedVm('/usr/sbin/bhyvectl', vm, dir, { destroyClone, links: tapLinks }),
  detach: (command) => `daemon -f ${command}`,
  imagePath: shQuote,
  sha256File: 'sha256 -q "$f"',
  cloneFile: copyFile,
  zvol: (dataset) => `/dev/zvol/${dataset}`,
  // VMM_STAT(VCPU_TOTAL_RUNTIME, "vcpu total runtime") in sys/amd64/vmm/vmm.c.
  vcpuProgress: statsProgress('/usr/sbin/bhyvectl', 'vcpu total runtime'),
  evidence: (_vm, pid) => [{ name: 'kernel-stacks', command: `procstat -kk ${pid}` }],
  stacks: { evidence: 'kernel-stacks', parse: parseProcstatKk, ours: (fn) => FREEBSD_VMM_FUNCTION.test(fn) },
});
