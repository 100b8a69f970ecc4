// The ssh transport: the system OpenSSH client through execa, one ControlMaster
// connection per host, BatchMode, host keys checked against known_hosts.
//
// Killing a remote command needs care: OpenSSH refuses signal requests for root
// logins, and closing a channel without a pty does not end the command. So each
// command runs under a wrapper that records its process group id in a file on
// the host; past the deadline a second exec kills that group. The wrapper also
// reports the command's exit status on stderr, which tells a command's own exit
// 255 (bhyvectl does that) from ssh's 255.
import { execa } from 'execa';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { InfraError } from '../errors.ts';
import { killGroup, registerGroup, unregisterGroup } from './process-groups.ts';
import { watchCommand } from './running.ts';
import { streamOf } from './child-stream.ts';
import { connectUnixSocket } from './local.ts';
import { shQuote } from './quote.ts';
import type { ExecOptions, ExecResult, RunningCommand, Transport } from './types.ts';

export interface SshTarget {
  user?: string;
  host: string;
  port?: number;
  /** known_hosts file to verify against; default: the user's own. */
  knownHosts?: string;
  identityFile?: string;
  /** Verify host keys (default). false accepts a new key once and is for labs only. */
  strictHostKeys?: boolean;
}

const EXIT_MARK = '@@bsm-exit ';
const CONNECT_TIMEOUT_S = 10;

/** Parses `ssh://user@host[:port]` (the --host one-off form) or `user@host[:port]`. */
export function parseSshDestination(text: string): SshTarget {
  const m = /^(?:ssh:\/\/)?(?:([^@/:\s]+)@)?(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(?::(\d+))?\/?$/.exec(text);
  if (!m) throw new Error(`expected ssh://[user@]host[:port], got ${JSON.stringify(text)}`);
  return { user: m[1], host: m[2].replace(/^\[|\]$/g, ''), port: m[3] ? Number(m[3]) : undefined };
}

/**
 * The client options every ssh the harness runs shares: no prompts, host keys
 * verified (against the given known_hosts only), a key when given, and
 * deadlines on connecting and on a silent peer.
 */
export function sshClientOptions(t: Pick<SshTarget, 'knownHosts' | 'identityFile' | 'port' | 'strictHostKeys'>): string[] {
  return [
    '-o', 'BatchMode=yes',
    '-o', `StrictHostKeyChecking=${t.strictHostKeys === false ? 'accept-new' : 'yes'}`,
    ...(t.knownHosts ? ['-o', `UserKnownHostsFile=${t.knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null'] : []),
    ...(t.identityFile ? ['-i', t.identityFile, '-o', 'IdentitiesOnly=yes'] : []),
    '-o', `ConnectTimeout=${CONNECT_TIMEOUT_S}`,
    '-o', 'ServerAliveInterval=5',
    '-o', 'ServerAliveCountMax=3',
    '-o', 'LogLevel=ERROR',
    ...(t.port ? ['-p', String(t.port)] : []),
  ];
}

/** Why ssh itself failed (it exits 255), in words, from its stderr. */
export function sshFailureCause(stderr: string): { hostKey: boolean; cause: string } {
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known/.test(stderr)) {
    return { hostKey: true, cause: 'the host key is not in known_hosts or does not match (ssh verifies host keys; add the key with ssh-keyscan after checking it)' };
  }
  const cause = /Connection refused|Connection timed out|No route to host|Could not resolve hostname|Connection closed/.test(stderr)
    ? 'the host is unreachable'
    : /Permission denied/.test(stderr)
      ? 'ssh authentication failed (BatchMode: keys or an agent only, no passwords)'
      : undefined;
  return { hostKey: false, cause: cause ?? '' };
}

export class SshTransport implements Transport {
  readonly name: string;
  private readonly controlDir = mkdtempSync(join(tmpdir(), 'bsm-ssh-'));
  private readonly destination: string;
  private forwards = 0;

  constructor(private readonly target: SshTarget) {
    this.destination = target.user ? `${target.user}@${target.host}` : target.host;
    this.name = `ssh://${this.destination}${target.port ? `:${target.port}` : ''}`;
  }

  private sshArgs(): string[] {
    return [
      ...sshClientOptions(this.target),
      '-o', 'ControlMaster=auto',
      '-o', `ControlPath=${this.controlDir}/cm-%C`, // short: unix socket paths are limited to ~104 bytes
      '-o', 'ControlPersist=60',
      '-o', 'StreamLocalBindUnlink=yes',
    ];
  }

  /**
   * The remote wrapper: records the process group, runs the command and, when
   * `report`, writes its status on stderr for exec() to read.
   */
  private wrap(command: string, pgFile: string, report = true): string {
    return [
      `F=${pgFile}`,
      'echo $$ >"$F"', // sshd made this shell a session and group leader: $$ is the group id
      `/bin/sh -c ${shQuote(command)}`,
      'rc=$?',
      'rm -f "$F"',
      ...(report ? [`echo "${EXIT_MARK}$rc" >&2`] : []),
      'exit $rc',
    ].join('; ');
  }

  private pgFile(): string {
    return `/tmp/.bsm-${randomBytes(6).toString('hex')}.pg`;
  }

  /** Kills the remote process group recorded by the wrapper, then the local ssh. */
  private async killRemote(pgFile: string, localPid: number | undefined): Promise<void> {
    const kill = `F=${pgFile}; [ -f "$F" ] && kill -9 -"$(cat "$F")" 2>/dev/null; rm -f "$F"; exit 0`;
    await execa('ssh', [...this.sshArgs(), this.destination, kill], { reject: false, timeout: CONNECT_TIMEOUT_S * 2000 });
    killGroup(localPid);
  }

  exec(command: string, options: ExecOptions): Promise<ExecResult> {
    return this.start(command, options, options.input).done;
  }

  start(command: string, { timeoutMs, doing, keepStdout = true }: Omit<ExecOptions, 'input'>, input?: string): RunningCommand {
    const pgFile = this.pgFile();
    const child = execa('ssh', [...this.sshArgs(), this.destination, this.wrap(command, pgFile)], {
      detached: true,
      reject: false,
      stripFinalNewline: false,
      buffer: { stdout: keepStdout, stderr: true },
      ...(input !== undefined ? { input } : { stdin: 'ignore' as const }),
    });
    return watchCommand({
      child,
      command,
      timeoutMs,
      kill: () => this.killRemote(pgFile, child.pid),
      outcome: (r, timedOut) => {
        const stderr = String(r.stderr ?? '');
        const at = stderr.lastIndexOf(EXIT_MARK);
        if (at < 0 && !timedOut) throw sshFailure(this.name, command, doing, r.exitCode ?? -1, stderr);
        return { exitCode: at >= 0 ? Number(stderr.slice(at + EXIT_MARK.length).trim()) : 124, stderr: at >= 0 ? stderr.slice(0, at) : stderr };
      },
    });
  }

  spawnForZx(command: string, _args: readonly string[], options: SpawnOptions): ChildProcess {
    const pgFile = this.pgFile();
    const child = spawn('ssh', [...this.sshArgs(), this.destination, this.wrap(command, pgFile, false)], { ...options, shell: false, detached: true });
    registerGroup(child.pid);
    // zx's timeout or kill() ends the local ssh (which exits 255 on SIGTERM); the
    // remote group must die too, or the master keeps our pipes open until it ends.
    // When the command finished by itself its group file is gone and this is a no-op.
    child.once('exit', (code, signal) => {
      unregisterGroup(child.pid);
      if (signal || code === 255) void this.killRemote(pgFile, child.pid);
    });
    return child;
  }

  async openStream(command: string): Promise<Duplex> {
    const pgFile = this.pgFile();
    const child = spawn('ssh', [...this.sshArgs(), this.destination, this.wrap(command, pgFile, false)], { detached: true, stdio: ['pipe', 'pipe', 'ignore'] });
    registerGroup(child.pid);
    return streamOf(child, () => void this.killRemote(pgFile, child.pid));
  }

  connectUnix(remotePath: string): Promise<Duplex> {
    return this.forward(remotePath);
  }

  connectTcp(host: string, port: number): Promise<Duplex> {
    return this.forward(`${host}:${port}`);
  }

  /** A stream to a unix socket (a path) or TCP port (host:port) on the host, through an ssh forward to a local socket. */
  private async forward(remotePath: string): Promise<Duplex> {
    await this.exec('true', { timeoutMs: CONNECT_TIMEOUT_S * 2000, doing: 'opening the ssh connection' });
    const local = join(this.controlDir, `fw-${this.forwards++}.sock`);
    const spec = `${local}:${remotePath}`;
    const r = await execa('ssh', [...this.sshArgs(), '-O', 'forward', '-L', spec, this.destination], { reject: false, timeout: 15_000 });
    if (r.exitCode !== 0) {
      throw new InfraError(`${this.name}: cannot forward ${remotePath}: ${String(r.stderr).trim()}`, { command: `ssh -O forward -L ${spec}` });
    }
    const socket = await connectUnixSocket(local);
    socket.once('close', () => {
      void execa('ssh', [...this.sshArgs(), '-O', 'cancel', '-L', spec, this.destination], { reject: false, timeout: 10_000 })
        .then(() => rmSync(local, { force: true }));
    });
    return socket;
  }

  async close(): Promise<void> {
    await execa('ssh', [...this.sshArgs(), '-O', 'exit', this.destination], { reject: false, timeout: 10_000 });
    rmSync(this.controlDir, { recursive: true, force: true });
  }
}

/** ssh itself failed (exit 255 without the wrapper's report): an infrastructure error, with the cause in words. */
function sshFailure(name: string, command: string, doing: string, code: number, stderr: string): InfraError {
  const text = stderr.trim();
  const cause = sshFailureCause(text).cause || `ssh exited ${code}`;
  return new InfraError(`${name}: ${cause} while ${doing}\n${text}`, { command, output: text, doing });
}
