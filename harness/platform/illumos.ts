// illumos: raw bhyve in the global zone (bhyve(8), bhyvectl(8) of illumos-gate).
import { ILLUMOS_FINGERPRINT } from './fingerprint.ts';
import { illumosCrash } from './illumos-crash.ts';
import type { BootEnvironment, BootEnvironmentRecipe, ConsoleSpec, FramebufferSettings, FramebufferSpec, Platform, VmLaunch } from './types.ts';
import { shQuote } from '../transport/quote.ts';
import { supervisedPlan } from './supervised.ts';
import { DEV_VMM_LISTING, destroySupervisedVm } from './teardown.ts';
import { ILLUMOS_MAY_CREATE_VNICS, vnicLinks } from './links.ts';
import { ILLUMOS_ERRNO } from './bhyvectl.ts';
import { parseFindstack, VMM_FUNCTION } from './stacks.ts';
import { kstatProgress } from './vcpu-stats.ts';
import { oneLine, readLines } from './host-output.ts';
import { dtraceWrlockTrace } from './wrlock-trace.ts';
import { pbindPinning } from './vcpu-pinning.ts';

/**
 * The bhyve command line, in the shape of bhyve(8)'s example: hostbridge and
 * lpc, the boot disk at slot 4, the NIC at 6 (viona, on the vm's own VNIC),
 * com1 on a unix socket (illumos's `socket,PATH` backend), the bootrom, and
 * the vm name last. `-w` ("Ignore accesses to unimplemented Model Specific
 * Registers ... intended for debug purposes", bhyve(8)) would hide an MSR
 * regression, so only a guest that asks for it gets it.
 */
export const illumosBhyveArgv = (vm: VmLaunch): string[] => [
  '/usr/sbin/bhyve',
  '-c', String(vm.cpus),
  '-m', `${vm.memoryMiB}M`,
  '-H', ...(vm.ignoreUnimplementedMsrs ? ['-w'] : []),
  '-s', '0,hostbridge',
  '-s', '4,virtio-blk,' + vm.disk,
  '-s', `6,virtio-net-viona,${vm.nic}`,
  ...(vm.slots ?? []).flatMap((slot) => ['-s', slot]),
  '-s', '31,lpc',
  '-l', `com1,${vm.console}`,
  '-l', `bootrom,${vm.bootrom}`,
  vm.name,
];

/** illumos's `socket,PATH` uart backend: a unix stream server that takes one client. */
export const socketConsole = (vmDir: string): ConsoleSpec => ({
  backend: `socket,${vmDir}/com1.sock`,
  attach: { kind: 'unix', path: `${vmDir}/com1.sock` },
  describe: `unix socket ${vmDir}/com1.sock (e.g. socat - UNIX-CONNECT:${vmDir}/com1.sock)`,
});

/** fbuf's size and VNC password options, the same in illumos and FreeBSD bhyve(8). */
export const fbufOptions = (fb: FramebufferSettings) => `w=${fb.width},h=${fb.height}${fb.password ? `,password=${fb.password}` : ''}`;

/**
 * The framebuffer at slot 30 (as SmartOS and OmniOS zones put it), serving RFB
 * on a unix socket in the vm's folder: illumos bhyve's `unix=` option, which
 * needs no port and is reachable only by whoever may read the folder.
 */
export const unixFramebuffer = (vmDir: string, _vmName: string, fb: FramebufferSettings): FramebufferSpec => ({
  device: `30,fbuf,unix=${vmDir}/vnc.sock,${fbufOptions(fb)}`,
  endpoint: { kind: 'unix', path: `${vmDir}/vnc.sock` },
});

/** A plain file image has no copy-on-write: each vm gets a full copy (pin big images as ZFS snapshots). */
export const copyFile = (golden: string, vmDir: string) => ({ create: `cp ${golden} ${shQuote(`${vmDir}/disk.img`)}`, disk: `${vmDir}/disk.img` });

/** Kernel and userland stacks of a hung bhyve, and the vmm's own view of the vm (illumos, in the global zone). */
export const illumosEvidence = (vmm: string, pid: string) => [
  { name: 'kernel-stacks', command: `mdb -ke "0t${pid}::pid2proc | ::walk thread | ::findstack -v"` },
  { name: 'stacks-vmm', command: `mdb -ke '::stacks -m vmm'` },
  { name: 'stacks-viona', command: `mdb -ke '::stacks -m viona'` },
  { name: 'pstack', command: `pstack ${pid}` },
  { name: 'vmm', command: `mdb -ke ${shQuote(`::vmm -n ${vmm}`)}` },
];

/**
 * The kernel's boot time, seconds since the epoch (`kstat -p
 * unix:0:system_misc:boot_time`: `unix:0:system_misc:boot_time<TAB>N`,
 * kstat_fr.c): a read that takes no vmm lock. A clock step does not move it
 * (only one forward jump of a day or more, once a boot, on a host without a
 * TOD clock: tod_set()).
 */
const ILLUMOS_BOOT_ID = {
  command: 'kstat -p unix:0:system_misc:boot_time',
  parse: (out: string) => oneLine(out, { command: 'kstat -p unix:0:system_misc:boot_time', expected: '`unix:0:system_misc:boot_time<TAB>SECONDS` (kstat -p)' }, /^unix:0:system_misc:boot_time\t(\d+)$/)[1],
};

/**
 * The build (host-life/build.ts). `uname -v` is the build's VERSION
 * (usr/src/tools/env/illumos.sh: omnios-r151048-…; SmartOS
 * joyent_20240208T000614Z, tools/build_illumos); /etc/release's first line
 * names the release. The vmm driver is /usr/kernel/drv/amd64/vmm
 * (usr/src/pkg/manifests/system-bhyve.p5m; SmartOS's platform image the same,
 * illumos-joyent `manifest`, which ships digest too), loaded when modinfo lists a
 * module named vmm (usr/src/cmd/modload/modinfo.c: the sixth column),
 * hashed with digest(1). `uname -v` does not tell a DEBUG kernel; where the
 * OS is packaged with IPS (OmniOS, OpenIndiana) the image's variant
 * debug.illumos does (pkg(1) `variant -H -F tsv`: `variant.debug.illumos
 * <TAB> true|false`, pkg5 client.py list_variant()); elsewhere it is unknown.
 */
export const ILLUMOS_BUILD = [
  'echo "platform=$(uname -v)"',
  `echo "release=$(sed -n '1s/^[[:space:]]*//p' /etc/release)"`,
  `if modinfo | awk '$6 == "vmm" { f = 1 } END { exit !f }'; then echo vmm-loaded=yes; else echo vmm-loaded=no; fi`,
  'echo vmm-file=/usr/kernel/drv/amd64/vmm',
  'echo "vmm-sha256=$(digest -a sha256 /usr/kernel/drv/amd64/vmm)"',
  'd=$(pkg variant -H -F tsv variant.debug.illumos 2>/dev/null | cut -f 2)',
  'case "$d" in true) echo debug=yes ;; false) echo debug=no ;; *) echo debug=unknown ;; esac',
].join('; ');

/**
 * `beadm list -H`: one line a boot environment, `;`-separated: name, uuid,
 * flags, mountpoint, space (bytes), policy, creation time (beadm.c
 * print_be_nodes(): "%s;%s;%s;%s;%llu;%s;%ld\n"). Flags: N active now, R
 * active on reboot, T this next boot only; empty when none (x and b only in a
 * non-global zone).
 */
export function parseBeadmList(output: string, command = 'beadm list -H'): BootEnvironment[] {
  return readLines(output, { command, expected: '`NAME;UUID;FLAGS;MOUNTPOINT;SPACE;POLICY;CREATED` lines (beadm.c print_be_nodes(), -H)' },
    /^([^;]+);([^;]*);([NRTxb]*);([^;]*);(\d+);([^;]*);(-?\d+)$/, (m) => ({ name: m[1], active: m[3].includes('N'), next: m[3].includes('R'), once: m[3].includes('T') }));
}

/**
 * beadm as illumos and OmniOS ship it (usr/src/cmd/beadm/beadm.c): `activate
 * BE` makes it the pool's bootfs (R) and prints `Activated successfully`;
 * an unknown BE is "BE does not exist or appear to be a valid BE." and a
 * non-zero exit (libbe's error number, 4003 & 0xff = 163). Not `-t`: a fast
 * reboot boots the bootfs BE (libbe be_get_boot_args()), not the one-time one.
 */
export const beadmBootEnvironments = (beadm: string): BootEnvironmentRecipe => ({
  tool: 'beadm',
  list: { command: `${shQuote(beadm)} list -H`, parse: (out) => parseBeadmList(out, `${beadm} list -H`) },
  activate: (be) => `${shQuote(beadm)} activate ${shQuote(be)}`,
});

/**
 * Reboots an illumos host: reboot(8) (usr/src/cmd/halt/halt.c) halts the
 * zones, SIGTERMs every process, the ssh session's included, and never
 * returns 0 to its caller; started detached a moment later, so the command
 * that asks for it returns first.
 */
export const ILLUMOS_REBOOT = "nohup sh -c 'sleep 1; exec /usr/sbin/reboot' </dev/null >/dev/null 2>&1 &";

/** What every illumos platform shares: bhyve and bhyvectl of the OS, its fingerprint, memory, kstats and stacks. */
export const illumosBase = {
  bhyve: '/usr/sbin/bhyve',
  bhyvectl: '/usr/sbin/bhyvectl',
  errnoNames: ILLUMOS_ERRNO,
  uname: 'SunOS',
  bootId: ILLUMOS_BOOT_ID,
  // freemem is in pages (kstat unix:0:system_pages), pagesize(1) in bytes.
  fingerprint: ILLUMOS_FINGERPRINT,
  build: ILLUMOS_BUILD,
  crash: illumosCrash(),
  reboot: ILLUMOS_REBOOT,
  freeMemoryMiB: "echo $(( $(kstat -p unix:0:system_pages:freemem | awk '{ print $2 }') * $(pagesize) / 1048576 ))",
  workRoot: '/var/tmp/bhyve-smoke',
  leaseRoot: '/var/tmp/bhyve-smoke-leases',
  // illumos has no setsid(1); nohup keeps a detached process alive when the session ends.
  detach: (command: string) => `nohup ${command} </dev/null >/dev/null 2>&1 &`,
  sha256File: 'digest -a sha256 "$f"',
  // The raw device: bhyve(8)'s example boots /dev/zvol/rdsk/tank/hdd0.
  zvol: (dataset: string) => `/dev/zvol/rdsk/${dataset}`,
  vcpuProgress: kstatProgress,
  // kernel-stacks is mdb's ::findstack -v of the bhyve process (illumosEvidence).
  stacks: { evidence: 'kernel-stacks', parse: parseFindstack, ours: (fn: string) => VMM_FUNCTION.test(fn) },
  // DTrace's syscall provider: in the global zone, where the harness runs raw bhyve and the zone brands' vms alike.
  wrlockTrace: dtraceWrlockTrace,
  // bhyve has no -p here: pbind of its "vcpu N" threads, from the global zone.
  pinning: pbindPinning,
} as const;

const ILLUMOS_VNICS = vnicLinks('/usr/sbin/dladm', ILLUMOS_MAY_CREATE_VNICS);

export const illumosPlatform = (): Platform => ({
  ...illumosBase,
  kind: 'illumos',
  bootEnvironments: beadmBootEnvironments('/usr/sbin/beadm'),
  images: ['file', 'zfs'],
  plan: (host, vm) => supervisedPlan(host, vm, illumosBhyveArgv),
  // viona takes a VNIC, and a VNIC one viona: a VNIC per vm over hosts.X.nic.
  links: ILLUMOS_VNICS,
  hostChecks: ILLUMOS_VNICS.checks,
  console: socketConsole,
  framebuffer: unixFramebuffer,
  listVms: DEV_VMM_LISTING,
  destroyVm: (vm, dir, destroyClone) => destroySupervisedVm('/usr/sbin/bhyvectl', vm, dir, { destroyClone, links: ILLUMOS_VNICS }),
  imagePath: shQuote,
  cloneFile: copyFile,
  evidence: (vm, pid) => illumosEvidence(vm.vmm, pid),
});
