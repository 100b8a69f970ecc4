// OmniOS: vms are zones of the bhyve brand (omniosorg bhyve brand README, the
// attribute table), configured with zonecfg, installed and booted with
// zoneadm. The vm's disk is a ZFS clone of the golden snapshot passed to the
// zone as its bootdisk; its NIC a VNIC the zone creates on the host's link
// as it boots (net `global-nic`); com1 and the framebuffer are sockets in the
// zone's /tmp. bhyvectl knows the vm by the zone's name, and the zone watcher
// (zone-watch.ts) logs its exits.
import type { Host } from './types.ts';
import { ConfigError, InfraError } from '../errors.ts';
import { cloneFor } from '../image/clone.ts';
import { shQuote } from '../transport/quote.ts';
import { beadmBootEnvironments, fbufOptions, illumosBase, illumosEvidence } from './illumos.ts';
import { finishTeardown, stopSupervisor } from './teardown.ts';
import { writePinScript } from './vcpu-pinning.ts';
import type { ConsoleSpec, FramebufferSettings, FramebufferSpec, ListedVm, Platform, VmPlan, VmRequest } from './types.ts';
import { parseZoneList, socketInode, watchZone } from './zone-watch.ts';
import { vmPlan } from './plan.ts';
import { vnicName, vnicOverCheck } from './links.ts';

/** The brand's init starts bhyve itself (the support script stops it with `pkill -z ZONE bhyve`). */
const BHYVE_PROCESS = 'bhyve';
const COM1_IN_ZONE = '/tmp/vm.com1';
const VNC_IN_ZONE = '/tmp/vm.vnc';
/** Where zones go unless the host says (hosts.X.zoneRoot). */
export const DEFAULT_ZONE_ROOT = '/zones';

/** A vm's zonepath: under the host's zone root, named after the vm. */
export const zonepathOf = (zoneRoot: string, vmName: string) => `${zoneRoot.replace(/\/+$/, '')}/${vmName}`;

/**
 * A zonecfg value, always quoted. After `set`, zonecfg's lexer takes an
 * unquoted token only up to a blank, `"`, `;`, `=`, `[`, `]`, `(` or `)`
 * (usr/src/cmd/zonecfg/zonecfg_lex.l, the TSTATE token rule), so a value such
 * as fbuf's `unix=/tmp/vm.vnc,w=800` is a syntax error unquoted; a quoted
 * string runs to the next `"` and knows no escape, so a value holding `"` or
 * a newline cannot be carried at all. OmniOS's own `zonecfg export` quotes
 * every value for the same reason (zonecfg.c export_prop()).
 */
function zonecfgValue(value: string, what: string): string {
  if (/["\n]/.test(value)) throw new ConfigError(`${what}: ${JSON.stringify(value)} cannot go into a zone configuration (no double quote or newline)`);
  return `"${value}"`;
}

/** The zonecfg command file for a vm (the brand README's example, in `export` form). */
export function omniosZonecfg(vm: VmRequest, o: { zonepath: string; nic: string; dataset: string; device: string }): string {
  const attr = (name: string, value: string) => ['add attr', `set name=${name}`, 'set type=string', `set value=${zonecfgValue(value, `zone attribute ${name}`)}`, 'end'];
  return [
    'create -b',
    'set brand=bhyve',
    `set zonepath=${zonecfgValue(o.zonepath, 'zonepath')}`,
    'set autoboot=false',
    'set ip-type=exclusive',
    // The VNIC is created over the host's link when the zone boots, and removed when it halts.
    'add net', `set physical=${vnicName(vm.name)}`, `set global-nic=${zonecfgValue(o.nic, 'hosts.nic')}`, 'end',
    // The brand needs the disk device passed through beside the bootdisk attribute (README note 1).
    'add device', `set match=${zonecfgValue(o.device, 'disk device')}`, 'end',
    ...attr('bootdisk', o.dataset),
    ...attr('vcpus', String(vm.cpus)),
    ...attr('ram', `${vm.memoryMiB}M`),
    ...attr('bootrom', vm.bootrom),
    ...attr('console', vm.console.backend),
    ...(vm.framebuffer ? attr('vnc', vm.framebuffer.device) : []),
    '',
  ].join('\n');
}

/** Firmware names the brand still takes for files gone since r151035 (boot.py aliases['bootrom']). */
const BOOTROM_ALIASES: Record<string, string> = {
  'BHYVE_DEBUG-2.70': 'BHYVE_DEBUG',
  'BHYVE_DEBUG_CSM-2.40': 'BHYVE_DEBUG_CSM',
  'BHYVE_RELEASE-2.70': 'BHYVE_RELEASE',
  'BHYVE_RELEASE_CSM-2.40': 'BHYVE_RELEASE_CSM',
};

/**
 * The file the brand boots for a `bootrom` attribute (pkg5 src/brand/bhyve/
 * boot.py): an absolute path as it is; any other name in
 * /usr/share/bhyve/firmware, with `.fd` added unless it ends in `.fd`.
 */
export function omniosBootrom(bootrom: string): string {
  const name = BOOTROM_ALIASES[bootrom] ?? bootrom;
  if (name.startsWith('/')) return name;
  return `/usr/share/bhyve/firmware/${name}${name.endsWith('.fd') ? '' : '.fd'}`;
}

/** `zoneadm list -cp`: the bhyve zones on the host, by name (the zone name is the vm name). */
export const parseBhyveZones = (output: string): ListedVm[] =>
  parseZoneList(output).filter((z) => z.brand === 'bhyve').map((z) => ({ name: z.name, id: z.name }));

/** The zone in a `zoneadm list -cp` listing that has the name or the zonepath a new vm wants, if any (of any brand). */
export const zoneTaken = (listing: string, name: string, zonepath: string) =>
  parseZoneList(listing).find((zone) => zone.name === name || zone.path === zonepath);

/** Removing a zone however far it got: halt, uninstall, forget its configuration; then its clone and folder. */
export function destroyOmniosVm(vm: ListedVm, vmDir: string, destroyClone?: string): string {
  const dir = shQuote(vmDir);
  const z = shQuote(vm.id);
  return [
    stopSupervisor(dir),
    `if zoneadm -z ${z} list >/dev/null 2>&1; then zoneadm -z ${z} halt >/dev/null 2>&1; zoneadm -z ${z} uninstall -F >/dev/null 2>&1; zonecfg -z ${z} delete -F || exit $?; fi`,
    ...finishTeardown(dir, destroyClone ? [destroyClone] : []),
  ].join('; ');
}

function omniosPlan(host: Host, vm: VmRequest, zoneRoot: string): VmPlan {
  const clone = cloneFor(host.platform, host, vm.image, vm.name, vm.dir);
  const zonepath = zonepathOf(zoneRoot, vm.name);
  const config = omniosZonecfg(vm, { zonepath, nic: host.nic, dataset: clone.dataset!, device: clone.disk });
  const dir = shQuote(vm.dir);
  const z = shQuote(vm.name);
  return vmPlan({ id: vm.name, dir: vm.dir, destroy: destroyOmniosVm({ name: vm.name, id: vm.name }, vm.dir, clone.destroy), dataset: clone.dataset }, async (making) => {
    // Nothing is made while the name, the zonepath or the clone's dataset is someone's.
    const zones = await host.exec('zoneadm list -cp', { doing: `checking that zone ${vm.name} is free on ${host.name}` });
    const taken = zoneTaken(zones.stdout, vm.name, zonepath);
    if (taken) throw new InfraError(`host ${host.name}: zone ${taken.name} (${taken.state}, at ${taken.path}) is there already; bhyve-smoke makes zone ${vm.name} at ${zonepath} only where neither is taken`);
    const dataset = await host.exec(`zfs list -H -o name ${shQuote(clone.dataset!)}`, { doing: `checking that ${clone.dataset} is free`, check: false });
    if (dataset.exitCode === 0) throw new InfraError(`host ${host.name}: ${clone.dataset} already exists; bhyve-smoke clones ${vm.name}'s disk only where nothing is`);
    making();
    await host.exec(clone.create, { doing: `cloning the disk of ${vm.name}`, timeoutMs: 600_000 });
    await host.exec(`cat > ${dir}/zonecfg.cmd && zonecfg -z ${z} -f ${dir}/zonecfg.cmd`, { doing: `configuring zone ${vm.name}`, input: config });
    await host.exec(`zoneadm -z ${z} install`, { doing: `installing zone ${vm.name}`, timeoutMs: 600_000 });
    await host.exec(`zoneadm -z ${z} boot`, { doing: `booting zone ${vm.name}`, timeoutMs: 120_000 });
    // A guest reboot restarts bhyve in place; its console socket, bound anew, tells it.
    // The watcher pins each bhyve it sees: the brand's `extra` attributes reach a bhyve without -p (boot.py).
    await writePinScript(host, vm, vm.name);
    await watchZone(host, vm.dir, vm.name, BHYVE_PROCESS, socketInode(`${zonepath}/root${COM1_IN_ZONE}`));
    return { vmm: vm.name, commandLine: `zonecfg -z ${vm.name} -f - <<'EOF'\n${config}EOF\nzoneadm -z ${vm.name} install && zoneadm -z ${vm.name} boot` };
  });
}

/** The platform for a host whose zones go under `zoneRoot` (hosts.X.zoneRoot). */
export function omniosPlatform(zoneRoot = DEFAULT_ZONE_ROOT): Platform {
  const inZone = (vmName: string, path: string) => `${zonepathOf(zoneRoot, vmName)}/root${path}`;
  return {
    ...illumosBase,
    kind: 'omnios',
    images: ['zfs'],
    bootEnvironments: beadmBootEnvironments('/usr/sbin/beadm'),
    requires: ['/usr/sbin/zonecfg', '/usr/sbin/zoneadm', '/usr/lib/brand/bhyve', zoneRoot],
    plan: (host, vm) => omniosPlan(host, vm, zoneRoot),
    // The brand makes each vm's VNIC over this link as the zone readies (shared/vnic.ksh config_vnics()).
    hostChecks: (nic) => [vnicOverCheck('/usr/sbin/dladm', nic)],
    // bhyve's own socket backend in the zone's /tmp (the README's `console` example): `zlogin -C` needs a terminal on stdin.
    console: (_vmDir: string, vmName: string): ConsoleSpec => {
      const path = inZone(vmName, COM1_IN_ZONE);
      return { backend: `socket,${COM1_IN_ZONE}`, attach: { kind: 'unix', path }, describe: `unix socket ${path} (socat - UNIX-CONNECT:${path})` };
    },
    framebuffer: (_vmDir: string, vmName: string, fb: FramebufferSettings): FramebufferSpec => ({
      // `vnc` takes fbuf's options (README note 5: on = unix=/tmp/vm.vnc).
      device: `unix=${VNC_IN_ZONE},${fbufOptions(fb)}`,
      endpoint: { kind: 'unix', path: inZone(vmName, VNC_IN_ZONE) },
    }),
    listVms: { command: 'zoneadm list -cp', parse: parseBhyveZones },
    destroyVm: destroyOmniosVm,
    imagePath: (path) => shQuote(omniosBootrom(path)),
    evidence: (vm, pid) => [
      ...illumosEvidence(vm.vmm, pid),
      { name: 'zone', command: `zoneadm -z ${shQuote(vm.id)} list -p; zonecfg -z ${shQuote(vm.id)} export` },
      // The brand's boot log (README: "review the log file … /path/to/zone/root/tmp/init.log").
      { name: 'zone-init-log', command: `cat "$(zoneadm -z ${shQuote(vm.id)} list -p | cut -d: -f4)/root/tmp/init.log"` },
    ],
  };
}
