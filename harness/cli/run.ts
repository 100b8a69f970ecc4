// bhyve-smoke run [suite...]: plans the tests, runs them, writes the reports.
import { resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import { LineReporter } from '../report/line.ts';
import { resolvePassword } from '../run/credentials.ts';
import { planTests } from '../run/plan.ts';
import { reapDeadRuns } from '../run/reap.ts';
import { executeRun } from '../run/runner.ts';
import { loadSuites } from '../run/suites.ts';
import { shJoin } from '../transport/quote.ts';
import type { Command } from './command.ts';
import { CONFIG_OPTION, KNOWN_HOSTS_OPTION, intOption, loadWithHost, resolveSettings } from './context.ts';

const REPORTERS = ['line', 'junit', 'json'] as const;

export const runCommand: Command = {
  name: 'run',
  summary: 'run suites against hosts and guests, write JUnit and results.json',
  usage: 'bhyve-smoke run [SUITE...] [options]',
  options: {
    config: CONFIG_OPTION,
    host: { type: 'string', help: 'a configured host, or ssh://[user@]host[:port] for a one-off run' },
    'known-hosts': KNOWN_HOSTS_OPTION,
    guest: { type: 'string', help: 'only this configured guest' },
    grep: { type: 'string', help: 'only tests whose id (suite/host/guest) matches this regex' },
    profile: { type: 'string', help: 'a profile from the config (quick, nightly, gate, ...)' },
    'repeat-each': { type: 'string', help: 'run each test N times' },
    retries: { type: 'string', help: 'retry a test N times after an infrastructure error (never after a failure or hang)' },
    timeout: { type: 'string', help: 'per-test timeout, e.g. 10m' },
    output: { type: 'string', help: 'report folder (default: reports)' },
    reporter: { type: 'string', help: 'line,junit,json (default: all three)' },
    'keep-on-failure': { type: 'boolean', help: 'leave a failed or hung vm running and print how to reach it' },
  },
  async run(values, positionals) {
    const reporters = String(values.reporter ?? REPORTERS.join(',')).split(',').map((r) => r.trim());
    const bad = reporters.filter((r) => !(REPORTERS as readonly string[]).includes(r));
    if (bad.length) throw new ConfigError(`--reporter: unknown ${bad.join(', ')} (known: ${REPORTERS.join(', ')})`);
    let grep: RegExp | undefined;
    try {
      grep = values.grep ? new RegExp(String(values.grep)) : undefined;
    } catch (e) {
      throw new ConfigError(`--grep: ${(e as Error).message}`);
    }
    const cli = {
      timeout: values.timeout as string | undefined,
      retries: intOption(values.retries as string | undefined, '--retries', 0),
      repeatEach: intOption(values['repeat-each'] as string | undefined, '--repeat-each', 1),
    };
    const suites = await loadSuites();
    const loaded = await loadWithHost(values.config as string | undefined, values.host as string | undefined, values['known-hosts'] as string | undefined);
    const settings = resolveSettings(loaded.config, values.profile as string | undefined, cli);
    const tests = planTests(loaded.config, suites, { suites: positionals, host: loaded.host, guest: values.guest as string | undefined, grep, repeatEach: settings.repeatEach });
    for (const t of tests) if (!t.skip) resolvePassword(t.guest, loaded.config.guests[t.guest]);

    for (const reaped of await reapDeadRuns()) {
      process.stderr.write(`bhyve-smoke: reaped dead run ${reaped.runId}: ${reaped.vms.join(', ') || 'no vms left'}${reaped.errors.length ? `; errors: ${reaped.errors.join('; ')}` : ''}\n`);
    }
    const output = resolve(String(values.output ?? 'reports'));
    const run = await executeRun({
      config: loaded.config,
      configSource: loaded.source,
      profile: values.profile as string | undefined,
      tests,
      output,
      reporters: { line: reporters.includes('line') ? new LineReporter() : undefined, junit: reporters.includes('junit'), json: reporters.includes('json') },
      retries: settings.retries,
      testTimeoutMs: settings.testTimeoutMs,
      globalTimeoutMs: settings.globalTimeoutMs,
      thresholds: settings.thresholds,
      keepOnFailure: Boolean(values['keep-on-failure']),
      reproduce: (t) => shJoin([
        'npx', 'bhyve-smoke', 'run', t.suite.name,
        ...(values.config ? ['--config', String(values.config)] : []),
        '--host', String(values.host ?? t.host), '--guest', t.guest,
        ...(values.profile ? ['--profile', String(values.profile)] : []),
        ...(t.repeat > 0 ? ['--grep', `^${t.id.replace(/[#.]/g, '\\$&')}$`] : []),
      ]),
    });
    if (reporters.includes('junit') || reporters.includes('json')) {
      process.stdout.write(`reports: ${[reporters.includes('junit') && `${output}/junit.xml`, reporters.includes('json') && `${output}/results.json`].filter(Boolean).join(', ')}\n`);
    }
    return run.exitCode;
  },
};
