// bhyve-smoke run [suite...]: plans the tests, runs them, writes the reports.
// With --baseline or --ab it is a gate run: run, compare, and while a flagged
// series is in doubt run more iterations of its tests (keeping all data)
// before the verdict.
import { join } from 'node:path';
import { formatDuration, parseDuration } from '../duration.ts';
import { ConfigError } from '../errors.ts';
import { RECORD_OPTIONS, baselineFromHistory, labelsOf, recordRun } from './history.ts';
import { mergeRuns } from '../report/merge.ts';
import { readResults } from '../report/read-results.ts';
import type { RunResult } from '../report/results.ts';
import { planTests, type PlannedTest } from '../run/plan.ts';
import { corruptNote, reapDeadRuns } from '../run/reap.ts';
import { executeRun } from '../run/runner.ts';
import { durationsOf, parseShard, shardOf } from '../run/shard.ts';
import { compareRuns, inDoubt, type Comparison } from '../verdict/compare.ts';
import type { Command } from './command.ts';
import { intOption } from './context.ts';
import { gateWithOptions, GATE_OPTIONS } from './gate-options.ts';
import { finishGate } from './gate-report.ts';
import { printReportPaths, RUN_OPTIONS, setUpRun } from './run-setup.ts';

export const runCommand: Command = {
  name: 'run',
  summary: 'run suites against hosts and guests, write JUnit and results.json',
  usage: 'bhyve-smoke run [SUITE|FILE...] [options]',
  options: {
    ...RUN_OPTIONS,
    'repeat-each': { type: 'string', help: 'run each test N times' },
    'max-failures': { type: 'string', help: 'start no further test once N tests have failed or errored (the running ones finish); reports as always' },
    'first-failure': { type: 'boolean', short: 'x', help: 'stop at the first failure: --max-failures 1' },
    duration: { type: 'string', help: 'start no further test after this long, e.g. 8h (a soak: with --repeat-each, or alone to repeat until then)' },
    shard: { type: 'string', help: 'run only shard I of N (I/N) of the plan; combine the shards with merge' },
    durations: { type: 'string', help: 'results.json (file or folder) of an earlier run: balance --shard by its test durations' },
    baseline: { type: 'string', help: 'gate: compare this run against a baseline results.json (file or folder)' },
    'baseline-from': { type: 'string', help: 'gate: take the baseline from a history store: its last --last N runs since the latest change point' },
    last: { type: 'string', help: 'with --baseline-from: how many runs (default 10)' },
    ab: { type: 'string', help: 'gate: HOST_A,HOST_B — the same tests on two hosts, side by side; B is compared against A' },
    ...GATE_OPTIONS,
    ...RECORD_OPTIONS,
  },
  async run(values, positionals) {
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
    const soak = soakOf(values);
    if (soak.durationMs !== undefined && (baseline || ab)) throw new ConfigError('--duration is a soak; a gate run (--baseline, --ab) needs all its planned tests');

    const setup = await setUpRun(values, positionals, { ab, ...(soak.repeatEach ? { repeatEach: soak.repeatEach } : {}) });
    const { loaded, suites, filter, settings, output, wants, junit } = setup;
    const gate = gateWithOptions(loaded.config.gate, values);
    const tests = shard ? shardOf(setup.tests, shard, durations) : setup.tests;
    if (shard) process.stdout.write(`shard ${shard.index}/${shard.total}: ${tests.length} of the plan's ${setup.tests.length} tests, ${durations ? `balanced by the durations of ${durations.size} tests in ${values.durations}` : 'each test weighing the same (--durations balances by an earlier run\'s)'}\n`);
    const runOptions = (planned: PlannedTest[], out: string) => setup.runOptions(planned, out, { ...(shard ? { shard } : {}), ...(labels ? { labels } : {}), ...soak.options });
    if (soak.repeatEach) process.stdout.write(`soak: each test again and again for ${formatDuration(soak.durationMs!)} (at most ${soak.repeatEach} times)${soak.options.maxFailures ? `, until ${soak.options.maxFailures} failure(s)` : ''}\n`);

    // Runs that kept vms for inspection are left be: the engineer is poking at them.
    await reapBeforeRun();
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
    let planned = tests;
    for (let iteration = 1; ; iteration++) {
      const run = await executeRun(runOptions(planned, join(output, `iteration-${iteration}`)));
      runs.push(run);
      comparison = ab
        ? compareRuns([sideOf(runs, ab[0])], [sideOf(runs, ab[1])], { gate, aa: Boolean(values.aa) })
        : compareRuns(baseline!, runs, { gate, aa: Boolean(values.aa) });
      const doubtful = inDoubt(comparison);
      if (run.interrupted || doubtful.length === 0 || iteration >= gate.maxIterations) break;
      const again = new Set(doubtful.map((v) => `${v.key.suite}/${v.key.guest}`));
      process.stdout.write(`gate: ${doubtful.length} flagged series in doubt (${doubtful.map((v) => v.id).join('; ')}): iteration ${iteration + 1} of at most ${gate.maxIterations}\n`);
      planned = planTests(loaded.config, suites, { ...filter, suites: [...new Set(doubtful.map((v) => v.key.suite))], firstRepeat: iteration * settings.repeatEach })
        .filter((t) => again.has(`${t.suite.name}/${t.guest}`));
    }
    const all = runs.length === 1 ? runs[0] : mergeRuns(runs.map((r, i) => ({ source: `iteration-${i + 1}`, run: r })));
    return finishGate({
      all, comparison, output, wants, junit, values,
      sides: ab ? { base: ab[0], cand: ab[1] } : { base: 'baseline', cand: 'this run' },
      inputs: { base: ab ? [`${output}/results.json (${ab[0]})`] : baseline!.map((r) => r.runId), cand: [`${output}/results.json${ab ? ` (${ab[1]})` : ''}`] },
      more: '--profile gate runs 20 a side',
    });
  },
};

/** Reaps what dead runs left before a run starts, and says what it found. */
export async function reapBeforeRun(): Promise<void> {
  const dead = await reapDeadRuns({ leaveKept: true });
  for (const r of dead.keptBy) process.stderr.write(`bhyve-smoke: run ${r.runId} keeps ${r.kept!.map((k) => `${k.vm} on ${k.host}`).join(', ')} for inspection; \`npx bhyve-smoke clean --run ${r.runId}\` removes them\n`);
  for (const c of dead.corrupt) process.stderr.write(`bhyve-smoke: ${corruptNote(c)}\n`);
  for (const reaped of dead.reaped) {
    process.stderr.write(`bhyve-smoke: reaped dead run ${reaped.runId}: ${reaped.vms.join(', ') || 'no vms left'}${reaped.leases.length ? `; let go of its leases (${reaped.leases.join(', ')})` : ''}${reaped.errors.length ? `; errors: ${reaped.errors.join('; ')}` : ''}\n`);
    for (const w of reaped.wedged) process.stderr.write(`bhyve-smoke: dead run ${reaped.runId}: ${w}\n`);
  }
}

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

/** Most repeats a soak plans when only --duration bounds it: its clock ends it long before. */
const SOAK_REPEATS = 10_000;

/** --max-failures / -x and --duration: when a soak stops starting tests, and (--duration alone) how often it may repeat each. */
function soakOf(values: Record<string, string | boolean | undefined>): { options: { maxFailures?: number; durationMs?: number }; durationMs?: number; repeatEach?: number } {
  if (values['first-failure'] && values['max-failures'] !== undefined) throw new ConfigError('-x is --max-failures 1: give one of them');
  const maxFailures = values['first-failure'] ? 1 : intOption(values['max-failures'] as string | undefined, '--max-failures', 1);
  const durationMs = values.duration !== undefined ? parseDuration(String(values.duration), '--duration') : undefined;
  return {
    options: { ...(maxFailures !== undefined ? { maxFailures } : {}), ...(durationMs !== undefined ? { durationMs } : {}) },
    durationMs,
    ...(durationMs !== undefined && values['repeat-each'] === undefined ? { repeatEach: SOAK_REPEATS } : {}),
  };
}
