// Guests reached over their own OpenSSH server instead of the serial console
// (`access: ssh`): Windows always — serial SAC is the flakiest path in peer
// harnesses — and Linux or FreeBSD when asked. The ssh client runs on the
// bhyve host, which reaches its guests' network; it verifies the guest's host
// key against a known_hosts file on that host and authenticates with a key,
// never a password.
import type { GuestOs, GuestProbes } from './adapter.ts';
import type { Host } from '../host.ts';
import { InfraError } from '../errors.ts';
import { shJoin } from '../transport/quote.ts';
import { sshClientOptions, sshFailureCause } from '../transport/ssh.ts';
import { onLines } from '../transport/lines.ts';
import type { RunningCommand } from '../transport/types.ts';
import { setTimeout as sleep } from 'node:timers/promises';

/** What differs per guest OS on a remote shell: how a script becomes the one command ssh sends. */
export interface RemoteShellAdapter {
  readonly os: GuestOs;
  /** The remote command line that runs `script` in the guest's shell and exits with its status. */
  remoteCommand(script: string): string;
  readonly rebootCommand: string;
  readonly poweroffCommand: string;
  /** A script that prints `BSM-HB <uptime seconds>` every `seconds`, in the foreground, until killed. */
  heartbeat(seconds: number): string;
  readonly probes: GuestProbes;
}

export interface GuestSshTarget {
  address: string;
  port: number;
  user: string;
  /** Paths on the bhyve host. */
  knownHosts: string;
  identityFile: string;
}

/** ssh's own failures (unreachable, host key, auth) exit 255; the remote command's status otherwise. */
const SSH_FAILED = 255;
const READY_POLL_MS = 2_000;

/** ssh itself failed; `hostKey` when the guest's key did not verify, which no retry mends. */
class GuestSshFailure extends InfraError {
  constructor(message: string, readonly hostKey: boolean, command: string) {
    super(message, { command });
  }
}

export class RemoteShell {
  private heartbeatLoop?: RunningCommand;

  constructor(
    private readonly host: Host,
    private readonly target: GuestSshTarget,
    private readonly adapter: RemoteShellAdapter,
    private readonly describe: string,
  ) {}

  /** The ssh client command line on the host for one remote command. */
  private ssh(remote: string): string {
    const t = this.target;
    return shJoin(['ssh', '-T', ...sshClientOptions(t), '-l', t.user, t.address, remote]);
  }

  /** Runs a script in the guest: its output (stdout, then stderr) and exit status. */
  async run(script: string, timeoutMs: number): Promise<{ output: string; status: number }> {
    const r = await this.host.exec(this.ssh(this.adapter.remoteCommand(script)), { doing: `running a command in ${this.describe} over ssh`, timeoutMs, check: false });
    if (r.exitCode === SSH_FAILED) {
      const { hostKey, cause } = sshFailureCause(r.stderr);
      const said = r.stderr.trim().split('\n').slice(-3).join(' | ');
      throw new GuestSshFailure(`ssh to ${this.describe} (${this.target.user}@${this.target.address}:${this.target.port}) failed: ${cause ? `${cause}: ` : ''}${said}`, hostKey, r.command);
    }
    return { output: r.stdout + r.stderr, status: r.exitCode };
  }

  /** Waits until the guest's sshd accepts us and runs a command: the guest is ready. A wrong host key fails at once. */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        if ((await this.run(this.adapter.probes.kernel, Math.max(1_000, deadline - Date.now()))).status === 0) return;
      } catch (e) {
        if ((e instanceof GuestSshFailure && e.hostKey) || Date.now() + READY_POLL_MS > deadline) throw e;
      }
      if (Date.now() + READY_POLL_MS > deadline) throw new InfraError(`${this.describe}: no shell over ssh within ${timeoutMs} ms`);
      await sleep(READY_POLL_MS);
    }
  }

  /** Sends a command the connection may not survive (reboot, poweroff); its status does not matter. */
  async fireAndForget(script: string): Promise<void> {
    await this.host.exec(`${this.ssh(this.adapter.remoteCommand(script))} </dev/null >/dev/null 2>&1 &`, { doing: `sending \`${script}\` to ${this.describe}`, check: false });
  }

  /** Starts the heartbeat loop in its own ssh session; each beat goes to `onBeat`. */
  startHeartbeat(seconds: number, onBeat: (uptime: number) => void): void {
    this.stopHeartbeat();
    this.heartbeatLoop = this.host.transport.start(this.ssh(this.adapter.remoteCommand(this.adapter.heartbeat(seconds))), {
      timeoutMs: 24 * 3600_000, doing: `the heartbeat of ${this.describe} over ssh`, keepStdout: false,
    });
    this.heartbeatLoop.done.catch(() => {});
    onLines(this.heartbeatLoop.stdout, (line) => {
      const m = /^BSM-HB ([\d.]+)\s*$/.exec(line);
      if (m) onBeat(Number(m[1]));
    });
  }

  stopHeartbeat(): void {
    void this.heartbeatLoop?.kill();
    this.heartbeatLoop = undefined;
  }
}
