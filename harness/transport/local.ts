// The local transport: commands run through /bin/sh on this machine.
import { execa } from 'execa';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { connect, type NetConnectOpts, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { streamOf } from './child-stream.ts';
import { killGroup, registerGroup, unregisterGroup } from './process-groups.ts';
import { watchCommand } from './running.ts';
import type { ExecOptions, ExecResult, RunningCommand, Transport } from './types.ts';

export class LocalTransport implements Transport {
  readonly name = 'local';

  exec(command: string, options: ExecOptions): Promise<ExecResult> {
    return this.start(command, options, options.input).done;
  }

  start(command: string, { timeoutMs, keepStdout = true }: Omit<ExecOptions, 'input'>, input?: string): RunningCommand {
    const child = execa('/bin/sh', ['-c', command], {
      detached: true, // own process group: the deadline kills grandchildren too
      reject: false,
      stripFinalNewline: false,
      buffer: { stdout: keepStdout, stderr: true },
      ...(input !== undefined ? { input } : { stdin: 'ignore' as const }),
    });
    return watchCommand({
      child,
      command,
      timeoutMs,
      kill: () => killGroup(child.pid),
      outcome: (r, timedOut) => ({ exitCode: r.exitCode ?? (timedOut ? 124 : 128), stderr: String(r.stderr ?? '') }),
    });
  }

  spawnForZx(command: string, _args: readonly string[], options: SpawnOptions): ChildProcess {
    const child = spawn(command, [], { ...options, shell: '/bin/sh', detached: true });
    registerGroup(child.pid);
    child.once('exit', () => unregisterGroup(child.pid));
    return child;
  }

  async openStream(command: string): Promise<Duplex> {
    const child = spawn('/bin/sh', ['-c', command], { detached: true, stdio: ['pipe', 'pipe', 'ignore'] });
    registerGroup(child.pid);
    return streamOf(child, () => killGroup(child.pid));
  }

  connectUnix(path: string): Promise<Duplex> {
    return connectUnixSocket(path);
  }

  connectTcp(host: string, port: number): Promise<Duplex> {
    return connectSocket({ host, port });
  }

  async close(): Promise<void> {}
}

/** A connected stream socket on this machine, or the error that refused it. */
function connectSocket(to: NetConnectOpts): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(to, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Connects to a unix stream socket on this machine (a console, or ssh's local end of a forward). */
export const connectUnixSocket = (path: string): Promise<Socket> => connectSocket({ path });
