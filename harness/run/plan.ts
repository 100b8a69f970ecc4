// The plan: which tests a run holds. A test is one suite × host × guest ×
// repeat. Pure over plain data, so it unit-tests without any host.
import type { Config } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import type { PlatformKind } from '../platform/types.ts';
import type { SuiteDefinition } from '../suite.ts';
import { platformFor } from '../host.ts';

export interface PlannedTest {
  id: string;
  suite: SuiteDefinition;
  host: string;
  guest: string;
  repeat: number;
  /** Set when the test cannot run here; it is reported as skipped with this reason. */
  skip?: string;
}

export interface PlanFilter {
  suites: string[];
  host?: string;
  guest?: string;
  grep?: RegExp;
  repeatEach: number;
}

export function planTests(config: Config, suites: Map<string, SuiteDefinition>, filter: PlanFilter): PlannedTest[] {
  for (const name of filter.suites) {
    if (!suites.has(name)) throw new ConfigError(`unknown suite "${name}" (known: ${[...suites.keys()].join(', ')})`);
  }
  if (filter.host && !config.hosts[filter.host]) {
    throw new ConfigError(`unknown host "${filter.host}" (configured: ${Object.keys(config.hosts).join(', ')}; or ssh://user@host[:port])`);
  }
  if (filter.guest && !config.guests[filter.guest]) {
    throw new ConfigError(`unknown guest "${filter.guest}" (configured: ${Object.keys(config.guests).join(', ')})`);
  }
  const chosen = filter.suites.length ? filter.suites.map((n) => suites.get(n)!) : [...suites.values()];
  const tests: PlannedTest[] = [];
  for (const suite of chosen) {
    for (const [hostName, host] of Object.entries(config.hosts)) {
      if (filter.host && hostName !== filter.host) continue;
      for (const [guestName, guest] of Object.entries(config.guests)) {
        if (filter.guest && guestName !== filter.guest) continue;
        for (let repeat = 0; repeat < filter.repeatEach; repeat++) {
          const id = `${suite.name}/${hostName}/${guestName}${filter.repeatEach > 1 ? `#${repeat}` : ''}`;
          if (filter.grep && !filter.grep.test(id)) continue;
          const missing = suite.needs.filter((cap) => !platformFor(host.platform as PlatformKind, host).capabilities[cap]);
          const skip = !suite.guests.includes(guest.os)
            ? `suite ${suite.name} does not run on ${guest.os} guests`
            : missing.length
              ? `host ${hostName} (${host.platform}) has no ${missing.join(', ')} capability`
              : undefined;
          tests.push({ id, suite, host: hostName, guest: guestName, repeat, ...(skip ? { skip } : {}) });
        }
      }
    }
  }
  if (tests.length === 0) throw new ConfigError('no test matches the given suites, --host, --guest and --grep');
  // A guest reached over ssh has one address: two of its vms at once would answer for each other.
  for (const t of tests.filter((t) => !t.skip && config.guests[t.guest].access === 'ssh' && config.hosts[t.host].capacity > 1)) {
    throw new ConfigError(`guests.${t.guest} is reached at one ssh address, but hosts.${t.host}.capacity is ${config.hosts[t.host].capacity}: run it on a host with capacity 1`);
  }
  return tests;
}
