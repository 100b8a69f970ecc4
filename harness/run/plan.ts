// The plan: which tests a run holds. A test is one suite × pool × guest ×
// repeat. A pool is a set of interchangeable hosts (`hosts.X.pool`; a host
// without one is a pool of its own), and the runner sends each test to a host
// of its pool that has what the suite needs and a free slot. Pure over plain
// data, so it unit-tests without any host.
import type { Config } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import type { PlatformKind } from '../platform/types.ts';
import type { SuiteDefinition } from '../suite.ts';
import { platformFor } from '../host.ts';

export interface PlannedTest {
  id: string;
  suite: SuiteDefinition;
  /** The pool (or the one host) the test targets: its id's middle part. */
  host: string;
  /** The hosts of that pool able to run it, in config order. */
  hosts: string[];
  guest: string;
  repeat: number;
  /** Set when the test cannot run here; it is reported as skipped with this reason. */
  skip?: string;
}

export interface PlanFilter {
  suites: string[];
  /** A host or a pool. */
  host?: string;
  /** An A/B run: the same tests on two hosts, interleaved, the order alternating per repeat. */
  ab?: [string, string];
  guest?: string;
  grep?: RegExp;
  /** Leave out tests whose id matches (--grep-invert). */
  grepInvert?: RegExp;
  /** Only hosts carrying every one of these labels (hosts.X.labels; --host-label). */
  hostLabels?: string[];
  /** Only these test ids (--last-failed: the ones that failed or errored in the last run). */
  only?: ReadonlySet<string>;
  repeatEach: number;
  /** The first repeat index (a gate run's further iterations number on). */
  firstRepeat?: number;
}

/** Pools by name, each with its hosts in config order. */
export function poolsOf(config: Config): Map<string, string[]> {
  const pools = new Map<string, string[]>();
  for (const [name, host] of Object.entries(config.hosts)) {
    const pool = host.pool ?? name;
    pools.set(pool, [...(pools.get(pool) ?? []), name]);
  }
  return pools;
}

/** What --host names: a pool (all its hosts) or one host (alone, under its own name). */
function resolveTarget(config: Config, pools: Map<string, string[]>, target: string, option: string): [string, string[]] {
  if (config.hosts[target]) return [target, [target]];
  if (pools.has(target)) return [target, pools.get(target)!];
  throw new ConfigError(`${option}: unknown host or pool "${target}" (hosts: ${Object.keys(config.hosts).join(', ')}; pools: ${[...pools.keys()].join(', ')}; or ssh://user@host[:port])`);
}

/** The targets' hosts that carry every label; a target left with none is dropped, and none left at all is a usage error naming the labels there are. */
function withLabels(config: Config, targets: Array<[string, string[]]>, labels: string[]): Array<[string, string[]]> {
  if (labels.length === 0) return targets;
  const carries = (h: string) => labels.every((l) => config.hosts[h].labels.includes(l));
  const kept = targets.map(([t, members]): [string, string[]] => [t, members.filter(carries)]).filter(([, members]) => members.length > 0);
  if (kept.length === 0) {
    const known = Object.entries(config.hosts).map(([n, h]) => `${n}: ${h.labels.join(', ') || 'none'}`).join('; ');
    throw new ConfigError(`--host-label ${labels.join(',')}: no ${targets.length === 1 ? `host of ${targets[0][0]}` : 'host'} carries ${labels.length > 1 ? 'all of them' : 'it'} (hosts' labels: ${known})`);
  }
  return kept;
}

export function planTests(config: Config, suites: Map<string, SuiteDefinition>, filter: PlanFilter): PlannedTest[] {
  for (const name of filter.suites) {
    if (!suites.has(name)) throw new ConfigError(`unknown suite "${name}" (known: ${[...suites.keys()].join(', ')})`);
  }
  if (filter.guest && !config.guests[filter.guest]) {
    throw new ConfigError(`unknown guest "${filter.guest}" (configured: ${Object.keys(config.guests).join(', ')})`);
  }
  const pools = poolsOf(config);
  if (filter.ab && filter.ab[0] === filter.ab[1]) throw new ConfigError(`--ab: compare two different hosts, got ${filter.ab[0]} twice`);
  const chosenTargets: Array<[string, string[]]> = filter.ab
    ? filter.ab.map((h) => resolveTarget(config, pools, h, '--ab'))
    : filter.host ? [resolveTarget(config, pools, filter.host, '--host')] : [...pools.entries()];
  const targets = withLabels(config, chosenTargets, filter.hostLabels ?? []);
  const chosen = filter.suites.length ? filter.suites.map((n) => suites.get(n)!) : [...suites.values()];
  const first = filter.firstRepeat ?? 0;
  const numbered = first > 0 || filter.repeatEach > 1;
  const guests = Object.keys(config.guests).filter((g) => !filter.guest || g === filter.guest);
  const repeats = Array.from({ length: filter.repeatEach }, (_, i) => first + i);
  // Suite, then host, guest and repeat; an A/B run interleaves the two hosts
  // within each repeat, A first on even repeats and B first on odd ones,
  // against drift and order effects.
  const slots: Array<[[string, string[]], string, number]> = filter.ab
    ? guests.flatMap((g) => repeats.flatMap((r) => (r % 2 ? [...targets].reverse() : targets).map((t): [[string, string[]], string, number] => [t, g, r])))
    : targets.flatMap((t) => guests.flatMap((g) => repeats.map((r): [[string, string[]], string, number] => [t, g, r])));
  const tests: PlannedTest[] = [];
  for (const suite of chosen) {
    // What a platform is known to lack is skipped now; what a host lacks is found when the run probes it (runner.ts).
    const capable = (h: string) => suite.needs.every((cap) => !platformFor(config.hosts[h].platform as PlatformKind, config.hosts[h]).lacks?.[cap]);
    for (const [[target, members], guestName, repeat] of slots) {
      const id = `${suite.name}/${target}/${guestName}${numbered ? `#${repeat}` : ''}`;
      if (filter.grep && !filter.grep.test(id)) continue;
      if (filter.grepInvert?.test(id)) continue;
      if (filter.only && !filter.only.has(id)) continue;
      const hosts = members.filter(capable);
      const needs = suite.needs.join(', ');
      const skip = !suite.guests.includes(config.guests[guestName].os)
        ? `suite ${suite.name} does not run on ${config.guests[guestName].os} guests`
        : hosts.length > 0
          ? undefined
          : members.length === 1
            ? `host ${members[0]} (${config.hosts[members[0]].platform}) has no ${needs} capability`
            : `no host of pool ${target} (${members.join(', ')}) has the ${needs} capability`;
      tests.push({ id, suite, host: target, hosts, guest: guestName, repeat, ...(skip ? { skip } : {}) });
    }
  }
  if (tests.length === 0) throw new ConfigError('no test matches the given suites, --host, --host-label, --guest, --grep and --grep-invert');
  // A guest reached over ssh has one address: two of its vms at once would answer for each other.
  for (const t of tests.filter((t) => !t.skip && config.guests[t.guest].access === 'ssh')) {
    const wide = t.hosts.find((h) => config.hosts[h].capacity > 1);
    if (wide) throw new ConfigError(`guests.${t.guest} is reached at one ssh address, but hosts.${wide}.capacity is ${config.hosts[wide].capacity}: run it on a host with capacity 1`);
    if (t.hosts.length > 1) throw new ConfigError(`guests.${t.guest} is reached at one ssh address, but pool ${t.host} has ${t.hosts.length} hosts: give each host its own guest entry, or run it on one host`);
  }
  return tests;
}
