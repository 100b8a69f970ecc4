// Runs a plan: schedules tests on their hosts by capacity (p-limit), runs each
// with its deadline, collects evidence before teardown, tears every vm down,
// and writes the reports — also when the run is interrupted.
import pLimit from 'p-limit';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.ts';
import { Aborted, CheckFailure, ConfigError, HangDetected, HostDied, InfraError, messageOf } from '../errors.ts';
import { formatDuration, parseDuration } from '../duration.ts';
import { BrowserSession } from '../evidence/browser.ts';
import { Screen } from '../evidence/screen.ts';
import { accessFor } from '../guest/adapters.ts';
import { createHost, type Host } from '../host.ts';
import { writeJunit, type JunitOptions } from '../report/junit.ts';
import { writeReportHtml } from '../report/html/page.ts';
import { multiplex, type Reporter } from '../report/reporter.ts';
import { exitCodeOf, writeResults, type FailOn, type HostDeathRecord, type RunResult, type TestResult, type TestStatus } from '../report/results.ts';
import type { ResolvedThresholds } from '../suite.ts';
import { Timeline } from '../timeline.ts';
import { shQuote } from '../transport/quote.ts';
import { Checks } from '../verdict/checks.ts';
import { Metrics } from '../verdict/metrics.ts';
import { triage } from '../verdict/triage.ts';
import { Vm } from '../vm.ts';
import { WrlockHammer } from '../disturbance/wrlock-hammer.ts';
import { HeartbeatWatch } from '../watch/heartbeat.ts';
import { LivenessWatch } from '../watch/liveness.ts';
import { VcpuProgressWatch } from '../watch/vcpu-progress.ts';
import { lacking, type HostCapabilities } from '../platform/capabilities.ts';
import { Watchdog } from '../watch/watchdog.ts';
import { tryBootId } from '../host-life/boot-id.ts';
import { buildId } from '../host-life/build.ts';
import { resolveFramebuffer, resolvePassword } from './credentials.ts';
import { checkHostForRun, type HostHealth } from './health.ts';
import { HostSlots } from './host-slots.ts';
import { HostLeases, ownerOfThisRun } from './host-leases.ts';
import { HostBusy, placeTest } from './placement.ts';
import { collectEvidence } from '../evidence/host-evidence.ts';
import type { HostVitals } from '../host-life/vitals.ts';
import { deathRecord, hostDeathDuring, judgeHostSurvived, raceHostDeath, watchHosts } from './host-death.ts';
import type { PlannedTest } from './plan.ts';
import { folderAt, newRunId, removeRecord, vmNamePrefix, wedgedNote, writeRecord, type KeptVm, type RunRecord, type WedgedVm } from './records.ts';

export interface RunOptions {
  config: Config;
  configSource: string;
  profile?: string;
  tests: PlannedTest[];
  output: string;
  reporters: { line?: Reporter; junit: JunitOptions | false; json: boolean; html: boolean };
  retries: number;
  testTimeoutMs: number;
  globalTimeoutMs: number;
  thresholds: ResolvedThresholds;
  keepOnFailure: boolean;
  /** Builds the command that reruns one test on the host it ran on. */
  reproduce: (test: PlannedTest, host: string) => string;
  runId?: string;
  /** This run is one shard of the plan (recorded in results). */
  shard?: { index: number; total: number };
  labels?: Record<string, string>;
  /** Every host must run this build (--expect-build); else its own expectBuild, if any. */
  expectBuild?: string;
  /** Start no further test once this many have failed or errored (--max-failures, -x). */
  maxFailures?: number;
  /** Start no further test after this long (--duration): a soak. */
  durationMs?: number;
  /** A host another process holds fails the run at once instead of being waited for (--no-wait). */
  noWait?: boolean;
  /** Hosts the caller holds whole across this run and others (a gate across boots leases its host for all of them). */
  heldHosts?: string[];
  /** What fails the run besides failures: a skipped test (--fail-on-skip), a flaky one (--fail-on-flaky-tests). */
  failOn?: FailOn;
}

/** Everything the run has started, for teardown on abort. */
interface Live {
  vms: Set<Vm>;
  abort: AbortController;
  /** The run's headless Chromium for screenshots, started on the first one. */
  browser: BrowserSession;
}

export async function executeRun(o: RunOptions): Promise<RunResult> {
  const runId = o.runId ?? newRunId();
  const startedAt = new Date();
  const report = multiplex(o.reporters.line ? [o.reporters.line] : []);
  const live: Live = { vms: new Set(), abort: new AbortController(), browser: new BrowserSession() };

  // 1. Hosts and the run record, before any vm exists.
  const hostNames = [...new Set(o.tests.flatMap((t) => t.hosts))];
  const hosts = new Map<string, Host>(hostNames.map((n) => [n, createHost(n, o.config.hosts[n])]));
  const runDirs = new Map(hostNames.map((n) => [n, `${hosts.get(n)!.platform.workRoot}/${runId}`]));
  const record: RunRecord = {
    runId, pid: process.pid, startedAt: startedAt.toISOString(), prefix: o.config.prefix,
    hosts: Object.fromEntries(hostNames.map((n) => [n, { config: o.config.hosts[n], runDir: runDirs.get(n)! }])),
  };
  writeRecord(record);
  // Each host's slots are leased on the host itself while a test uses them: other processes see them (run/host-leases.ts).
  const owner = ownerOfThisRun(runId);
  const leases = new Map(hostNames.filter((n) => !o.heldHosts?.includes(n)).map((n) => [n, new HostLeases(hosts.get(n)!, owner, o.thresholds.leaseStaleMs, (line) => report.onNote(line))]));
  const health = new Map<string, HostHealth>();
  /** Hosts a test left wedged: out of the run, their wedged vm left as it is, the record kept for clean. */
  const wedged = new Map<string, WedgedVm>();

  // 2. Interrupts and the global deadline abort the run; the reports are still written.
  const onSignal = (signal: NodeJS.Signals) => {
    if (live.abort.signal.aborted) process.exit(128 + (signal === 'SIGINT' ? 2 : 15)); // a second one: leave now
    live.abort.abort(new Aborted(`interrupted by ${signal}`, signal));
    for (const vm of live.vms) vm.console.close();
  };
  const sigint = () => onSignal('SIGINT');
  const sigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', sigint);
  process.on('SIGTERM', sigterm);
  const globalTimer = setTimeout(() => {
    live.abort.abort(new Aborted(`global timeout of ${o.globalTimeoutMs} ms reached`));
    for (const vm of live.vms) vm.console.close();
  }, o.globalTimeoutMs);

  report.onBegin(runId, o.tests);
  const results: TestResult[] = [];
  const kept: string[] = [];
  let vitals = new Map<string, HostVitals>();
  // A soak ends at its first failures or when its time is spent: no further test starts, the running ones finish.
  let failures = 0;
  let stopped: RunResult['stopped'];
  /** Why the run starts nothing more, whatever its soak says (--no-wait met a held host). */
  let halted: string | undefined;
  const mayStart = () => {
    const why = halted ?? (o.maxFailures !== undefined && failures >= o.maxFailures ? `--max-failures ${o.maxFailures} reached`
      : o.durationMs !== undefined && Date.now() - startedAt.getTime() >= o.durationMs ? `--duration ${formatDuration(o.durationMs)} spent` : undefined);
    if (why) stopped = { reason: stopped?.reason ?? why, notStarted: (stopped?.notStarted ?? 0) + 1 };
    return !why;
  };
  try {
    // 3. Each host's health, fingerprint and run folder; a host that fails is
    //    quarantined for the run and the other hosts of its pool take its tests.
    const needed = new Set(o.tests.filter((t) => !t.skip).flatMap((t) => t.hosts));
    const guestsOn = (name: string) => [...new Set(o.tests.filter((t) => !t.skip && t.hosts.includes(name)).map((t) => t.guest))];
    await Promise.all([...needed].map(async (name) => {
      const h = await checkHostForRun(hosts.get(name)!, o.config, runDirs.get(name)!, guestsOn(name), o.expectBuild);
      health.set(name, h);
      if (h.quarantined) report.onNote(`host ${name} ${h.wrongBuild ? '' : 'quarantined for this run: '}${h.quarantined}`);
    }));
    const finish = (result: TestResult) => {
      if (result.status === 'failed' || result.status === 'error') failures++;
      if (result.kept) kept.push(result.kept);
      if (result.leftBehind) kept.push(result.leftBehind);
      results.push(result);
      report.onTestEnd(result);
    };
    // A host on another build than expected ends the run before any test: what would run is not what was asked for.
    const wrong = [...needed].filter((n) => health.get(n)?.wrongBuild);
    if (wrong.length) {
      const why = new InfraError(wrong.map((n) => `host ${n} ${health.get(n)!.quarantined}`).join('; '));
      for (const test of o.tests) finish(test.skip ? { ...baseResult(test, test.host, o), status: 'skipped', skipReason: test.skip } : errorResult(test, test.host, why, o));
    } else {
      // Each healthy host's life is watched while its tests run: a reboot or a host that stops answering is a finding.
      const watched = await watchHosts([...needed].filter((n) => !health.get(n)?.quarantined).map((n) => hosts.get(n)!), o.thresholds, (line) => report.onNote(line));
      vitals = watched.vitals;
      for (const [name, e] of watched.failed) {
        health.set(name, { ...health.get(name), quarantined: `its boot id cannot be read to watch it through the run: ${messageOf(e).split('\n')[0]}` });
        report.onNote(`host ${name} quarantined for this run: ${health.get(name)!.quarantined}`);
      }
      // 4. Schedule: p-limit bounds each pool to its healthy hosts' capacity;
      //    the slots place each test on a free host able to run it.
      const healthy = (t: PlannedTest) => t.hosts.filter((h) => health.get(h) && !health.get(h)!.quarantined);
      const slots = new HostSlots(new Map(hostNames.map((n) => [n, o.config.hosts[n].capacity])));
      const placement = { slots, leases, capacityOf: (h: string) => o.config.hosts[h].capacity, noWait: Boolean(o.noWait), note: (line: string) => report.onNote(line), signal: live.abort.signal, told: new Map<string, string>() };
      const pools = new Map<string, ReturnType<typeof pLimit>>();
      const poolLimit = (t: PlannedTest) => {
        if (!pools.has(t.host)) {
          const members = [...new Set(o.tests.filter((x) => x.host === t.host).flatMap(healthy))];
          pools.set(t.host, pLimit(Math.max(1, members.reduce((n, h) => n + o.config.hosts[h].capacity, 0))));
        }
        return pools.get(t.host)!;
      };
      let vmCounter = 0;
      // A host whose vm wedged takes no more tests; the record says so before anything else can go wrong.
      const hostWedged = (hostName: string, w: WedgedVm) => {
        wedged.set(hostName, w);
        health.set(hostName, { ...health.get(hostName), quarantined: wedgedNote(w) });
        record.wedged = Object.fromEntries(wedged);
        writeRecord(record);
        slots.retire(hostName);
        report.onNote(`host ${hostName} ${wedgedNote(w)}`);
      };
      // A host that died under a test (one death, however many tests saw it) stays in the run only if it came back healthy.
      const deathsHandled = new Set<string>();
      const hostDied = async (hostName: string, d: HostDeathRecord) => {
        if (deathsHandled.has(`${hostName} ${d.noticedAt}`)) return;
        deathsHandled.add(`${hostName} ${d.noticedAt}`);
        const back = d.bootIdAfter || d.answeredAgainAt
          ? await checkHostForRun(hosts.get(hostName)!, o.config, runDirs.get(hostName)!, guestsOn(hostName), o.expectBuild).catch((e): HostHealth => ({ quarantined: messageOf(e) }))
          : { quarantined: 'it did not come back' } as HostHealth;
        if (back.quarantined) {
          health.set(hostName, { ...health.get(hostName), quarantined: `${d.summary}; out of the run: ${back.quarantined}` });
          slots.retire(hostName);
          report.onNote(`host ${hostName} quarantined for the rest of the run: ${health.get(hostName)!.quarantined}`);
        } else {
          report.onNote(`host ${hostName} came back${d.bootIdAfter ? ` on boot ${d.bootIdAfter}` : ''} and passed its health check: it takes the run's remaining tests`);
        }
      };
      // A vm kept for inspection goes into the record at once: console, evidence and clean --run find it there.
      const keepVm = (k: KeptVm) => {
        record.kept = [...(record.kept ?? []), k];
        writeRecord(record);
      };
      await Promise.all(
        o.tests.map(async (test) => {
          if (test.skip) return finish({ ...baseResult(test, test.host, o), status: 'skipped', skipReason: test.skip });
          const candidates = healthy(test);
          if (candidates.length === 0) {
            const why = test.hosts.map((h) => `${h}: ${health.get(h)?.quarantined}`).join('; ');
            // A config asking what the hosts cannot do is the config's mistake (exit 2), not the hosts'.
            const configOnly = test.hosts.every((h) => health.get(h)?.configError);
            return finish(errorResult(test, test.host, new (configOnly ? ConfigError : InfraError)(`no healthy host can run this test (${why})`), o));
          }
          // A host that lacks what the suite needs (its probe said so) skips the test with the reason.
          const lacks = (h: string) => test.suite.needs.filter((c) => !health.get(h)?.capabilities?.[c].present);
          const capable = candidates.filter((h) => lacks(h).length === 0);
          if (capable.length === 0) {
            const why = candidates.flatMap((h) => lacks(h).map((c) => lacking(h, c, health.get(h)?.capabilities?.[c])));
            return finish({ ...baseResult(test, test.host, o), status: 'skipped', skipReason: why.join('; ') });
          }
          await poolLimit(test)(async () => {
            if (!mayStart()) return;
            let placed;
            try {
              placed = await placeTest(placement, capable, Boolean(test.suite.exclusive));
            } catch (e) {
              // --no-wait met a host another process holds: this test is the error that says whose, and nothing more starts.
              if (e instanceof HostBusy) halted = e.message;
              return finish(errorResult(test, test.host, e, o));
            }
            if (!placed) {
              if (live.abort.signal.aborted) return finish(errorResult(test, test.host, live.abort.signal.reason, o));
              const why = candidates.map((h) => `host ${h} ${health.get(h)?.quarantined}`).join('; ');
              return finish({ ...baseResult(test, test.host, o), status: 'skipped', skipReason: `no host left to run it: ${why}` });
            }
            const hostName = placed.host;
            try {
              finish(await runWithRetries(test, async (attempt) => {
                if (live.abort.signal.aborted) return errorResult(test, hostName, live.abort.signal.reason, o);
                const result = await runOnce({ o, test, attempt, runId, host: hosts.get(hostName)!, capabilities: health.get(hostName)!.capabilities!, runDir: runDirs.get(hostName)!, vmName: `${vmNamePrefix(o.config.prefix, runId)}${++vmCounter}`, live, report, keepVm, vitals: vitals.get(hostName) });
                if (result.wedged) hostWedged(hostName, result.wedged);
                if (result.hostDeath) await hostDied(hostName, result.hostDeath);
                const { images, build } = health.get(hostName) ?? {};
                const image = images?.[test.guest];
                return { ...result, ...(image ? { image } : {}), ...(build ? { build: buildId(build) } : {}) };
              }, o.retries).catch((e) => errorResult(test, hostName, e, o)));
            } finally {
              await leases.get(hostName)?.release(placed.lease).catch((e) => report.onNote(`the lease on ${hostName} could not be released (it goes stale): ${messageOf(e).split('\n')[0]}`));
              slots.release(hostName, test.suite.exclusive);
            }
          });
        }),
      );
    }
  } finally {
    for (const v of vitals.values()) v.stop();
    await Promise.all([...leases.values()].map((l) => l.releaseAll()));
    clearTimeout(globalTimer);
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
    await live.browser.close();
    // 5. Nothing of the run stays on a host, unless kept for inspection or
    //    wedged (its vm's folder holds its bhyve's supervisor and logs; two
    //    host names at one address share the folder).
    const wedgedFolders = new Set([...wedged.keys()].map((n) => folderAt(o.config.hosts[n], runDirs.get(n)!)));
    for (const [name, host] of hosts) {
      const folder = runDirs.get(name)!;
      if (kept.length === 0 && !wedgedFolders.has(folderAt(o.config.hosts[name], folder))) await host.exec(`rm -rf ${shQuote(folder)}`, { doing: `removing the run folder on ${name}`, check: false }).catch(() => {});
      await host.close().catch(() => {});
    }
    if (kept.length === 0 && wedged.size === 0) removeRecord(runId);
  }

  // 6. The reports.
  const order = new Map(o.tests.map((t, i) => [t.id, i]));
  results.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
  const finishedAt = new Date();
  const abortedBy: Aborted | undefined = live.abort.signal.aborted ? live.abort.signal.reason : undefined;
  const interrupted = abortedBy?.message;
  const run: RunResult = {
    version: 1, runId, config: o.configSource, ...(o.profile ? { profile: o.profile } : {}),
    startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString(), durationMs: finishedAt.getTime() - startedAt.getTime(),
    ...(interrupted ? { interrupted } : {}),
    ...(stopped ? { stopped } : {}),
    hosts: hostNames.map((n) => ({
      name: n, platform: o.config.hosts[n].platform, transport: hosts.get(n)!.transport.name,
      ...(health.get(n)?.fingerprint ? { fingerprint: health.get(n)!.fingerprint } : {}),
      ...(health.get(n)?.build ? { build: health.get(n)!.build } : {}),
      ...(health.get(n)?.capabilities ? { capabilities: health.get(n)!.capabilities } : {}),
      ...(health.get(n)?.quarantined ? { quarantined: health.get(n)!.quarantined } : {}),
      ...(wedged.get(n) ? { wedged: wedged.get(n) } : {}),
    })),
    ...(o.shard ? { shard: o.shard } : {}),
    ...(o.labels && Object.keys(o.labels).length ? { labels: o.labels } : {}),
    ...(o.failOn && (o.failOn.skip || o.failOn.flaky) ? { failOn: o.failOn } : {}),
    tests: results,
    exitCode: exitCodeOf(results, abortedBy?.signal, o.failOn),
  };
  if (o.reporters.json) writeResults(join(o.output, 'results.json'), run);
  if (o.reporters.junit) writeJunit(join(o.output, 'junit.xml'), run, o.reporters.junit);
  if (o.reporters.html) writeReportHtml(join(o.output, 'report.html'), { run, dir: o.output });
  report.onEnd(run);
  return run;
}

/**
 * Retries only infrastructure errors; a hang, a failed check or a timeout is a
 * finding and is never retried away. A pass after a retry is reported as flaky.
 */
async function runWithRetries(test: PlannedTest, once: (attempt: number) => Promise<TestResult>, retries: number): Promise<TestResult> {
  const attempts: TestResult['attempts'] = [];
  for (let attempt = 0; ; attempt++) {
    const r = await once(attempt);
    attempts.push({ status: r.status, ...(r.error ? { error: r.error.message } : {}) });
    const retryable = r.status === 'error' && r.error?.type === 'InfraError';
    if (!retryable || attempt >= retries) {
      const status: TestStatus = r.status === 'passed' && attempt > 0 ? 'flaky' : r.status;
      return { ...r, status, attempt, attempts };
    }
  }
}

interface OnceArgs {
  o: RunOptions;
  test: PlannedTest;
  attempt: number;
  runId: string;
  host: Host;
  runDir: string;
  vmName: string;
  live: Live;
  report: Required<Reporter>;
  keepVm: (k: KeptVm) => void;
  /** What the host offers (its probe at the start of the run): without a framebuffer or vCPU counters the test runs without them, saying so. */
  capabilities: HostCapabilities;
  /** The host's life, watched through the run: its death under the test is the test's finding. */
  vitals?: HostVitals;
}

async function runOnce({ o, test, attempt, runId, host, capabilities, runDir, vmName, live, report, keepVm, vitals }: OnceArgs): Promise<TestResult> {
  const base = baseResult(test, host.name, o);
  report.onTestBegin(test);
  const guest = o.config.guests[test.guest];
  const timeline = new Timeline();
  const framebuffer = capabilities.framebuffer.present ? resolveFramebuffer(test.guest, guest) : undefined;
  const testDir = join(o.output, 'tests', `${test.id.replace(/[^A-Za-z0-9_.#-]+/g, '_')}${attempt ? `.retry${attempt}` : ''}`);
  const vm = new Vm({
    host, name: vmName, guestName: test.guest, guest,
    access: accessFor(guest), password: resolvePassword(test.guest, guest),
    runDir, timeline, commandTimeoutMs: o.thresholds.commandMs,
    framebuffer,
  });
  const log = (line: string) => report.onProgress(test, vm.secrets.mask(line));
  const check = new Checks(live.abort.signal, log);
  const metrics = new Metrics(test.suite.metrics, test.suite.name);
  const watchdog = new Watchdog(timeline);
  const hammer = new WrlockHammer(host, vm, watchdog, timeline, o.thresholds.wrlockCycleMs,
    capabilities['wrlock-trace'].present && host.platform.wrlockTrace ? host.platform.wrlockTrace : { off: lacking(host.name, 'wrlock-trace', capabilities['wrlock-trace']) });
  const heldByUs = (from: number, to: number) => hammer.heldMs(from, to);
  const liveness = new LivenessWatch(
    new HeartbeatWatch(vm, watchdog, timeline, { intervalMs: o.thresholds.heartbeatIntervalMs, maxGapMs: o.thresholds.heartbeatGapMs, heldByUs }),
    capabilities['vcpu-stats'].present ? new VcpuProgressWatch(host, vm, guest.vcpus, watchdog, timeline, { intervalMs: o.thresholds.heartbeatIntervalMs, maxStallMs: o.thresholds.heartbeatGapMs }) : undefined,
    capabilities['vcpu-stats'].present ? undefined : lacking(host.name, 'vcpu-stats', capabilities['vcpu-stats']),
  );
  if (liveness.vcpusOff) timeline.event('vcpu-watch-off', liveness.vcpusOff);
  live.vms.add(vm);
  mkdirSync(testDir, { recursive: true });
  const attachments: TestResult['attachments'] = [];
  const missingEvidence: NonNullable<TestResult['missingEvidence']> = [];
  const attach = (name: string, content: string) => {
    const path = join(testDir, name.replace(/[^A-Za-z0-9_.-]+/g, '_'));
    writeFileSync(path, vm.secrets.mask(content));
    attachments.push({ name, path });
  };
  if (guest.framebuffer && !capabilities.framebuffer.present) missingEvidence.push({ name: 'screenshots', reason: lacking(host.name, 'framebuffer', capabilities.framebuffer) });
  if (vm.framebuffer) {
    vm.screen = new Screen({
      connect: () => vm.connectFramebuffer(), browser: live.browser, password: framebuffer?.password,
      dir: testDir, timeline, everyMs: parseDuration(guest.framebuffer!.every, `guests.${test.guest}.framebuffer.every`),
      sink: { attach: (name, path) => attachments.push({ name, path }), missing: (name, reason) => missingEvidence.push({ name, reason }) },
    });
  }
  const started = Date.now();
  let error: unknown;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const hostRace = raceHostDeath(vitals);
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new TestTimeout(`test did not finish within ${o.testTimeoutMs} ms`));
        vm.console.close();
      }, o.testTimeoutMs);
    });
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(live.abort.signal.reason);
      live.abort.signal.addEventListener('abort', onAbort, { once: true });
      if (live.abort.signal.aborted) onAbort();
    });
    const body = test.suite.run({ vm, host, check, metrics, timeline, thresholds: o.thresholds, log, attach, hammer, liveness });
    body.catch(() => {}); // a hang or timeout leaves the body to fail on its own once the vm is gone
    await Promise.race([body, deadline, aborted, watchdog.tripped, ...hostRace.died]);
  } catch (e) {
    error = live.abort.signal.aborted ? live.abort.signal.reason : e;
  } finally {
    clearTimeout(timer);
    // One listener per test on the run's signal: a long run would pile them up.
    if (onAbort) live.abort.signal.removeEventListener('abort', onAbort);
    hostRace.cancel();
    liveness.pause(); // the watches stop after the evidence: the vCPU sampler's last counters are part of it
  }
  // The host's death outweighs what it took with it (a hang, a failed command): the finding is the host's,
  // with its crash record once it is back (run/host-death.ts).
  const death = live.abort.signal.aborted ? undefined : await hostDeathDuring(vitals, started, hostRace.death(), !error && !check.failed);
  if (death) {
    error = new HostDied(death.summary);
    judgeHostSurvived(check, death, o.thresholds);
  }
  // A hang is a failed check of its own, whatever step was running; so is a test that overran its
  // deadline (a finding: a command past its own deadline is an InfraError before that).
  if (!death && error instanceof HangDetected) check.that('no hang', false, { type: 'HangDetected', kind: 'liveness', message: error.message, threshold: 'heartbeat, vCPU progress and every write-lock cycle within their thresholds' });
  if (error instanceof TestTimeout) check.that('finishes within the test timeout', false, { type: 'Timeout', message: error.message, measured: `still running after ${o.testTimeoutMs} ms`, threshold: `${o.testTimeoutMs} ms (--timeout, testTimeout)` });

  const status: TestStatus = error instanceof CheckFailure || error instanceof HangDetected || error instanceof HostDied || error instanceof TestTimeout || (!error && check.failed)
    ? 'failed'
    : error ? 'error' : check.failed ? 'failed' : 'passed';
  const result: TestResult = {
    ...base,
    status,
    vm: vmName,
    startedAt: new Date(started).toISOString(),
    checks: check.results,
    metrics: metrics.values,
    ...(error ? { error: { type: (error as Error).name ?? 'Error', message: messageOf(error) } } : {}),
    consoleTail: vm.console.tail(),
    timeline: timeline.toJSON(),
    attachments,
  };

  // Evidence before teardown, then teardown (or keep the vm for inspection).
  writeFileSync(join(testDir, 'console.log'), vm.console.tail(4 * 1024 * 1024));
  result.attachments.push({ name: 'console', path: join(testDir, 'console.log') });
  if (death) {
    // The vm's process went with its host: the host's crash record is the evidence.
    for (const f of death.crash?.files ?? []) attach(`crash-${f.name}`, f.content);
    result.hostDeath = deathRecord(death);
  } else if ((status === 'failed' || status === 'error') && !live.abort.signal.aborted) {
    // Not on an interrupt: the user asked to stop, and stopping must take seconds.
    await vm.screen.capture(error instanceof HangDetected ? 'hang' : 'failure');
    const evidence = await collectEvidence({ host, name: vm.name, vmm: vm.vmm, id: vm.id, dir: vm.dir, mask: (t) => vm.secrets.mask(t) }, testDir, error instanceof HangDetected);
    result.attachments.push(...evidence.attachments);
    if (evidence.stuckFrames) result.stuckFrames = evidence.stuckFrames;
    if (evidence.stacksUnread) missingEvidence.push({ name: 'stuck frames', reason: evidence.stacksUnread });
  }
  // Screenshots still being taken need the vm; what they record lands in the result.
  await vm.screen.settle();
  if (missingEvidence.length) result.missingEvidence = missingEvidence;
  // The hammer stops after the evidence: a blocked bhyvectl is part of it. A
  // cycle that still has not returned after a grace has wedged the host.
  const blocked = death ? undefined : await hammer.stillBlocked(o.thresholds.wedgeGraceMs);
  await hammer.stop().catch(() => {});
  await liveness.stop().catch(() => {});
  if (hammer.transcript) {
    writeFileSync(join(testDir, 'wrlock-hammer.log'), vm.secrets.mask(hammer.transcript));
    result.attachments.push({ name: 'wrlock-hammer', path: join(testDir, 'wrlock-hammer.log') });
  }
  if (blocked) {
    // Never destroyed: freezing its vCPUs would block, holding the host's vmm_mtx (see WrlockHammer.stillBlocked).
    vm.console.close();
    const boot = await tryBootId(host);
    result.wedged = {
      vm: vmName, vmm: vm.vmm, since: new Date().toISOString(), bootId: 'id' in boot ? boot.id : '',
      reason: `write-lock cycle ${blocked.cycle} blocked for ${blocked.forMs} ms, ${o.thresholds.wedgeGraceMs} ms of them after the evidence`,
    };
    timeline.event('host-wedged', wedgedNote(result.wedged));
  } else if (o.keepOnFailure && (status === 'failed' || status === 'error') && !live.abort.signal.aborted) {
    vm.console.close();
    keepVm({ vm: vmName, host: host.name, test: test.id, vmm: vm.vmm, id: vm.id, dir: vm.dir, console: vm.consoleSpec.attach });
    result.kept = keptLine(vmName, host, vm.consoleSpec.describe, runId);
  } else {
    await vm.destroy().catch((e) => {
      // Not a pass: the vm (or what it had) may still be on the host; the run record keeps it for clean.
      if (!death) result.status = 'error';
      result.leftBehind = messageOf(e);
      result.error ??= { type: 'InfraError', message: `teardown failed: ${messageOf(e)}` };
    });
  }
  live.vms.delete(vm);
  result.exposure = { wrlockCycles: hammer.cyclesTaken, ...vm.exposure };
  if (vm.pinned) result.vcpusPinned = vm.pinned;
  result.durationMs = Date.now() - started;
  const known = triage(result, o.config.knownIssues);
  if (known.length) result.known = known;
  // Whatever a check measured or an error quoted from the guest, no password reaches a report.
  return vm.secrets.maskDeep(result);
}

class TestTimeout extends Error {
  override name = 'Timeout';
}

/** How to reach a kept vm, ready to paste: its console, its evidence taken again, its removal. */
const keptLine = (vm: string, host: Host, console: string, runId: string) =>
  `${vm} on ${host.name} (${host.transport.name}; its console is the ${console}). Attach: npx bhyve-smoke console ${vm} · evidence now: npx bhyve-smoke evidence ${vm} · remove: npx bhyve-smoke clean --run ${runId}`;

/** A test's result before it ran, on the host it went to (or its pool, when it went nowhere). */
function baseResult(test: PlannedTest, host: string, o: RunOptions): TestResult {
  return {
    id: test.id, suite: test.suite.name, pool: test.host, host, guest: test.guest, repeat: test.repeat,
    status: 'passed', attempt: 0, attempts: [], startedAt: new Date().toISOString(), durationMs: 0,
    checks: [], attachments: [], timeline: { samples: [], events: [] }, reproduce: o.reproduce(test, host),
  };
}

function errorResult(test: PlannedTest, host: string, e: unknown, o: RunOptions): TestResult {
  return { ...baseResult(test, host, o), status: 'error', error: { type: (e as Error)?.name ?? 'Error', message: messageOf(e) } };
}
