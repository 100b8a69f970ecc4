// bhyve-smoke gate SUITE... --host H --baseline-be A --candidate-be B: the
// lock-change gate on one host. Boot environment A is the baseline build, B
// the candidate; the host boots each in turn (A B B A A B …, --boots a side),
// runs --runs-per-boot tests of the suites in every boot, and the candidate's
// boots are compared with the baseline's, a boot being the unit (its tests'
// mean; gate.bootUnit). The host ends on the boot environment it ran when the
// gate began, after a failure or Ctrl-C too.
import { join } from 'node:path';
import { parseDuration } from '../duration.ts';
import { Aborted, ConfigError, EXIT, messageOf } from '../errors.ts';
import { createHost } from '../host.ts';
import { bootEnvironmentsOf, listBootEnvironments } from '../host-life/boot-environments.ts';
import { mergeRuns } from '../report/merge.ts';
import type { RunResult } from '../report/results.ts';
import { StatusLine } from '../report/status-line.ts';
import { runAcrossBoots, SameBuild } from '../run/boots.ts';
import { planTests } from '../run/plan.ts';
import { executeRun } from '../run/runner.ts';
import { newRunId } from '../run/records.ts';
import { HostLeases, ownerOfThisRun } from '../run/host-leases.ts';
import { seriesReachable } from '../verdict/boots.ts';
import { smallestPValue } from '../verdict/statistics.ts';
import { compareRuns } from '../verdict/compare.ts';
import type { Command } from './command.ts';
import { intOption } from './context.ts';
import { gateWithOptions, GATE_OPTIONS } from './gate-options.ts';
import { finishGate } from './gate-report.ts';
import { labelsOf, RECORD_OPTIONS } from './history.ts';
import { reapBeforeRun } from './run.ts';
import { RUN_OPTIONS, setUpRun } from './run-setup.ts';

/** A boot's report folder in the gate's: boot-01-A, boot-02-B, … */
const bootFolder = (b: { index: number; be: string }) => `boot-${String(b.index + 1).padStart(2, '0')}-${b.be}`;

/** How long a host may take to go down and to come back from a reboot, unless --reboot-timeout says. */
const DEFAULT_REBOOT_TIMEOUT = '20m';
const DOWN_WITHIN_MS = 5 * 60_000;

/**
 * run's options as the gate takes them: --host is one configured host (no pool, no ssh://, so no
 * --known-hosts); the profile's repeatEach gives way to --runs-per-boot; and no --expect-build: every
 * boot expects the build its boot environment booted.
 */
// Nor what chooses hosts or judges a run apart from the verdict: --host-label, --last-failed, --fail-on-skip, --fail-on-flaky-tests.
const {
  'known-hosts': _knownHosts, 'expect-build': _expectBuild, 'host-label': _hostLabel, 'last-failed': _lastFailed,
  'fail-on-skip': _failOnSkip, 'fail-on-flaky-tests': _failOnFlaky, ...RUN_OPTIONS_KEPT
} = RUN_OPTIONS;
const GATE_RUN_OPTIONS = {
  ...RUN_OPTIONS_KEPT,
  host: { type: 'string', help: 'the configured host whose boot environments are compared (one host: not a pool, not ssh://)' },
  profile: { type: 'string', help: 'a profile from the config: its thresholds, stress, timeouts and retries (its repeatEach gives way to --runs-per-boot)' },
  'no-wait': { type: 'boolean', help: 'a host another process holds fails the gate at once, naming the holder, instead of being waited for (the gate holds the whole host for all its boots)' },
} as const;

export const gateCommand: Command = {
  name: 'gate',
  summary: 'the lock-change gate on one host: boot environments A and B in turn, B compared against A',
  usage: 'bhyve-smoke gate SUITE... --host H --baseline-be A --candidate-be B [--boots N] [--runs-per-boot K] [options]',
  options: {
    ...GATE_RUN_OPTIONS,
    'baseline-be': { type: 'string', help: 'the boot environment of the baseline build' },
    'candidate-be': { type: 'string', help: 'the boot environment of the candidate build' },
    boots: { type: 'string', help: 'boots a side, in the order A B B A A B … (default 6: what a permutation over boot means needs for p < 0.01 over up to 9 series)' },
    'runs-per-boot': { type: 'string', help: 'runs of each test (suite and guest) in every boot (default 3)' },
    'reboot-timeout': { type: 'string', help: `how long a host may take to go down and come back at each reboot (default ${DEFAULT_REBOOT_TIMEOUT}; going down, at most 5m)` },
    ...GATE_OPTIONS,
    ...RECORD_OPTIONS,
  },
  async run(values, positionals) {
    const [baselineBe, candidateBe] = [values['baseline-be'], values['candidate-be']].map((v) => (v === undefined ? undefined : String(v)));
    if (!baselineBe || !candidateBe) throw new ConfigError('gate: --baseline-be and --candidate-be name the two boot environments to compare');
    if (values.host === undefined || String(values.host).startsWith('ssh://')) throw new ConfigError('gate: --host names the configured host whose boot environments are compared');
    if (baselineBe === candidateBe && !values.aa) throw new ConfigError(`gate: --baseline-be and --candidate-be are both ${baselineBe}: the same build on both sides is an A/A comparison, not a gate (--aa runs it as one)`);
    const boots = intOption(values.boots as string | undefined, '--boots', 2) ?? 6;
    const perBoot = intOption(values['runs-per-boot'] as string | undefined, '--runs-per-boot', 1) ?? 3;
    const rebootMs = parseDuration(String(values['reboot-timeout'] ?? DEFAULT_REBOOT_TIMEOUT), '--reboot-timeout');

    const setup = await setUpRun(values, positionals, { repeatEach: perBoot });
    const { loaded, suites, filter, output, wants, junit } = setup;
    const hostName = loaded.host!;
    const hostConfig = loaded.config.hosts[hostName];
    if (!hostConfig) throw new ConfigError(`gate: --host ${hostName} is not a configured host (a pool's hosts are gated one at a time)`);
    const gate = gateWithOptions(loaded.config.gate, values);
    // Before anything boots: can these boots reach the significance level at all?
    const holm = gate.familyWise === 'holm';
    const reach = gate.bootUnit === 'boot' ? seriesReachable(boots, gate.significance, holm) : (smallestPValue(boots * perBoot, boots * perBoot) < gate.significance ? Number.POSITIVE_INFINITY : 0);
    // An A/A gate (calibration across reboots) is read for its noise, not its verdict: it may have fewer boots.
    if (reach === 0 && !values.aa) {
      const n = gate.bootUnit === 'boot' ? boots : boots * perBoot;
      throw new ConfigError(gate.bootUnit === 'boot'
        ? `gate: ${boots} boots a side cannot reach p < ${gate.significance}: a permutation over boot means gives 1/C(${2 * n}, ${n}) = ${smallestPValue(n, n).toPrecision(3)} at best (boot more: --boots)`
        : `gate: ${n} tests a side cannot reach p < ${gate.significance}: a permutation over them gives 1/C(${2 * n}, ${n}) = ${smallestPValue(n, n).toPrecision(3)} at best (--boots, --runs-per-boot)`);
    }
    process.stdout.write(`gate: ${candidateBe} against ${baselineBe} on ${hostName}, ${boots} boots a side of ${perBoot} test(s) of ${[...new Set(setup.tests.map((t) => t.suite.name))].join(', ')} each; ` +
      (gate.bootUnit === 'boot' ? `a boot is the unit: p ≥ ${smallestPValue(boots, boots).toPrecision(3)}, enough for ${Number.isFinite(reach) ? `up to ${reach} series` : 'any number of series'} at ${gate.significance}${holm ? ' (Holm)' : ''}\n` : `every test is a sample (gate.bootUnit: test)\n`));

    const host = createHost(hostName, hostConfig);
    const status = new StatusLine();
    const abort = new AbortController();
    // Ctrl-C: no further boot; the boot's run ends itself (the runner hears it too); the host is restored.
    // A second one leaves at once, saying the host may be on another boot environment.
    const onSignal = (signal: NodeJS.Signals) => {
      if (abort.signal.aborted) {
        process.stderr.write(`bhyve-smoke gate: ${signal} again: leaving now; host ${hostName} may not be on the boot environment it ran when the gate began\n`);
        process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
      }
      abort.abort(new Aborted(`interrupted by ${signal}`, signal));
    };
    const sigint = () => onSignal('SIGINT');
    const sigterm = () => onSignal('SIGTERM');
    process.on('SIGINT', sigint);
    process.on('SIGTERM', sigterm);
    try {
      bootEnvironmentsOf(host);
      const bes = (await listBootEnvironments(host)).map((b) => b.name);
      for (const be of [baselineBe, candidateBe]) if (!bes.includes(be)) throw new ConfigError(`gate: host ${hostName} has no boot environment ${be} (it has ${bes.join(', ')})`);
      await reapBeforeRun();
      const started = Date.now();
      // The whole host for the whole gate, through its reboots: stale only once a reboot and its restore could not explain the silence.
      const leaseStaleMs = setup.settings.thresholds.leaseStaleMs;
      const lease = new HostLeases(host, { ...ownerOfThisRun(`gate-${newRunId()}`), stale: Math.ceil((leaseStaleMs + 2 * rebootMs) / 1000) }, leaseStaleMs, (line) => status.line(line));
      const cycle = await runAcrossBoots({
        host, baseline: baselineBe, candidate: candidateBe, boots, status, signal: abort.signal, aa: Boolean(values.aa),
        lease, noWait: Boolean(values['no-wait']),
        bounds: { downWithinMs: Math.min(DOWN_WITHIN_MS, rebootMs), upWithinMs: rebootMs },
        runTests: async (boot) => {
          const tests = planTests(loaded.config, suites, { ...filter, firstRepeat: boot.index * perBoot });
          const run = await executeRun(setup.runOptions(tests, join(output, bootFolder(boot)), { expectBuild: boot.build, labels: { ...labelsOf(values), be: boot.be, side: boot.side }, heldHosts: [hostName] }));
          return { ...run, tests: run.tests.map((t) => ({ ...t, boot: boot.index })) };
        },
      });
      const stopped = cycle.error ?? cycle.restoreError;
      const startedAt = new Date(started).toISOString();
      const all: RunResult = cycle.runs.length === 0
        // Nothing ran (the first boot failed): the reports still say what happened.
        ? { version: 1, runId: newRunId(), config: loaded.source, startedAt, finishedAt: new Date().toISOString(), durationMs: Date.now() - started, hosts: [], tests: [], exitCode: EXIT.infra }
        : cycle.runs.length === 1 ? cycle.runs[0] : mergeRuns(cycle.runs.map((r, i) => ({ source: join(output, bootFolder(cycle.boots[i]), 'results.json'), run: r })));
      all.boots = cycle.boots;
      if (stopped && !(stopped instanceof SameBuild)) {
        all.interrupted ??= `the gate stopped after ${cycle.boots.length} boot(s) of ${2 * boots}: ${messageOf(stopped).split('\n')[0]}`;
        all.exitCode = EXIT.infra;
      }
      const inBoots = (side: string) => new Set(cycle.boots.filter((b) => b.side === side).map((b) => b.index));
      const sideRun = (side: string): RunResult => ({ ...all, tests: all.tests.filter((t) => t.boot !== undefined && inBoots(side).has(t.boot)) });
      const code = finishGate({
        all, comparison: compareRuns([sideRun('baseline')], [sideRun('candidate')], { gate, aa: Boolean(values.aa) }), output, wants, junit, values,
        sides: { base: baselineBe, cand: candidateBe },
        inputs: { base: [`${output}/results.json (${baselineBe})`], cand: [`${output}/results.json (${candidateBe})`] },
        more: 'boot more: --boots',
        ...(stopped instanceof SameBuild ? { refusal: stopped.message } : {}),
      });
      if (stopped && !(stopped instanceof SameBuild)) {
        process.stderr.write(`bhyve-smoke gate: error: ${messageOf(stopped)}\n`);
        if (!abort.signal.aborted) return EXIT.infra;
      }
      if (abort.signal.aborted) return 128 + (abort.signal.reason?.signal === 'SIGTERM' ? 15 : 2);
      return code;
    } finally {
      process.off('SIGINT', sigint);
      process.off('SIGTERM', sigterm);
      await host.close().catch(() => {});
    }
  },
};
