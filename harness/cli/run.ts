// bhyve-smoke run [suite...]: plans the tests, runs them, writes the reports.
// With --baseline or --ab it is a gate run: run, compare, and while a flagged
// series is in doubt run more iterations of its tests (keeping all data)
// before the verdict.
import { join, resolve } from 'node:path';
import { ConfigError, EXIT } from '../errors.ts';
import { formatComparison, writeComparison } from '../report/comparison.ts';
import { writeJunit } from '../report/junit.ts';
import { JUNIT_OPTIONS, junitOptionsOf } from './junit-options.ts';
import { baselineFromHistory, labelsOf, RECORD_OPTIONS, recordRun } from './history.ts';
import { writeReportHtml } from '../report/html/page.ts';
import { LineReporter } from '../report/line.ts';
import { mergeRuns } from '../report/merge.ts';
import { readResults } from '../report/read-results.ts';
import { writeResults, type RunResult } from '../report/results.ts';
import { resolveFramebuffer, resolvePassword } from '../run/credentials.ts';
import { platformFor } from '../host.ts';
import { checkBootable } from '../image/clone.ts';
import { diskImageFor } from '../image/disk-image.ts';
import type { PlatformKind } from '../platform/types.ts';
import { planTests, type PlanFilter, type PlannedTest } from '../run/plan.ts';
import { corruptNote, reapDeadRuns } from '../run/reap.ts';
import { executeRun, type RunOptions } from '../run/runner.ts';
import { durationsOf, parseShard, shardOf } from '../run/shard.ts';
import { isSuiteFile, suitesFor, type LoadedSuite } from '../run/suites.ts';
import { shJoin } from '../transport/quote.ts';
import { compareRuns, inDoubt, untestable, type Comparison } from '../verdict/compare.ts';
import type { Command } from './command.ts';
import { CONFIG_OPTION, KNOWN_HOSTS_OPTION, intOption, loadWithHost, resolveSettings } from './context.ts';
import { gateWithOptions, GATE_OPTIONS } from './gate-options.ts';

const REPORTERS = ['line', 'junit', 'json', 'html'] as const;

export const runCommand: Command = {
  name: 'run',
  summary: 'run suites against hosts and guests, write JUnit and results.json',
  usage: 'bhyve-smoke run [SUITE...] [options]',
  options: {
    config: CONFIG_OPTION,
    host: { type: 'string', help: 'a configured host or pool, or ssh://[user@]host[:port] for a one-off run' },
    'known-hosts': KNOWN_HOSTS_OPTION,
    guest: { type: 'string', help: 'only this configured guest' },
    grep: { type: 'string', help: 'only tests whose id (suite/host/guest) matches this regex' },
    profile: { type: 'string', help: 'a profile from the config (quick, nightly, gate, ...)' },
    'repeat-each': { type: 'string', help: 'run each test N times' },
    retries: { type: 'string', help: 'retry a test N times after an infrastructure error (never after a failure or hang)' },
    timeout: { type: 'string', help: 'per-test timeout, e.g. 10m' },
    output: { type: 'string', help: 'report folder (default: reports)' },
    reporter: { type: 'string', help: 'line,junit,json,html (default: all four)' },
    ...JUNIT_OPTIONS,
    'keep-on-failure': { type: 'boolean', help: 'leave a failed or hung vm running and print how to reach it' },
    shard: { type: 'string', help: 'run only shard I of N (I/N) of the plan; combine the shards with merge' },
    durations: { type: 'string', help: 'results.json (file or folder) of an earlier run: balance --shard by its test durations' },
    baseline: { type: 'string', help: 'gate: compare this run against a baseline results.json (file or folder)' },
    'baseline-from': { type: 'string', help: 'gate: take the baseline from a history store: its last --last N runs since the latest change point' },
    last: { type: 'string', help: 'with --baseline-from: how many runs (default 10)' },
    ab: { type: 'string', help: 'gate: HOST_A,HOST_B — the same tests on two hosts, interleaved; B is compared against A' },
    ...GATE_OPTIONS,
    ...RECORD_OPTIONS,
  },
  async run(values, positionals) {
    const reporters = String(values.reporter ?? REPORTERS.join(',')).split(',').map((r) => r.trim());
    const bad = reporters.filter((r) => !(REPORTERS as readonly string[]).includes(r));
    if (bad.length) throw new ConfigError(`--reporter: unknown ${bad.join(', ')} (known: ${REPORTERS.join(', ')})`);
    const junit = junitOptionsOf(values);
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
    const shard = values.shard !== undefined ? parseShard(String(values.shard)) : undefined;
    const ab = values.ab !== undefined ? parseAb(String(values.ab)) : undefined;
    if (values.baseline !== undefined && ab) throw new ConfigError('--baseline and --ab are two kinds of gate run: choose one');
    if (values['baseline-from'] !== undefined && (values.baseline !== undefined || ab)) throw new ConfigError('--baseline-from is a baseline of its own: not with --baseline or --ab');
    if (values.last !== undefined && values['baseline-from'] === undefined) throw new ConfigError('--last counts the runs of --baseline-from: give --baseline-from too');
    const labels = labelsOf(values);
    if (shard && (values.baseline !== undefined || values['baseline-from'] !== undefined || ab)) throw new ConfigError('--shard splits a plan across CI jobs; a gate run (--baseline, --ab) needs all its series in one run');
    if (values.durations !== undefined && !shard) throw new ConfigError('--durations balances --shard: give --shard too');
    // Every input is read before anything starts: a bad file is exit 2, not a lost hour.
    const baseline = values.baseline !== undefined
      ? readResults([String(values.baseline)])
      : values['baseline-from'] !== undefined
        ? baselineFromHistory(String(values['baseline-from']), intOption(values.last as string | undefined, '--last', 1) ?? 10)
        : undefined;
    const durations = values.durations !== undefined ? durationsOf(readResults([String(values.durations)])) : undefined;

    const loaded = await loadWithHost(values.config as string | undefined, values.host as string | undefined, values['known-hosts'] as string | undefined);
    const { suites, names } = await suitesFor(loaded.config, loaded.source, positionals);
    // A suite named by its file on the command line is reproduced by that file.
    const suiteArg = new Map(positionals.filter(isSuiteFile).map((p) => [resolve(p), p]));
    const suiteArgOf = (s: PlannedTest['suite']) => suiteArg.get((s as LoadedSuite).source ?? '') ?? s.name;
    const settings = resolveSettings(loaded.config, values.profile as string | undefined, cli);
    const gate = gateWithOptions(loaded.config.gate, values);
    const filter: PlanFilter = { suites: names, host: loaded.host, ab, guest: values.guest as string | undefined, grep, repeatEach: settings.repeatEach };
    let tests = planTests(loaded.config, suites, filter);
    if (shard) tests = shardOf(tests, shard, durations);
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

    // Runs that kept vms for inspection are left be: the engineer is poking at them.
    const dead = await reapDeadRuns({ leaveKept: true });
    for (const r of dead.keptBy) process.stderr.write(`bhyve-smoke: run ${r.runId} keeps ${r.kept!.map((k) => `${k.vm} on ${k.host}`).join(', ')} for inspection; \`npx bhyve-smoke clean --run ${r.runId}\` removes them\n`);
    for (const c of dead.corrupt) process.stderr.write(`bhyve-smoke: ${corruptNote(c)}\n`);
    for (const reaped of dead.reaped) {
      process.stderr.write(`bhyve-smoke: reaped dead run ${reaped.runId}: ${reaped.vms.join(', ') || 'no vms left'}${reaped.errors.length ? `; errors: ${reaped.errors.join('; ')}` : ''}\n`);
      for (const w of reaped.wedged) process.stderr.write(`bhyve-smoke: dead run ${reaped.runId}: ${w}\n`);
    }
    const output = resolve(String(values.output ?? 'reports'));
    const wants = { junit: reporters.includes('junit'), json: reporters.includes('json'), html: reporters.includes('html') };
    const runOptions = (planned: PlannedTest[], out: string): RunOptions => ({
      config: loaded.config,
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
      ...(shard ? { shard } : {}),
      ...(labels ? { labels } : {}),
      reproduce: (t, host) => shJoin([
        'npx', 'bhyve-smoke', 'run', suiteArgOf(t.suite),
        ...(values.config ? ['--config', String(values.config)] : []),
        '--host', values.host?.toString().startsWith('ssh://') ? String(values.host) : host, '--guest', t.guest,
        ...(values.profile ? ['--profile', String(values.profile)] : []),
        // The repeat index is part of the id: plan enough repeats for it to exist.
        ...(t.repeat > 0 ? ['--repeat-each', String(t.repeat + 1), '--grep', `^${t.id.replace(/^([^/]+)\/[^/]+\//, `$1/${host}/`).replace(/[#.]/g, '\\$&')}$`] : []),
      ]),
    });

    if (tests.length === 0) {
      // More shards than tests: this one has nothing to do, and says so in its reports.
      process.stdout.write(`shard ${shard!.index}/${shard!.total} holds no test of this plan\n`);
    }
    if (!baseline && !ab) {
      const run = await executeRun(runOptions(tests, output));
      printReportPaths(output, wants);
      recordRun(values, run, wants.html ? join(output, 'report.html') : undefined);
      return run.exitCode;
    }

    // A gate run: iterate while something is flagged, keeping every iteration's data.
    const runs: RunResult[] = [];
    let comparison: Comparison;
    for (let iteration = 1; ; iteration++) {
      const run = await executeRun(runOptions(tests, join(output, `iteration-${iteration}`)));
      runs.push(run);
      comparison = ab
        ? compareRuns([sideOf(runs, ab[0])], [sideOf(runs, ab[1])], { gate })
        : compareRuns(baseline!, runs, { gate });
      const doubtful = inDoubt(comparison);
      if (run.interrupted || doubtful.length === 0 || iteration >= gate.maxIterations) break;
      const again = new Set(doubtful.map((v) => `${v.key.suite}/${v.key.guest}`));
      process.stdout.write(`gate: ${doubtful.length} flagged series in doubt (${doubtful.map((v) => v.id).join('; ')}): iteration ${iteration + 1} of at most ${gate.maxIterations}\n`);
      tests = planTests(loaded.config, suites, { ...filter, suites: [...new Set(doubtful.map((v) => v.key.suite))], firstRepeat: iteration * settings.repeatEach })
        .filter((t) => again.has(`${t.suite.name}/${t.guest}`));
    }
    const all = runs.length === 1 ? runs[0] : mergeRuns(runs.map((r, i) => ({ source: `iteration-${i + 1}`, run: r })));
    if (wants.json) writeResults(join(output, 'results.json'), all);
    if (wants.junit) writeJunit(join(output, 'junit.xml'), all, junit);
    const sides = ab ? { base: ab[0], cand: ab[1] } : { base: 'baseline', cand: 'this run' };
    if (wants.html) writeReportHtml(join(output, 'report.html'), { run: all, comparison: { result: comparison, labels: sides }, dir: output });
    process.stdout.write(formatComparison(comparison, sides));
    const written = writeComparison(output, comparison, { base: ab ? [`${output}/results.json (${ab[0]})`] : baseline!.map((r) => r.runId), cand: [`${output}/results.json${ab ? ` (${ab[1]})` : ''}`] });
    printReportPaths(output, wants, written);
    recordRun(values, all, wants.html ? join(output, 'report.html') : undefined);
    if (all.interrupted) return all.exitCode;
    if (comparison.regressed) return EXIT.checkFailed;
    const why = untestable(comparison);
    if (why) {
      process.stderr.write(`bhyve-smoke run: the gate has no verdict: ${why} (--profile gate runs 20 a side)\n`);
      // The tests ran and their reports are written: not a usage error (nothing started), a run without a verdict.
      return all.exitCode === EXIT.passed ? EXIT.noVerdict : all.exitCode;
    }
    return all.exitCode;
  },
};

function parseAb(value: string): [string, string] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.length !== 2 || parts.some((p) => !p)) throw new ConfigError(`--ab: expected HOST_A,HOST_B, got ${JSON.stringify(value)}`);
  return [parts[0], parts[1]];
}

/** One side of an A/B run: the tests that targeted that host, from every iteration. */
function sideOf(runs: RunResult[], target: string): RunResult {
  const tests = runs.flatMap((r) => r.tests).filter((t) => t.pool === target);
  const used = new Set(tests.map((t) => t.host));
  return { ...runs[0], hosts: runs[0].hosts.filter((h) => used.has(h.name)), tests };
}

function printReportPaths(output: string, wants: { junit: boolean; json: boolean; html: boolean }, more: string[] = []): void {
  const paths = [wants.html && `${output}/report.html`, wants.junit && `${output}/junit.xml`, wants.json && `${output}/results.json`, ...more].filter(Boolean);
  if (paths.length) process.stdout.write(`reports: ${paths.join(', ')}\n`);
}
