// A platform is the recipes for one kind of bhyve host: the exact commands,
// and beside them the parsers of their output. Suites never spell these.

export type PlatformKind = 'lab' | 'illumos' | 'freebsd';
export const PLATFORM_KINDS: readonly PlatformKind[] = ['lab', 'illumos', 'freebsd'];

/** What the harness asks of a vm, with every path already on the host. */
export interface VmLaunch {
  name: string;
  cpus: number;
  memoryMiB: number;
  bootrom: string;
  disk: string;
  /** The com1 backend (ConsoleSpec.backend). */
  console: string;
  /** The vm's network backend (a vnic on illumos, a tap on FreeBSD, anything in the lab). */
  nic: string;
  /** Extra PCI slots (`-s` values): the framebuffer. */
  slots?: string[];
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
  /** The `-s` value of the fbuf device. */
  slot: string;
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

export interface Platform {
  readonly kind: PlatformKind;
  /** What the host can do for tests; a test that needs what is missing is skipped with the reason. */
  readonly capabilities: { wrlock: boolean };
  readonly bhyve: string;
  readonly bhyvectl: string;
  /** What `uname -s` prints on such a host. */
  readonly uname: string;
  /** A shell command printing the host's fingerprint as `key=value` lines (platform/fingerprint.ts). */
  readonly fingerprint: string;
  /** A shell command printing the host's free memory in MiB. */
  readonly freeMemoryMiB: string;
  /** Root of the harness's folders on the host; one sub-folder per run. */
  readonly workRoot: string;
  /** The bhyve command line for a vm. */
  bhyveArgv(vm: VmLaunch): string[];
  /** A vm's serial console: what bhyve's `-l com1,…` gets, and how the harness attaches. */
  console(vmDir: string, vmName: string): ConsoleSpec;
  /** A vm's framebuffer: the fbuf device and where the harness reaches its VNC. */
  framebuffer(vmDir: string, vmName: string, fb: FramebufferSettings): FramebufferSpec;
  /** A shell command printing the names of every vm on the host, one a line. */
  listVms(): string;
  /** Wraps a command so it runs detached from the ssh session that starts it. */
  detach(command: string): string;
  /** A shell expression for an image path in config (the lab expands `@lab/`). */
  imagePath(path: string): string;
  /** A shell command printing the sha256 (hex) of the file named by "$f". */
  readonly sha256File: string;
  /** A vm's own copy of a golden disk file (a shell expression): the command making it, and its path. */
  cloneFile(golden: string, vmDir: string): { create: string; disk: string };
  /** The device bhyve opens for a ZFS volume, on platforms with ZFS. */
  zvol?(dataset: string): string;
  /**
   * A shell command printing `host:port` at which the host reaches a vm's
   * iperf3 server, where the platform forwards it (the lab); elsewhere the
   * harness uses the guest's own address.
   */
  iperf3Target?(vmName: string): string;
  /**
   * A shell command printing one `vcpuN COUNTER` line per vCPU of a vm, where
   * COUNTER changes whenever the vCPU runs (its run time); the vCPU progress
   * watch samples it (watch/vcpu-progress.ts).
   */
  vcpuProgress(vmName: string, cpus: number): string;
  /** Commands whose output is evidence of a hung or failed vm (given the bhyve pid). */
  evidence(vmName: string, bhyvePid: string): Array<{ name: string; command: string }>;
}
