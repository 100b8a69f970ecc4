// One adapter per guest OS family behind one interface that returns data: the
// prompts to wait for, how to frame a command so its output and exit status
// come back reliably, how to reboot and power off. The console interpreter in
// session.ts does the I/O.

export type GuestOs = 'linux' | 'freebsd' | 'windows';

export interface FramedCommand {
  /** The line to type. */
  line: string;
  /** Finds the command's output and status in console text, once complete. */
  parse(text: string): { output: string; status: number } | undefined;
}

export interface GuestAdapter {
  readonly os: GuestOs;
  /** The login prompt: the guest is ready when it shows. */
  readonly loginPrompt: RegExp;
  readonly passwordPrompt: RegExp;
  /** The shell prompt after login. */
  readonly shellPrompt: RegExp;
  /** Typed once after login to make the shell predictable. */
  readonly shellSetup: string;
  frame(command: string, tag: string): FramedCommand;
  readonly rebootCommand: string;
  readonly poweroffCommand: string;
  /** Starts, in the background, a loop printing `BSM-HB <uptime seconds>` on the console every `seconds`. */
  heartbeat(seconds: number): string;
  /** Commands the smoke suite looks around with, and how to read their output. */
  readonly probes: GuestProbes;
}

export interface GuestProbes {
  /** Prints the kernel name and release. */
  kernel: string;
  /** Prints the seconds since boot. */
  uptimeSeconds: string;
  /** Prints one `NAME STATE` line per non-loopback interface; STATE `up` when up. */
  interfaces: string;
  /** Prints the byte count of the first 4 KiB block read from the boot disk. */
  diskRead: string;
  /** Prints the guest's first non-loopback IPv4 address. */
  ipv4: string;
}
