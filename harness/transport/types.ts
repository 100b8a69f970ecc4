// How commands reach a host. Commands are POSIX sh strings (see quote.ts);
// every one has a deadline, and a command past its deadline is killed with its
// whole process group on the host.
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import type { Duplex } from 'node:stream';

export interface ExecOptions {
  /** Deadline for the command; past it the command's process group is killed. */
  timeoutMs: number;
  /** What the harness was doing, for error messages ("starting vm bsm-x-1"). */
  doing: string;
  input?: string;
  /**
   * Keep the whole stdout for the result (default). A long-running loop read
   * line by line (the hammer, the vCPU sampler) passes false: buffering its
   * hours of output costs memory and the garbage collector's time.
   */
  keepStdout?: boolean;
}

export interface ExecResult {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

/** A command running on a host, streaming its output (the wrlock hammer, iperf3). */
export interface RunningCommand {
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream;
  done: Promise<ExecResult>;
  /** Kills the command's process group on the host. */
  kill(): Promise<void>;
}

export interface Transport {
  /** `local` or `ssh://user@host:port`. */
  readonly name: string;
  exec(command: string, options: ExecOptions): Promise<ExecResult>;
  start(command: string, options: Omit<ExecOptions, 'input'>): RunningCommand;
  /**
   * child_process.spawn for zx: suites' `host.$` runs through it, so a zx command
   * reaches the host the same way the engine's do (and a killed one dies there).
   */
  spawnForZx(command: string, args: readonly string[], options: SpawnOptions): ChildProcess;
  /**
   * A command on the host whose stdin and stdout are one stream (a console on a
   * tty device). Destroying the stream kills the command's process group.
   */
  openStream(command: string): Promise<Duplex>;
  /** A stream connection to a unix socket on the host (a vm's serial console). */
  connectUnix(path: string): Promise<Duplex>;
  /** A stream connection to a TCP port the host listens on (FreeBSD's VNC). */
  connectTcp(host: string, port: number): Promise<Duplex>;
  close(): Promise<void>;
}
