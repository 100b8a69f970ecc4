// The lab platform: fixtures/lab's bhyve and bhyvectl over QEMU on a Linux host
// (see fixtures/lab/README.md). The same command lines as illumos, plus the
// lab's own paths.
import { LINUX_FINGERPRINT } from './fingerprint.ts';
import { realpathSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Platform, VmLaunch } from './types.ts';
import { illumosCrash } from './illumos-crash.ts';
import { beadmBootEnvironments, illumosBhyveArgv, socketConsole, unixFramebuffer } from './illumos.ts';
import { shQuote } from '../transport/quote.ts';
import { statsProgress } from './vcpu-stats.ts';
import { supervisedPlan } from './supervised.ts';
import { destroySupervisedVm, namesListing } from './teardown.ts';
import { vnicLinks } from './links.ts';
import { ILLUMOS_ERRNO } from './bhyvectl.ts';
import { parseGdbThreads } from './stacks.ts';
import { oneLine } from './host-output.ts';
import { labWrlockTrace } from './wrlock-trace.ts';
import { labPinning } from './vcpu-pinning.ts';

/** fixtures/lab of this checkout: right for the local host and for ssh to this machine. */
// Real path: the compiled CLI (dist/) reaches fixtures/ through a link, and paths of the lab are compared and passed on.
// From the sources (harness/platform/) or compiled (dist/harness/platform/): a package installed from npm pack or git holds no dist/fixtures link.
export const LOCAL_LAB_DIR = realpathSync(resolve(import.meta.dirname, basename(resolve(import.meta.dirname, '../..')) === 'dist' ? '../../..' : '../..', 'fixtures/lab'));
const LINUX_FREE_MIB = "awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo";
/** The lab's run root, as bhyve, bhyvectl and dladm choose it: its stand-in for the host's kernel state (vms, links, the vmm lock). */
export const LAB_RUN_ROOT = '${BHYVE_LAB_RUNDIR:-/tmp/bhyve-lab-$(id -u)}';
/** The lab's vm folders (its /dev/vmm). */
const LAB_VMM = `${LAB_RUN_ROOT}/vmm`;
const LAB_CACHE = '${BHYVE_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bhyve-smoke/lab}';
/** The lab host's one physical link, QEMU's user-mode network (fixtures/lab/bin/dladm). */
export const LAB_LINK = 'user0';

export function labPlatform(labDir: string = LOCAL_LAB_DIR, faults?: string, wrlockHook = true): Platform {
  // Without the hook: the lab's second build of bhyvectl (bin/lab-setup), which lacks --wrlock-cycle.
  const bhyvectl = `${labDir}/bin/${wrlockHook ? 'bhyvectl' : 'bhyvectl-without-wrlock-cycle'}`;
  // The lab's dladm answers illumos's command lines: a VNIC per vm, as on illumos.
  const vnics = vnicLinks(`${labDir}/bin/dladm`, {
    what: 'may create VNICs',
    command: `mkdir -p "${LAB_RUN_ROOT}" && [ -w "${LAB_RUN_ROOT}" ]`,
    judge: (_, code) => code === 0 || `the lab's run root ${LAB_RUN_ROOT} is not writable: its dladm keeps the VNICs there`,
  });
  return {
    kind: 'lab',
    images: ['file'],
    bhyve: `${labDir}/bin/bhyve`,
    bhyvectl,
    // The lab answers with illumos's errnos, as the host it stands in for.
    errnoNames: ILLUMOS_ERRNO,
    uname: 'Linux',
    fingerprint: LINUX_FINGERPRINT,
    freeMemoryMiB: LINUX_FREE_MIB,
    // The lab's host reset (its stand-in for a reboot) gives it a new boot id; before one, the Linux box's.
    bootId: {
      // Rebooting (lab-reboot: `down` in its run root), the host answers no boot id, as one that is down does not.
      command: `if [ -e "${LAB_RUN_ROOT}/down" ]; then echo "lab host rebooting" >&2; exit 1; fi; cat "${LAB_RUN_ROOT}/boot-id" 2>/dev/null || cat /proc/sys/kernel/random/boot_id`,
      parse: (out) => oneLine(out, { command: `cat ${LAB_RUN_ROOT}/boot-id`, expected: 'one uuid (the lab\'s boot-id file, or Linux\'s /proc/sys/kernel/random/boot_id)' }, /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/)[1],
    },
    hostReset: `${labDir}/bin/lab-host-reset`,
    // The lab's reboot: its own stand-in, by absolute path, never this machine's (fixtures/lab/bin/lab-reboot).
    reboot: `setsid ${shQuote(`${labDir}/bin/lab-reboot`)} </dev/null >/dev/null 2>&1 &`,
    // The lab's build: the stamp of the boot environment it runs, its vmm stand-in's code and the faults it acts out.
    build: `${shQuote(`${labDir}/bin/lab-build`)}${faults ? ` ${shQuote(faults)}` : ''}`,
    bootEnvironments: beadmBootEnvironments(`${labDir}/bin/beadm`),
    // A lab panic's record, in FMA's shapes (fixtures/lab/bin/fmdump, dumpadm); the lab saves no dump, so no mdb.
    crash: illumosCrash({ fmdump: `${labDir}/bin/fmdump`, dumpadm: `${labDir}/bin/dumpadm` }),
    workRoot: '/tmp/bhyve-smoke',
    // The lab host's leases live with its other state, so each lab run root is a host of its own.
    leaseRoot: `${LAB_RUN_ROOT}/leases`,
    // Faults reach the lab's bhyve through its environment (fixtures/lab/README.md).
    plan: (host, vm) => supervisedPlan(host, vm, (launch: VmLaunch) => [...(faults ? ['env', `BHYVE_LAB_FAULTS=${faults}`] : []), `${labDir}/bin/bhyve`, ...illumosBhyveArgv(launch).slice(1)]),
    links: vnics,
    defaultNic: LAB_LINK,
    hostChecks: vnics.checks,
    console: socketConsole,
    // The lab's bhyve turns fbuf into QEMU's VGA and VNC, on the same unix socket.
    framebuffer: unixFramebuffer,
    listVms: namesListing(`"${LAB_VMM}"`),
    destroyVm: (vm, dir, destroyClone) => destroySupervisedVm(bhyvectl, vm, dir, { destroyClone, links: vnics }),
    detach: (command) => `setsid ${command} </dev/null >/dev/null 2>&1 &`,
    imagePath: (path) => (path.startsWith('@lab/') ? `"${LAB_CACHE}"/${shQuote(path.slice(5))}` : shQuote(path)),
    sha256File: 'sha256sum -- "$f" | cut -d " " -f 1',
    // A qcow2 overlay on the golden disk: the vm's writes land in the overlay, in the vm's folder.
    cloneFile: (golden, vmDir) => {
      const disk = `${vmDir}/disk.qcow2`;
      return {
        create: `g=$(realpath ${golden}) && fmt=$(qemu-img info -U --output=json "$g" | sed -n 's/^ *"format": "\\([a-z0-9]*\\)".*/\\1/p' | head -n 1) && ` +
          `qemu-img create -q -f qcow2 -F "$fmt" -b "$g" ${shQuote(disk)}`,
        disk,
      };
    },
    iperf3Target: (vm) => `sed -n 's/.*"5201": "\\(.*\\)".*/\\1/p' "${LAB_VMM}/${vm}/net.json" | head -n 1`,
    // The lab's bhyve refuses -p as illumos's does: QEMU's vCPU threads are bound from outside.
    pinning: labPinning(LAB_VMM),
    // Without the hook there is no cycle to trace.
    ...(wrlockHook ? { wrlockTrace: labWrlockTrace(labDir) } : { lacks: { 'wrlock-trace': 'its bhyvectl has no --wrlock-cycle: no cycle to trace' } }),
    // QEMU has no vm-exit counters: the lab counts the host thread running each vCPU.
    vcpuProgress: statsProgress(bhyvectl, 'lab: vcpu thread cpu time (ns)'),
    // QEMU's vCPU threads (named "CPU n/TCG" or "/KVM") and the first QEMU function on each: where a frozen vCPU waits.
    stacks: { evidence: 'pstack', parse: parseGdbThreads, ours: (fn) => /^(qemu|cpu|kvm|tcg|mttcg|rr)_/.test(fn), threads: /^CPU \d+\// },
    evidence: (vm, bhyvePid) => {
      const run = `"${LAB_VMM}/${vm.vmm}"`;
      return [
        { name: 'pstack', command: `${labDir}/bin/pstack "$(cat ${run}/qemu.pid)"` },
        { name: 'bhyve-state', command: `cat ${run}/state.json; echo; cat ${run}/exits.log; echo "bhyve pid ${bhyvePid}"` },
      ];
    },
  };
}
