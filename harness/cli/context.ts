// What run, list and doctor share: the config (file or built-in), the one-off
// ssh host of --host ssh://…, and the precedence chain of settings:
// command line, then profile, then config, then defaults.
import { parseDuration } from '../duration.ts';
import { ConfigError } from '../errors.ts';
import { createHost } from '../host.ts';
import type { Config, HostConfig } from '../config/schema.ts';
import { loadConfig } from '../config/load.ts';
import { PLATFORM_KINDS, type PlatformKind } from '../platform/types.ts';
import { platformFor } from '../host.ts';
import { parseSshDestination } from '../transport/ssh.ts';
import type { ResolvedThresholds } from '../suite.ts';

/** --config, the same for every command that reads the config. */
export const CONFIG_OPTION = { type: 'string', help: 'config file (default: bhyve-smoke.config.ts/.yaml here, else the built-in lab)' } as const;

/** --known-hosts, for a one-off ssh:// host. */
export const KNOWN_HOSTS_OPTION = { type: 'string', help: 'known_hosts file for a one-off ssh:// host' } as const;

export interface Loaded {
  config: Config;
  source: string;
  /** The host name --host resolved to, if given. */
  host?: string;
}

/** Loads the config and, for --host ssh://…, adds that host after detecting its platform. */
export async function loadWithHost(configFile: string | undefined, hostArg: string | undefined, knownHosts?: string): Promise<Loaded> {
  const { config, source } = await loadConfig(configFile);
  if (!hostArg?.startsWith('ssh://')) return { config, source, host: hostArg };
  let target;
  try {
    target = parseSshDestination(hostArg);
  } catch (e) {
    throw new ConfigError(`--host: ${(e as Error).message}`);
  }
  const name = `${target.host}${target.port ? `-${target.port}` : ''}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 32);
  const base: HostConfig = { transport: 'ssh', ssh: hostArg, platform: 'lab', capacity: 1, labels: [], ...(knownHosts ? { knownHosts } : {}) };
  const probe = createHost(name, base);
  try {
    const r = await probe.exec('uname -s', { doing: `detecting the platform of ${hostArg}`, timeoutMs: 30_000 });
    const platform = detectPlatform(r.stdout.trim());
    if (!platform) throw new ConfigError(`--host ${hostArg}: unknown platform (uname -s says ${JSON.stringify(r.stdout.trim())}; expected SunOS, FreeBSD or Linux for the lab)`);
    // Each vm's link is made over the host's nic, which only a config can name (the lab has its own).
    if (platform !== 'lab') throw new ConfigError(`--host ${hostArg}: a ${platform} host needs hosts.<name>.nic (the link or bridge each vm's own link is made on): configure it in a config file and run with --host <name>`);
    config.hosts = { ...config.hosts, [name]: { ...base, platform } };
  } finally {
    await probe.close();
  }
  return { config, source, host: name };
}

export const detectPlatform = (uname: string): PlatformKind | undefined =>
  PLATFORM_KINDS.find((k) => platformFor(k, { transport: 'local', platform: k, capacity: 1, labels: [] }).uname === uname);

export interface Settings {
  thresholds: ResolvedThresholds;
  testTimeoutMs: number;
  globalTimeoutMs: number;
  retries: number;
  repeatEach: number;
}

const first = <T>(...values: Array<T | undefined>): T | undefined => values.find((v) => v !== undefined);

export function resolveSettings(config: Config, profileName: string | undefined, cli: { timeout?: string; retries?: number; repeatEach?: number }): Settings {
  const profile = profileName ? config.profiles[profileName] : undefined;
  if (profileName && !profile) throw new ConfigError(`--profile: unknown profile "${profileName}" (configured: ${Object.keys(config.profiles).join(', ') || 'none'})`);
  const t = { ...config.thresholds, ...profile?.thresholds };
  const stress = { ...config.stress, ...profile?.stress };
  return {
    thresholds: {
      bootReadyMs: parseDuration(t.bootReady, 'thresholds.bootReady'),
      rebootReadyMs: parseDuration(t.rebootReady, 'thresholds.rebootReady'),
      commandMs: parseDuration(t.command, 'thresholds.command'),
      osUpdateMs: parseDuration(t.osUpdate, 'thresholds.osUpdate'),
      wrlockCycleMs: parseDuration(t.wrlockCycle, 'thresholds.wrlockCycle'),
      wedgeGraceMs: parseDuration(t.wedgeGrace, 'thresholds.wedgeGrace'),
      hostUnresponsiveMs: parseDuration(t.hostUnresponsive, 'thresholds.hostUnresponsive'),
      hostReturnMs: parseDuration(t.hostReturn, 'thresholds.hostReturn'),
      crashRecordWaitMs: parseDuration(t.crashRecordWait, 'thresholds.crashRecordWait'),
      leaseStaleMs: parseDuration(t.leaseStale, 'thresholds.leaseStale'),
      heartbeatGapMs: parseDuration(t.heartbeatGap, 'thresholds.heartbeatGap'),
      heartbeatIntervalMs: parseDuration(stress.heartbeatInterval, 'stress.heartbeatInterval'),
      reboots: stress.reboots,
      upBetweenRebootsMs: parseDuration(stress.upBetweenReboots, 'stress.upBetweenReboots'),
      throughputUnderHammer: t.throughputUnderHammer,
      zeroThroughputRunMs: parseDuration(t.zeroThroughputRun, 'thresholds.zeroThroughputRun'),
      recovery: t.recovery,
      recoveryWithinMs: parseDuration(t.recoveryWithin, 'thresholds.recoveryWithin'),
      iperfPhaseMs: parseDuration(stress.iperfPhase, 'stress.iperfPhase'),
      lightRate: stress.lightRate,
      doseLadder: stress.doseLadder,
    },
    testTimeoutMs: parseDuration(first(cli.timeout, profile?.testTimeout, config.testTimeout)!, cli.timeout ? '--timeout' : 'testTimeout'),
    globalTimeoutMs: parseDuration(first(profile?.globalTimeout, config.globalTimeout)!, 'globalTimeout'),
    retries: first(cli.retries, profile?.retries, 0)!,
    repeatEach: first(cli.repeatEach, profile?.repeatEach, 1)!,
  };
}

/** A whole number option, or a usage error naming it. */
export function intOption(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new ConfigError(`${name}: expected a whole number >= ${min}, got ${JSON.stringify(value)}`);
  return Number(value);
}
