// What `run` and `gate` share: the options that choose and run tests, read
// and checked before anything starts (a bad value is exit 2, not a lost
// hour), the plan, and how a run's options are made for a set of planned tests.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readResultsFile } from '../report/read-results.ts';
import { ConfigError } from '../errors.ts';
import { checkGateMetrics, withProfile } from '../config/schema.ts';
import { knownMetricNames } from '../verdict/metrics.ts';
import { platformFor } from '../host.ts';
import { checkBootable } from '../image/clone.ts';
import { diskImageFor } from '../image/disk-image.ts';
import type { PlatformKind } from '../platform/types.ts';
import { LineReporter } from '../report/line.ts';
import { resolveFramebuffer, resolvePassword } from '../run/credentials.ts';
import { planTests, type PlanFilter, type PlannedTest } from '../run/plan.ts';
import type { RunOptions } from '../run/runner.ts';
import { isSuiteFile, suitesFor, type LoadedSuite } from '../run/suites.ts';
import { shJoin } from '../transport/quote.ts';
import { CONFIG_OPTION, KNOWN_HOSTS_OPTION, intOption, loadWithHost, resolveSettings, type Loaded, type Settings } from './context.ts';
import { JUNIT_OPTIONS, junitOptionsOf } from './junit-options.ts';
import type { JunitOptions } from '../report/junit.ts';

const REPORTERS = ['line', 'junit', 'json', 'html'] as const;

/** The options that choose the tests and how they run, the same for run and gate. */
export const RUN_OPTIONS = {
  config: CONFIG_OPTION,
  host: { type: 'string', help: 'a configured host or pool, or ssh://[user@]host[:port] for a one-off run' },
  'known-hosts': KNOWN_HOSTS_OPTION,
  guest: { type: 'string', help: 'only this configured guest' },
  grep: { type: 'string', short: 'g', help: 'only tests whose id (suite/host/guest) matches this regex' },
  'grep-invert': { type: 'string', help: 'leave out tests whose id matches this regex' },
  'host-label': { type: 'string', help: 'only hosts carrying this label (hosts.X.labels); several, comma-separated, must all be carried' },
  'last-failed': { type: 'boolean', help: 'only the tests that failed or errored in the last run written to --output (its results.json)' },
  profile: { type: 'string', help: 'a profile from the config (quick, nightly, gate, ...)' },
  retries: { type: 'string', help: 'retry a test N times after an infrastructure error (never after a failure or hang)' },
  timeout: { type: 'string', help: 'per-test timeout, e.g. 10m' },
  output: { type: 'string', help: 'report folder (default: reports)' },
  reporter: { type: 'string', help: 'line,junit,json,html (default: all four)' },
  ...JUNIT_OPTIONS,
  'keep-on-failure': { type: 'boolean', help: 'leave a failed or hung vm running and print how to reach it' },
  'expect-build': { type: 'string', help: 'every host must run this build (its platform build as printed, or vmm:HEX): another is an infrastructure error before any test' },
  'fail-on-skip': { type: 'boolean', help: 'a skipped test fails the run (exit 1), listing the skips: a host that lost a capability goes red (profile: failOnSkip)' },
  'fail-on-flaky-tests': { type: 'boolean', help: 'a test that passed only on a retry fails the run (exit 1) (profile: failOnFlakyTests)' },
  'no-wait': { type: 'boolean', help: 'a host another process holds (its lease) fails the run at once, naming the holder, instead of being waited for' },
} as const;

export interface RunSetup {
  loaded: Loaded;
  suites: Awaited<ReturnType<typeof suitesFor>>['suites'];
  settings: Settings;
  filter: PlanFilter;
  tests: PlannedTest[];
  output: string;
  wants: { junit: boolean; json: boolean; html: boolean };
  junit: JunitOptions;
  /** The options of a run of `planned` writing into `out`. */
  runOptions(planned: PlannedTest[], out: string, extra?: Partial<RunOptions>): RunOptions;
}

type Values = Record<string, string | boolean | undefined>;

/** Reads and checks the run options, loads the config and suites, plans the tests. */
export async function setUpRun(values: Values, positionals: string[], o: { repeatEach?: number; ab?: [string, string] } = {}): Promise<RunSetup> {
  const reporters = String(values.reporter ?? REPORTERS.join(',')).split(',').map((r) => r.trim());
  const bad = reporters.filter((r) => !(REPORTERS as readonly string[]).includes(r));
  if (bad.length) throw new ConfigError(`--reporter: unknown ${bad.join(', ')} (known: ${REPORTERS.join(', ')})`);
  const junit = junitOptionsOf(values);
  const grep = regexOption(values.grep, '--grep');
  const grepInvert = regexOption(values['grep-invert'], '--grep-invert');
  const cli = {
    timeout: values.timeout as string | undefined,
    retries: intOption(values.retries as string | undefined, '--retries', 0),
    repeatEach: o.repeatEach ?? intOption(values['repeat-each'] as string | undefined, '--repeat-each', 1),
  };
  const loaded = await loadWithHost(values.config as string | undefined, values.host as string | undefined, values['known-hosts'] as string | undefined);
  const { suites, names } = await suitesFor(loaded.config, loaded.source, positionals);
  checkGateMetrics(loaded.config.gate, loaded.source, knownMetricNames(suites.values()));
  // A suite named by its file on the command line is reproduced by that file.
  const suiteArg = new Map(positionals.filter(isSuiteFile).map((p) => [resolve(p), p]));
  const suiteArgOf = (s: PlannedTest['suite']) => suiteArg.get((s as LoadedSuite).source ?? '') ?? s.name;
  const settings = resolveSettings(loaded.config, values.profile as string | undefined, cli);
  const output = resolve(String(values.output ?? 'reports'));
  const filter: PlanFilter = {
    suites: names, host: loaded.host, ab: o.ab, guest: values.guest as string | undefined, grep, repeatEach: settings.repeatEach,
    ...(grepInvert ? { grepInvert } : {}),
    ...(values['host-label'] !== undefined ? { hostLabels: labelList(String(values['host-label'])) } : {}),
    ...(values['last-failed'] ? { only: lastFailed(output) } : {}),
  };
  const tests = planTests(loaded.config, suites, filter);
  for (const t of tests) {
    if (t.skip) continue;
    const guest = loaded.config.guests[t.guest];
    resolvePassword(t.guest, guest);
    resolveFramebuffer(t.guest, guest);
    for (const name of t.hosts) {
      const host = { name, config: loaded.config.hosts[name] };
      checkBootable(platformFor(host.config.platform as PlatformKind, host.config), host, { name: t.guest, bootrom: guest.image.bootrom, image: diskImageFor(guest, name, host.config.pool) });
    }
  }
  const profile = values.profile !== undefined ? loaded.config.profiles[String(values.profile)] : undefined;
  const wants = { junit: reporters.includes('junit'), json: reporters.includes('json'), html: reporters.includes('html') };
  const runOptions = (planned: PlannedTest[], out: string, extra: Partial<RunOptions> = {}): RunOptions => ({
    // The profile's vCPU pinning over the guests' own.
    config: withProfile(loaded.config, profile),
    configSource: loaded.source,
    profile: values.profile as string | undefined,
    tests: planned,
    output: out,
    reporters: { line: reporters.includes('line') ? new LineReporter() : undefined, ...wants, junit: wants.junit && junit },
    retries: settings.retries,
    testTimeoutMs: settings.testTimeoutMs,
    globalTimeoutMs: settings.globalTimeoutMs,
    thresholds: settings.thresholds,
    keepOnFailure: Boolean(values['keep-on-failure']),
    noWait: Boolean(values['no-wait']),
    failOn: {
      skip: Boolean(values['fail-on-skip'] ?? profile?.failOnSkip),
      flaky: Boolean(values['fail-on-flaky-tests'] ?? profile?.failOnFlakyTests),
    },
    ...(values['expect-build'] !== undefined ? { expectBuild: String(values['expect-build']) } : {}),
    reproduce: (t, host) => shJoin([
      'npx', 'bhyve-smoke', 'run', suiteArgOf(t.suite),
      ...(values.config ? ['--config', String(values.config)] : []),
      '--host', values.host?.toString().startsWith('ssh://') ? String(values.host) : host, '--guest', t.guest,
      ...(values.profile ? ['--profile', String(values.profile)] : []),
      // The repeat index is part of the id: plan enough repeats for it to exist.
      ...(t.repeat > 0 ? ['--repeat-each', String(t.repeat + 1), '--grep', `^${t.id.replace(/^([^/]+)\/[^/]+\//, `$1/${host}/`).replace(/[#.]/g, '\\$&')}$`] : []),
    ]),
    ...extra,
  });
  return { loaded, suites, settings, filter, tests, output, wants, junit, runOptions };
}

/** Where the reports are, in one line. */
export function printReportPaths(output: string, wants: { junit: boolean; json: boolean; html: boolean }, more: string[] = []): void {
  const paths = [wants.html && `${output}/report.html`, wants.junit && `${output}/junit.xml`, wants.json && `${output}/results.json`, ...more].filter(Boolean);
  if (paths.length) process.stdout.write(`reports: ${paths.join(', ')}\n`);
}

function regexOption(value: string | boolean | undefined, option: string): RegExp | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    return new RegExp(String(value));
  } catch (e) {
    throw new ConfigError(`${option}: ${(e as Error).message}`);
  }
}

const labelList = (value: string) => {
  const labels = value.split(',').map((l) => l.trim());
  if (labels.some((l) => !l)) throw new ConfigError(`--host-label: expected LABEL[,LABEL...], got ${JSON.stringify(value)}`);
  return labels;
};

/**
 * --last-failed: the ids that failed or errored in the last run written to
 * the output folder (as Playwright's --last-failed reads its last run). None
 * to read is a usage error; a last run with none failed plans no test.
 */
function lastFailed(output: string): Set<string> {
  const file = join(output, 'results.json');
  if (!existsSync(file)) throw new ConfigError(`--last-failed: no last run in ${output} (no results.json there; --output names the folder of the run to follow)`);
  const last = readResultsFile(file);
  const failed = last.tests.filter((t) => t.status === 'failed' || t.status === 'error').map((t) => t.id);
  if (failed.length === 0) throw new ConfigError(`--last-failed: nothing failed in the last run (${file}, run ${last.runId}): no test to run again`);
  // A test repeated last time (`#2`) is also found by its plain id, for a rerun without --repeat-each.
  return new Set(failed.flatMap((id) => [id, id.replace(/#\d+$/, '')]));
}
