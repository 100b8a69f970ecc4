// SmartOS (and Triton compute nodes): vms are zones of the bhyve brand made by
// vmadm(8) (smartos-live src/vm/man/vmadm.8.md). The harness writes a create
// payload with a uuid of its own and the vm's name as alias, lets vmadm clone
// the imported image into the vm's disk, boots it, and watches the zone's
// bhyve (zone-watch.ts). bhyvectl knows the vm as `SYSbhyve-<zone debug id>`
// (illumos-joyent lib/brand/bhyve/zone/boot.c), the debug id being the last
// field of `zoneadm list -p`.
import { createHash } from 'node:crypto';
import type { Host } from './types.ts';
import { InfraError } from '../errors.ts';
import { readLines } from './host-output.ts';
import { checkBootable } from '../image/clone.ts';
import { shQuote } from '../transport/quote.ts';
import { illumosBase, illumosEvidence } from './illumos.ts';
import { finishTeardown, stopSupervisor } from './teardown.ts';
import type { BootEnvironment, BootEnvironmentRecipe, ConsoleSpec, FramebufferSettings, FramebufferSpec, ListedVm, Platform, VmPlan, VmRequest } from './types.ts';
import { INIT_RESTARTS, parseZoneList, watchZone } from './zone-watch.ts';
import { vmPlan } from './plan.ts';
import { writePinScript } from './vcpu-pinning.ts';

const VMADM = '/usr/vm/sbin/vmadm';
const VMADM_LIST = `${VMADM} list -p -o uuid,alias`;
/** The brand's zone init is zhyve, bhyve linked to read its arguments from the zone (config.xml `initname`). */
const BHYVE_PROCESS = 'zhyve';
/** bhyve's com1 and fbuf inside the zone, as sockets in its /tmp: the brand's own vnc socket (boot.c), and com1 where `com1` says. */
const COM1_IN_ZONE = '/tmp/vm.com1';
const VNC_IN_ZONE = '/tmp/vm.vnc';
/**
 * com2 as vmadm makes it when no com port is given (VM.js
 * buildZonecfgUpdate(): com1 /dev/zconsole, com2 socket,/tmp/vm.ttyb, set only
 * when both are absent): the metadata agent's port (src/vm/lib/metadata/
 * agent.js). Our com1 is a socket, so com2 is set as vmadm would have.
 */
const COM2_METADATA = 'socket,/tmp/vm.ttyb';
/**
 * What vmadm takes as bootrom at create (vmadm.8.md: "At provision time, only
 * 'bios' or 'uefi' are allowed"; VM.js BOOTROMS); a path would be read inside
 * the zone root.
 */
export const SMARTOS_BOOTROMS = ['bios', 'uefi'] as const;

/**
 * The uuid the harness gives a vm (vmadm takes one in the payload): derived
 * from its name, so the zone's paths are known before it exists, and two
 * names never share one.
 */
export function smartosUuid(vmName: string): string {
  const h = createHash('sha256').update(`bhyve-smoke/${vmName}`).digest('hex');
  // RFC 4122 version 4 and variant bits, as vmadm validates a uuid.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Every zone lives at /zones/<uuid> (vmadm's `zpool` defaults to, and Triton supports only, `zones`). */
const zoneRoot = (vmName: string) => `/zones/${smartosUuid(vmName)}/root`;

/** The vmadm create payload for a vm: brand bhyve, its own uuid and our name as alias, booted by the harness. */
export function smartosPayload(vm: VmRequest, nicTag: string): Record<string, unknown> {
  if (vm.image.kind !== 'smartos') throw new Error(`a SmartOS vm boots from an imported image, not ${vm.image.kind}`);
  const fb = vm.framebuffer?.settings;
  return {
    uuid: smartosUuid(vm.name),
    alias: vm.name,
    brand: 'bhyve',
    autoboot: false,
    ram: vm.memoryMiB,
    vcpus: vm.cpus,
    // bios or uefi (SMARTOS_BOOTROMS; checked before the run, and against the image's requirements).
    bootrom: vm.bootrom,
    disks: [{ image_uuid: vm.image.uuid, boot: true, model: 'virtio' }],
    nics: [{ nic_tag: nicTag, model: 'virtio', ips: ['dhcp'], primary: true }],
    com1: vm.console.backend,
    com2: COM2_METADATA,
    // vnc_port -1 leaves the fbuf out; 0 keeps it (vmadmd also serves it on a random port of the admin network).
    vnc_port: fb ? 0 : -1,
    ...(fb?.password ? { vnc_password: fb.password } : {}),
  };
}

/** `vmadm list -p -o uuid,alias`: one `UUID:ALIAS` line a vm, no header (vmadm.8.md, list -p). Vms without an alias are nobody's name. */
export function parseVmadmList(output: string): ListedVm[] {
  return readLines(output, { command: VMADM_LIST, expected: 'one vm a line, `UUID:ALIAS` (vmadm list -p: no header, fields joined by `:`), the alias possibly empty' },
    /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):(.*)$/, (m) => (m[2] ? { id: m[1], name: m[2] } : undefined));
}

/** The vm in a `vmadm list -p -o uuid,alias` listing that has the uuid or the alias a new vm wants, if any. */
export const vmTaken = (listing: string, uuid: string, alias: string) => parseVmadmList(listing).find((v) => v.id === uuid || v.name === alias);

/**
 * Deleting a vm, guarded: vmadm delete is not interactive ("take care to
 * delete the right VM"), so the command itself checks that the uuid still
 * carries the alias we gave it before deleting.
 */
export function destroySmartosVm(vm: ListedVm, vmDir: string): string {
  const dir = shQuote(vmDir);
  return [
    stopSupervisor(dir),
    `if [ "$(${VMADM} list -p -o alias uuid=${shQuote(vm.id)} 2>/dev/null)" = ${shQuote(vm.name)} ]; then ${VMADM} delete ${shQuote(vm.id)} || exit $?; fi`,
    ...finishTeardown(dir),
  ].join('; ');
}

function smartosPlan(host: Host, vm: VmRequest): VmPlan {
  // The image kind is one vmadm clones and the bootrom one it takes, or a ConfigError now.
  checkBootable(host.platform, host, { name: vm.guest, bootrom: vm.bootrom, image: vm.image });
  const uuid = smartosUuid(vm.name);
  const payload = JSON.stringify(smartosPayload(vm, host.nic), null, 2);
  return vmPlan({ id: uuid, dir: vm.dir, destroy: destroySmartosVm({ name: vm.name, id: uuid }, vm.dir) }, async (making) => {
    // Nothing is made while either name is someone's: the alias may be a stale vm of ours, the uuid anything.
    const listed = await host.exec(VMADM_LIST, { doing: `checking that ${vm.name} is free on ${host.name}` });
    const clash = vmTaken(listed.stdout, uuid, vm.name);
    if (clash) throw new InfraError(`host ${host.name}: a vm ${clash.id} (alias ${clash.name}) already exists; bhyve-smoke creates ${vm.name} (${uuid}) only where neither is taken`);
    making();
    await host.exec(`${VMADM} create`, { doing: `creating ${vm.name} with vmadm`, input: payload, timeoutMs: 600_000 });
    await host.exec(`${VMADM} start ${shQuote(uuid)}`, { doing: `starting ${vm.name}`, timeoutMs: 120_000 });
    const zone = await host.exec(`zoneadm -z ${shQuote(uuid)} list -p`, { doing: `finding the zone debug id of ${vm.name}` });
    const debugId = parseZoneList(zone.stdout, `zoneadm -z ${uuid} list -p`)[0]?.debugId;
    if (debugId === undefined) throw new InfraError(`host ${host.name}: no zone debug id for ${vm.name} in \`zoneadm list -p\``, { output: zone.stdout });
    // A guest reboot restarts init (zhyve, then bhyve) in place; the zone's init_restarts kstat counts it.
    // The watcher pins each bhyve it sees: vmadm passes nothing that pins (bhyve_extra_opts would reach a bhyve without -p).
    await writePinScript(host, vm, `SYSbhyve-${debugId}`);
    await watchZone(host, vm.dir, uuid, BHYVE_PROCESS, INIT_RESTARTS);
    return { vmm: `SYSbhyve-${debugId}`, commandLine: `${VMADM} create <<'EOF'\n${payload}\nEOF` };
  });
}

/**
 * `piadm list -H`: one platform image a line, space-padded columns PI STAMP,
 * BOOTABLE FILESYSTEM, BOOT IMAGE, NOW, NEXT (smartos-live src/piadm.sh
 * list(): "%-22s %-30s %-10s %-4s %-4s"; -H drops only the header). NOW is
 * yes for the stamp `uname -v` runs, NEXT for the one the `platform` link
 * points at.
 */
export function parsePiadmList(output: string): BootEnvironment[] {
  return readLines(output, { command: 'piadm list -H', expected: '`STAMP FILESYSTEM BOOTIMAGE NOW NEXT` lines, NOW and NEXT yes or no (piadm.sh list())' },
    /^(\S+)\s+\S+\s+\S+\s+(yes|no)\s+(yes|no)$/, (m) => ({ name: m[1], active: m[2] === 'yes', next: m[3] === 'yes', once: false }));
}

/**
 * piadm(8): `activate STAMP` points the boot at that platform image for
 * every boot from now on (piadm.sh activate(): no one-time form), prints
 * nothing without -v, exits 1 for a stamp it has not ("STAMP is not a stamp
 * for a PI on pool P"), 2 or 3 for partial change or corruption.
 */
const PIADM_BOOT_ENVIRONMENTS: BootEnvironmentRecipe = {
  tool: 'piadm',
  list: { command: '/usr/sbin/piadm list -H', parse: parsePiadmList },
  activate: (stamp) => `/usr/sbin/piadm activate ${shQuote(stamp)}`,
};

export const smartosPlatform = (): Platform => ({
  ...illumosBase,
  kind: 'smartos',
  // A standalone SmartOS host's platform images; a Triton compute node refuses piadm (it boots what the head node says).
  bootEnvironments: PIADM_BOOT_ENVIRONMENTS,
  images: ['smartos'],
  requires: [VMADM, '/usr/sbin/zoneadm', '/usr/lib/brand/bhyve'],
  plan: smartosPlan,
  // The vms' NIC goes on a nic tag (nictagadm(8): `exists` succeeds when every tag named exists); vmadm makes each vm's VNIC.
  hostChecks: (nic) => [{ what: `vm network ${nic}`, command: `nictagadm exists ${shQuote(nic)}`, judge: (_, code) => code === 0 || `no nic tag ${nic} on the host (hosts.X.nic)` }],
  // bhyve's own socket backend in the zone's /tmp: `zlogin -C` needs a terminal on stdin (zlogin.c sets raw mode and fails on a pipe).
  console: (_vmDir: string, vmName: string): ConsoleSpec => {
    const path = `${zoneRoot(vmName)}${COM1_IN_ZONE}`;
    return { backend: `socket,${COM1_IN_ZONE}`, attach: { kind: 'unix', path }, describe: `unix socket ${path} (socat - UNIX-CONNECT:${path})` };
  },
  // The brand always puts fbuf on a unix socket in the zone (boot.c: 30:0,fbuf,vga=off,unix=/tmp/vm.vnc); it takes no size.
  framebuffer: (_vmDir: string, vmName: string, _fb: FramebufferSettings): FramebufferSpec => ({
    device: 'vnc_port 0',
    endpoint: { kind: 'unix', path: `${zoneRoot(vmName)}${VNC_IN_ZONE}` },
  }),
  listVms: { command: VMADM_LIST, parse: parseVmadmList },
  destroyVm: (vm, dir) => destroySmartosVm(vm, dir),
  checkBootrom: (bootrom) => (SMARTOS_BOOTROMS as readonly string[]).includes(bootrom) ? undefined : `a SmartOS vm boots bios or uefi (vmadm create takes no firmware path: it would be read inside the zone root), not ${JSON.stringify(bootrom)}`,
  // bios and uefi are the brand's names for its two ROMs (illumos-joyent boot.c add_lpc()).
  imagePath: (path) => shQuote(({ bios: '/usr/share/bhyve/uefi-csm-rom.bin', uefi: '/usr/share/bhyve/uefi-rom.bin' } as Record<string, string>)[path] ?? path),
  evidence: (vm, pid) => [
    ...illumosEvidence(vm.vmm, pid),
    { name: 'vmadm-get', command: `${VMADM} get ${shQuote(vm.id)}` },
    { name: 'zone', command: `zoneadm -z ${shQuote(vm.id)} list -p` },
  ],
});
