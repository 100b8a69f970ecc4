// A host: a transport to reach it and a platform that knows its commands.
// Engine code calls exec(); suites use host.$, zx over the same transport, with
// POSIX sh quoting.
import { $ as zx, type Shell } from 'zx';
import { InfraError } from './errors.ts';
import { freebsdPlatform } from './platform/freebsd.ts';
import { illumosPlatform } from './platform/illumos.ts';
import { labPlatform } from './platform/lab.ts';
import { omniosPlatform } from './platform/omnios.ts';
import { smartosPlatform } from './platform/smartos.ts';
import type { HostOptions, Host as PlatformHost, Platform, PlatformKind } from './platform/types.ts';
import { LocalTransport } from './transport/local.ts';
import { shQuote } from './transport/quote.ts';
import { parseSshDestination, SshTransport } from './transport/ssh.ts';
import type { ExecResult, Transport } from './transport/types.ts';

/** Deadline of a host command unless the caller gives one. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;

export class Host implements PlatformHost {
  /** zx for suites: ``await host.$`bhyvectl --vm=${vm.name} --get-stats` ``. */
  readonly $: Shell;

  /** The vm network (hosts.X.nic, else the platform's own: the lab's user0); see HostOptions' nic. */
  readonly nic: string;

  constructor(
    readonly name: string,
    readonly config: HostOptions,
    readonly transport: Transport,
    readonly platform: Platform,
  ) {
    this.nic = config.nic ?? platform.defaultNic ?? '';
    this.$ = zx({
      shell: '/bin/sh',
      prefix: '',
      postfix: '',
      quote: shQuote,
      quiet: true,
      verbose: false,
      timeout: DEFAULT_COMMAND_TIMEOUT_MS,
      spawn: transport.spawnForZx.bind(transport) as never,
    }) as unknown as Shell;
  }

  /**
   * Runs a command on the host. A non-zero exit or a missed deadline is an
   * InfraError carrying the command, its output and what we were doing,
   * unless `check` is false.
   */
  async exec(command: string, opts: { doing: string; timeoutMs?: number; input?: string; check?: boolean }): Promise<ExecResult> {
    const r = await this.transport.exec(command, { timeoutMs: opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS, doing: opts.doing, input: opts.input });
    if (opts.check !== false && (r.exitCode !== 0 || r.timedOut)) throw commandFailed(this, r, opts.doing);
    return r;
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}

export function commandFailed(host: Host, r: ExecResult, doing: string): InfraError {
  const why = r.timedOut ? `did not finish within ${r.durationMs} ms (killed)` : `exited ${r.exitCode}`;
  const output = `${r.stdout}${r.stderr}`.trim();
  return new InfraError(`host ${host.name}: \`${r.command}\` ${why} while ${doing}${output ? `:\n${output.slice(-4000)}` : ''}`, {
    command: r.command,
    output,
    doing,
  });
}

export function platformFor(kind: PlatformKind, config: HostOptions): Platform {
  switch (kind) {
    case 'lab': return labPlatform(config.labDir, config.labFaults, config.labWrlockHook);
    case 'illumos': return illumosPlatform();
    case 'freebsd': return freebsdPlatform();
    case 'smartos': return smartosPlatform();
    case 'omnios': return omniosPlatform(config.zoneRoot);
  }
}

export function createHost(name: string, config: HostOptions): Host {
  const transport =
    config.transport === 'local'
      ? new LocalTransport()
      : new SshTransport({ ...parseSshDestination(config.ssh ?? ''), knownHosts: config.knownHosts, identityFile: config.identityFile });
  return new Host(name, config, transport, platformFor(config.platform as PlatformKind, config));
}
