// A platform is the recipes for one kind of bhyve host: the exact commands,
// and beside them the parsers of their output. Suites never spell these.

import type { ExecResult } from '../transport/types.ts';
import type { DiskImage } from '../image/disk-image.ts';
import type { StackReading } from './stacks.ts';
import type { VcpuProgressRecipe } from './vcpu-stats.ts';
import type { WrlockTraceRecipe } from './wrlock-trace.ts';

export type PlatformKind = 'lab' | 'illumos' | 'freebsd' | 'smartos' | 'omnios';

/** What a test may need of a host (capabilities.ts probes each). */
export const CAPABILITIES = ['wrlock', 'wrlock-trace', 'vcpu-stats', 'framebuffer', 'links'] as const;
export type Capability = (typeof CAPABILITIES)[number];

/**
 * What a host's platform and the engine read of its configuration. The
 * config's hosts.X entries (config/schema.ts) are these: the lower layers
 * know their own options, not the config's schema.
 */
export interface HostOptions {
  transport: 'local' | 'ssh';
  ssh?: string;
  knownHosts?: string;
  identityFile?: string;
  platform: string;
  pool?: string;
  /** The link (illumos, OmniOS), bridge (FreeBSD) or nic tag (SmartOS) each vm's network is made on. */
  nic?: string;
  zoneRoot?: string;
  cloneRoot?: string;
  labDir?: string;
  labFaults?: string;
  /** false: the lab's bhyvectl without --wrlock-cycle. */
  labWrlockHook?: boolean;
  /** How many vms at once, and what the host is for (the scheduler's; platforms ignore them). */
  capacity?: number;
  labels?: string[];
  /** The build the host must run (the run's; platforms ignore it). */
  expectBuild?: string;
}

/** The host as a platform sees it: a name, its vm network and options, and commands run on it (host.ts's Host is one). */
export interface Host {
  readonly name: string;
  readonly nic: string;
  readonly config: HostOptions;
  readonly platform: Platform;
  exec(command: string, opts: { doing: string; timeoutMs?: number; input?: string; check?: boolean }): Promise<ExecResult>;
}
export const PLATFORM_KINDS: readonly PlatformKind[] = ['lab', 'illumos', 'freebsd', 'smartos', 'omnios'];

/** What the harness asks of a vm, with every path already on the host. */
export interface VmLaunch {
  name: string;
  cpus: number;
  memoryMiB: number;
  bootrom: string;
  disk: string;
  /** The com1 backend (ConsoleSpec.backend). */
  console: string;
  /** The vm's own link (platform/links.ts): a VNIC on illumos and in the lab, a tap on FreeBSD. */
  nic: string;
  /** Extra PCI slots (`-s` values): the framebuffer. */
  slots?: string[];
  /** bhyve -w: ignore unimplemented MSRs (guests.X.ignoreUnimplementedMsrs; a debug aid, off by default). */
  ignoreUnimplementedMsrs?: boolean;
  /** The host CPU of each vCPU, where bhyve pins them itself (FreeBSD's -p: vcpu-pinning.ts). */
  pinVcpus?: readonly number[];
}

/** A vm's screen as bhyve's fbuf takes it: size, and the VNC password if there is one. */
export interface FramebufferSettings {
  width: number;
  height: number;
  password?: string;
}

/** Where a vm's framebuffer serves plain RFB on its host. */
export type FramebufferEndpoint = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

export interface FramebufferSpec {
  /** The fbuf device as the platform configures it: an `-s` value for raw bhyve, the options of a zone brand's vnc attribute. */
  device: string;
  endpoint: FramebufferEndpoint;
}

/** How the harness reaches a console: a unix socket, or a command whose stdin/stdout are the line. */
export type ConsoleAttach = { kind: 'unix'; path: string } | { kind: 'command'; command: string };

export interface ConsoleSpec {
  /** The com1 backend on bhyve's command line. */
  backend: string;
  attach: ConsoleAttach;
  /** Where it is, in words, for a person reaching a kept vm. */
  describe: string;
}

/** A vm the harness asks a platform for; every path is on the host. */
export interface VmRequest {
  /** Ours: `<prefix>-<run id>-<n>`; the ownership rule rests on it. */
  name: string;
  /** The vm's folder in the run's folder: pid files, the exit log, logs. */
  dir: string;
  cpus: number;
  memoryMiB: number;
  /** The guest's name in the config (guests.X): what a config error names. */
  guest: string;
  /** As configured: a path, or a firmware name a zone brand knows. */
  bootrom: string;
  /** bhyve -w (guests.X.ignoreUnimplementedMsrs). */
  ignoreUnimplementedMsrs?: boolean;
  /** The host CPU of each vCPU (guests.X.pinVcpus), pinned at every start of bhyve (vcpu-pinning.ts). */
  pinVcpus?: readonly number[];
  /** The golden disk; each vm boots from its own clone of it (image/clone.ts). */
  image: DiskImage;
  console: ConsoleSpec;
  framebuffer?: FramebufferSpec & { settings: FramebufferSettings };
}

/**
 * How one vm is made, started and removed on its host: raw bhyve under the
 * harness's supervisor (platform/supervised.ts), or a zone of the bhyve brand
 * (smartos.ts, omnios.ts) watched by the zone watcher. Either way the vm's
 * folder gets the `exits` log the Vm reads (platform/supervisor.ts).
 */
export interface VmPlan {
  /** What the host's tools call the vm: its name, or the uuid vmadm knows it by. */
  readonly id: string;
  /** Makes the vm and starts it; resolves with the name bhyvectl knows it by and the command that started it. */
  start(): Promise<{ vmm: string; commandLine: string }>;
  /** Whether start() got as far as creating anything: destroy only what was made, never a same-named vm that was there before. */
  readonly created: boolean;
  /** A shell command removing the vm and all it has on the host, however far start() got. */
  readonly destroy: string;
  /** A shell command printing, one a line, what of the vm is still on the host beside its listing and link: its folder, its disk clone. */
  readonly remains: string;
}

/** A check doctor and every run make of a host: a command, and (unless its exit status says it) what its output must show. */
export interface HostCheck {
  what: string;
  command: string;
  judge?(out: string, code: number): true | string;
}

/** A boot environment: a bootable build on one host (beadm(8), bectl(8), piadm(8)). */
export interface BootEnvironment {
  name: string;
  /** Running now (beadm, bectl: `N`; piadm: NOW yes). */
  active: boolean;
  /** Booted next (beadm, bectl: `R`; piadm: NEXT yes). */
  next: boolean;
  /** Booted once, next time only (beadm, bectl: `T`). */
  once: boolean;
}

/** How a platform lists and activates its boot environments. */
export interface BootEnvironmentRecipe {
  /** The tool, as its messages name it. */
  tool: 'beadm' | 'bectl' | 'piadm';
  list: { command: string; parse(output: string): BootEnvironment[] };
  /** A shell command making `be` the one the host boots from now on (not once: a fast reboot ignores a one-time activation). */
  activate(be: string): string;
}

/** How a platform reads its boot id: the command, and the parser of what it prints (the id, or an UnexpectedOutput). */
export interface BootIdRecipe {
  command: string;
  parse(output: string): string;
}

/**
 * What a platform's own tools say of a crash, once the host is back
 * (host-life/crash.ts reads it): a listing of the crash records on the host,
 * so the ones a death left are those not listed when the run began; the
 * commands reading one record, and the parser of what they print.
 */
export interface CrashRecipe {
  /** Where the records are, in words, for a finding that found none (e.g. "FMA's fault log (fmdump)"). */
  readonly source: string;
  /** The ids of every crash record on the host: read when the run starts, and again after a death. */
  readonly records: { command: string; parse(output: string): string[] };
  /**
   * One record's evidence files (the first is the record itself) and how to
   * read them: the panic, its stack, when, and the dump — plus any evidence
   * that only the reading can name (mdb on a saved dump).
   */
  read(id: string): { files: Array<{ name: string; command: string }>; parse(outputs: string[]): CrashReading; more?(reading: CrashReading): Array<{ name: string; command: string }> };
}

/** A crash record, read: what the summary line and the finding say. */
export interface CrashReading {
  /** The panic string (illumos panicstr, FreeBSD's Panic String). */
  panic?: string;
  /** The panic stack's frames, outermost last, as the platform prints them. */
  stack: string[];
  /** The first frame in vmm or viona (the frame the finding names), if any. */
  frame?: string;
  /** When the host crashed, as the platform says it. */
  crashTime?: string;
  /** The saved dump (its files), or why there is none. */
  dump: { dir: string; files: string[] } | { none: string };
}

/** A vm in a host's listing: our name for it, and what the host's tools call it. */
export interface ListedVm {
  name: string;
  id: string;
}

export interface Platform {
  readonly kind: PlatformKind;
  /** The kinds of golden disk vms here boot from (clones of them). */
  readonly images: readonly DiskImage['kind'][];
  /** Paths the platform's recipes need beyond bhyve and bhyvectl (vmadm, zoneadm, …), checked by doctor. */
  readonly requires?: readonly string[];
  /** What doctor checks of the host beyond bhyve: the vm network over `nic` (hosts.X.nic), the platform's own needs. */
  hostChecks(nic: string): HostCheck[];
  /** Each vm's own link, where the harness makes it (raw bhyve); zone brands make their vms' own. */
  readonly links?: LinkRecipe;
  /** The vm network when hosts.X.nic is not given (the lab's one link); other platforms need it configured. */
  readonly defaultNic?: string;
  /**
   * What the platform is known to lack whatever the host says, and why
   * (FreeBSD's bhyvectl has no write-lock hook): tests needing it are skipped
   * when planned. Everything else is probed on the host (capabilities.ts).
   */
  readonly lacks?: Readonly<Partial<Record<Capability, string>>>;
  readonly bhyve: string;
  readonly bhyvectl: string;
  /** The host's errno names, for what bhyvectl reports (platform/bhyvectl.ts). */
  readonly errnoNames: Readonly<Record<number, string>>;
  /** What `uname -s` prints on such a host. */
  readonly uname: string;
  /** A shell command printing the host's fingerprint as `key=value` lines (platform/fingerprint.ts). */
  readonly fingerprint: string;
  /**
   * The id of the host's boot (it changes when the host reboots and only
   * then), read without taking a vmm lock: how `clean` and `doctor` tell
   * that a wedged host was rebooted, and how a host's life is followed
   * (host-life/boot.ts). A command, and the parser of its output.
   */
  readonly bootId: BootIdRecipe;
  /**
   * A shell command rebooting the host, by absolute path (the lab's is its own
   * stand-in, never this machine's). It may not return: the host goes down
   * under it, and the ssh session with it (host-life/reboot.ts runs it
   * detached and waits for the boot id to change).
   */
  readonly reboot: string;
  /** The lab's reboot is a reset of its own state, the only way out of a wedged write lock there (clean --reset-lab). */
  readonly hostReset?: string;
  /**
   * A shell command printing the build the host runs as `key=value` lines
   * (host-life/build.ts parses them): platform, release, vmm-file,
   * vmm-loaded, vmm-sha256, debug.
   */
  readonly build: string;
  /** How a crash is told after the host comes back (FMA and savecore on illumos, /var/crash on FreeBSD). */
  readonly crash?: CrashRecipe;
  /** The boot environments, where the platform switches builds with them (beadm, bectl, piadm). */
  readonly bootEnvironments?: BootEnvironmentRecipe;
  /** A shell command printing the host's free memory in MiB. */
  readonly freeMemoryMiB: string;
  /** Root of the harness's folders on the host; one sub-folder per run. */
  readonly workRoot: string;
  /**
   * Where runs keep their leases on the host's slots (run/host-leases.ts): a
   * folder every process reaching the host sees, that outlives a reboot (a
   * gate reboots the host under its lease). A shell word, used in double quotes.
   */
  readonly leaseRoot: string;
  /** How a vm is made, started and removed here; throws a ConfigError for what this host cannot do (its image kind). */
  plan(host: Host, vm: VmRequest): VmPlan;
  /** A vm's serial console: what bhyve's `-l com1,…` gets, and how the harness attaches. */
  console(vmDir: string, vmName: string): ConsoleSpec;
  /** A vm's framebuffer: the fbuf device and where the harness reaches its VNC. */
  framebuffer(vmDir: string, vmName: string, fb: FramebufferSettings): FramebufferSpec;
  /** Every vm on the host: a command, and the parser of its output. */
  readonly listVms: { command: string; parse(output: string): ListedVm[] };
  /** A shell command removing a vm of a dead run found in the listing, its folder and its ZFS clone (a shell command) too. */
  destroyVm(vm: ListedVm, vmDir: string, destroyClone?: string): string;
  /** Wraps a command so it runs detached from the ssh session that starts it. */
  detach(command: string): string;
  /** Why a guest's bootrom (guests.X.image.bootrom) cannot boot here, if it cannot: a config error found before the run. */
  checkBootrom?(bootrom: string): string | undefined;
  /** A shell expression for an image or firmware path in config (the lab expands `@lab/`, zone brands their firmware names). */
  imagePath(path: string): string;
  /** A shell command printing the sha256 (hex) of the file named by "$f". */
  readonly sha256File: string;
  /** A vm's own copy of a golden disk file (a shell expression): the command making it, and its path (platforms that boot files). */
  cloneFile?(golden: string, vmDir: string): { create: string; disk: string };
  /** The device bhyve opens for a ZFS volume, on platforms with ZFS. */
  zvol?(dataset: string): string;
  /**
   * A shell command printing `host:port` at which the host reaches a vm's
   * iperf3 server, where the platform forwards it (the lab); elsewhere the
   * harness uses the guest's own address.
   */
  iperf3Target?(vmName: string): string;
  /**
   * The vCPU progress counters of a vm: a command printing one sample, and its
   * parser (vcpu-stats.ts). A counter changes whenever its vCPU runs; the
   * vCPU progress watch samples it (watch/vcpu-progress.ts).
   */
  readonly vcpuProgress: VcpuProgressRecipe;
  /** How the stacks in the evidence are read, to name where a hung vm's threads are stuck. */
  readonly stacks?: StackReading;
  /** How the platform pins a vm's vCPUs to host CPUs (vcpu-pinning.ts): bhyve's own -p, or a script beside each bhyve. */
  readonly pinning: PinningRecipe;
  /** How the host times write-lock cycles in its kernel (wrlock-trace.ts), where it can: the wrlock-trace capability probes it. */
  readonly wrlockTrace?: WrlockTraceRecipe;
  /** Commands whose output is evidence of a hung or failed vm (given a shell expression for the bhyve pid). */
  evidence(vm: { id: string; vmm: string; dir: string }, bhyvePid: string): Array<{ name: string; command: string }>;
}

/** How a platform pins a vm's vCPUs (vcpu-pinning.ts): bhyve's own option, or a script run beside each bhyve (its pid as $1). */
export type PinningRecipe = { how: 'bhyve -p' } | ScriptPinning;
/** Pinning from outside: the vm's pin script, given what bhyvectl calls the vm and the host CPU of each vCPU. */
export type ScriptPinning = { how: 'after start'; script(vmm: string, cpus: readonly number[]): string };

/** How a platform gives each vm its own network link (a VNIC on illumos, a tap on FreeBSD): links.ts has the recipes. */
export interface LinkRecipe {
  /**
   * A shell command that makes the vm's link over (or on) the host's `nic`,
   * records it in the vm's folder (`link`) as soon as it exists, and prints
   * its name: bhyve's NIC backend.
   */
  create(vmName: string, nic: string, vmDir: string): string;
  /** A shell command removing the vm's link, if it made one and it is still the vm's; it fails when the link stays. */
  destroy(vmName: string, vmDir: string): string;
  /** Every link of this kind on the host, with its vm: what the reaper picks from by the ownership rule. */
  readonly list: { command: string; parse(output: string): ListedLink[] };
  /** A shell command removing one listed link. */
  remove(link: ListedLink): string;
  /** doctor: the host's `nic` is there and of a kind links are made over, and the harness may make them. */
  checks(nic: string): HostCheck[];
}

/** A link on the host and the vm it was made for (by the ownership rule, only the vm's name tells). */
export interface ListedLink {
  link: string;
  vm: string;
}
