// The gate and scale commands as a user runs them: bad inputs are usage errors
// that name the problem; two shards plus merge hold the same checks as one
// run; on the lab, a gate run of a clean build against a clean baseline
// passes, and one with the lab's slow-wrlock fault (a stand-in for a bad lock
// change) fails with the hard dose's throughput flagged.
//
// The lab gate here uses 5 tests a side of the 10-second hard-dose suite
// (test/suites/hard-dose.mts), a 25% noise threshold and per-series
// significance (5 against 5 cannot reach 0.01 with Holm): enough to test the mechanism in CI without crying wolf at n = 5.
// The gate's power and false alarms at its defaults (20 a side, 5%, Holm) are
// measured by `npm run bench -- gate`, not here.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { BUILTIN_CONFIG } from '../../../harness/config/defaults.ts';
import type { RunResult } from '../../../harness/report/results.ts';
import { inSandbox } from '../../helpers/cli.ts';

const json = <T = RunResult>(path: string): T => JSON.parse(readFileSync(path, 'utf8'));
const checksOf = (run: RunResult) => run.tests.flatMap((t) => t.checks.map((c) => `${t.id}: ${c.name}: ${c.status}`)).sort();

/**
 * The series a slow write lock must be caught in: the hard dose's throughput. Flat out, every cycle of
 * slow-wrlock=50 holds the vCPUs 50 ms against a clean cycle's few: throughput under it falls by 60-95%.
 */
const HARD = 'throughput · hard · host-to-guest';
/** The gate's smallest suite: iperf3 2 s under the hammer flat out (a tenth of wrlock-iperf's time). */
const HARD_DOSE = resolve(import.meta.dirname, '../../suites/hard-dose.mts');

describe('gate and scale commands', { timeout: 1_200_000 }, () => {
  it('refuse bad input with exit 2 and say what is wrong', async () => {
    await inSandbox(async (box) => {
      writeFileSync(join(box.dir, 'corrupt.json'), '{"version": 1, "tests": [');
      writeFileSync(join(box.dir, 'other.json'), JSON.stringify({ version: 1, runId: 'x', startedAt: 'a', finishedAt: 'b', hosts: [], tests: [], exitCode: 0 }));
      const cases: Array<[string[], RegExp]> = [
        [['compare', 'corrupt.json', 'other.json'], /corrupt\.json: not a readable results\.json/],
        [['compare', 'other.json'], /compare takes two paths, BASE and CAND, got 1/],
        [['compare', 'other.json', 'other.json', '--significance', '2'], /--significance: expected a fraction between 0 and 1, got "2"/],
        [['run', 'smoke', '--shard', '3/2'], /--shard 3\/2: the index must be between 1 and 2/],
        [['run', 'smoke', '--baseline', 'corrupt.json'], /corrupt\.json: not a readable results\.json/],
        [['run', 'smoke', '--durations', 'other.json'], /--durations balances --shard: give --shard too/],
        [['run', 'smoke', '--ab', 'lab'], /--ab: expected HOST_A,HOST_B, got "lab"/],
        [['merge', 'other.json'], /merge: --output DIR is required/],
        [['merge', 'other.json', '--output', 'm', '--junit-form', 'loose'], /--junit-form: expected default or strict, got "loose"/],
        [['run', 'smoke', '--attachments-base', 'nowhere'], /--attachments-base: \/.*\/nowhere is not a folder/],
      ];
      for (const [args, message] of cases) {
        const r = await box.run(args);
        assert.equal(r.exitCode, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        assert.match(String(r.stderr), message, args.join(' '));
      }
      // Data that cannot decide is no usage error: compare says why, writes its reports and exits 4, as the gate does.
      const undecided = await box.run(['compare', 'other.json', 'other.json']);
      assert.equal(undecided.exitCode, 4, `${undecided.stdout}${undecided.stderr}`);
      assert.match(String(undecided.stderr), /bhyve-smoke compare: no verdict: other\.json against other\.json: the two sides have no series in common \(baseline: no metrics at all; candidate: no metrics at all\)/);
      assert.ok(existsSync(join(box.dir, 'reports/compare/compare.json')));
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), stringify({ ...BUILTIN_CONFIG, gate: { overrides: { thruput: { noiseThreshold: 0.1 } } } }));
      const r = await box.run(['compare', 'other.json', 'other.json']);
      assert.equal(r.exitCode, 2);
      assert.match(String(r.stderr), /gate\.overrides\.thruput: unknown metric "thruput" \(known: throughput, throughput-ratio, /);
    });
  });

  it('a gate run whose data cannot decide (no series in common) exits 4, after the run and its reports, not 2', async () => {
    await inSandbox(async (box) => {
      const recorded = new URL('../../../fixtures/recorded/lab-wrlock-iperf.results.json', import.meta.url).pathname;
      const r = await box.run(['run', 'smoke', '--baseline', recorded, '--output', 'out']);
      assert.equal(r.exitCode, 4, `${r.stdout}${r.stderr}`);
      assert.match(String(r.stderr), /the gate has no verdict: the two sides have no series in common/);
      assert.equal(json(join(box.dir, 'out/results.json')).tests[0].status, 'passed', 'the run ran, and its reports are written');
      assert.ok(existsSync(join(box.dir, 'out/compare.json')));
    });
  });

  it('calibrate reports noise, detectable change and false alarms per series from recorded runs', async () => {
    await inSandbox(async (box) => {
      const recorded = new URL('../../../fixtures/recorded/lab-wrlock-iperf.results.json', import.meta.url).pathname;
      const r = await box.run(['calibrate', '--from', recorded, '--trials', '100', '--output', 'cal']);
      assert.equal(r.exitCode, 0, `${r.stdout}${r.stderr}`);
      assert.match(String(r.stdout), /^calibration: 40 tests of one build, 100 random A\/A splits of 20 against 20 tests$/m);
      assert.match(String(r.stdout), /^wrlock-iperf · linux · throughput · hard · host-to-guest\s+40\s+[\d.]+\s+\d+\.\d%\s+\d+\.\d%\s+\d+\.\d%$/m);
      assert.match(String(r.stdout), /^wrlock-iperf · linux · wrlock-cycle-p99 .*\(ignored\)$/m);
      const cal = json<{ gateFalsePositiveRate: number; series: Array<{ id: string; cv: number }> }>(join(box.dir, 'cal/calibration.json'));
      assert.ok(cal.gateFalsePositiveRate <= 0.05, `${cal.gateFalsePositiveRate}`);
      assert.equal(cal.series.length, 9);
      const few = await box.run(['calibrate', '--from', recorded, '--per-side', '30']);
      assert.equal(few.exitCode, 2);
      assert.match(String(few.stderr), /--per-side 30: only 40 tests, at most 20 a side/);
    });
  });

  it('two shards plus merge hold every check of the plan, once, with their evidence where CI moved it', async () => {
    await inSandbox(async (box) => {
      // The plan's tests and checks, as list and one shard see them (a whole run of the plan is the CI examples' test's: ci-examples.test.ts).
      for (const i of [1, 2]) {
        const r = await box.run(['run', 'smoke', '--repeat-each', '2', '--shard', `${i}/2`, '--output', `shard-${i}`]);
        assert.equal(r.exitCode, 0, `${r.stdout}${r.stderr}`);
        assert.equal(json(join(box.dir, `shard-${i}/results.json`)).tests.length, 1, 'each shard runs one of the two tests');
      }
      // CI hands the shards to the merge job as artifacts, in another folder: their evidence moves with them.
      mkdirSync(join(box.dir, 'artifacts'));
      for (const i of [1, 2]) renameSync(join(box.dir, `shard-${i}`), join(box.dir, 'artifacts', `shard-${i}`));
      const m = await box.run(['merge', 'artifacts/shard-1', 'artifacts/shard-2', '--output', 'merged']);
      assert.equal(m.exitCode, 0, `${m.stdout}${m.stderr}`);
      const attached = [...readFileSync(join(box.dir, 'merged/junit.xml'), 'utf8').matchAll(/\[\[ATTACHMENT\|([^\]]+)\]\]/g)].map((a) => a[1]);
      assert.ok(attached.length >= 2, 'the consoles are attached');
      for (const a of attached) assert.ok(a.startsWith('artifacts/shard-') && existsSync(join(box.dir, a)), `${a}: relative to the working directory, where the shard now is`);
      assert.match(String(m.stdout), /merged 2 result file\(s\), 2 tests: 2 passed/);
      const merged = json(join(box.dir, 'merged/results.json'));
      const shards = [1, 2].map((i) => json(join(box.dir, 'artifacts', `shard-${i}`, 'results.json')));
      assert.deepEqual(checksOf(merged), shards.flatMap(checksOf).sort(), 'every check of both shards, none twice');
      assert.deepEqual(merged.tests.map((t) => t.id), ['smoke/lab/linux#0', 'smoke/lab/linux#1'], 'the whole plan');
      assert.ok(checksOf(merged).length >= 10 && checksOf(merged).every((c) => c.endsWith(': passed')), checksOf(merged).join('\n'));
      assert.ok(existsSync(join(box.dir, 'merged/junit.xml')));
      const report = readFileSync(join(box.dir, 'merged/report.html'), 'utf8');
      for (const t of merged.tests) assert.ok(report.includes(`data-test="${t.id}"`), `${t.id} in the merged report`);
      assert.deepEqual(merged.merged!.map((s) => s.shard), [{ index: 1, total: 2 }, { index: 2, total: 2 }]);
    });
  });

  it('quarantines a pool host that fails its health check and runs its tests on the others', async () => {
    await inSandbox(async (box) => {
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), stringify({
        ...BUILTIN_CONFIG,
        hosts: {
          // First in the pool, but its lab folder is gone: no bhyve there.
          broken: { transport: 'local', platform: 'lab', pool: 'labs', capacity: 2, labDir: join(box.dir, 'no-lab') },
          lab: { transport: 'local', platform: 'lab', pool: 'labs', capacity: 2 },
        },
      }));
      const r = await box.run(['run', 'smoke', '--repeat-each', '2', '--output', 'out']);
      assert.equal(r.exitCode, 0, `${r.stdout}${r.stderr}`);
      assert.match(String(r.stdout), /^note host broken quarantined for this run: bhyve present: .*no-lab\/bin\/bhyve is missing/m);
      const run = json(join(box.dir, 'out/results.json'));
      assert.deepEqual(run.tests.map((t) => `${t.id} on ${t.host}: ${t.status}`), ['smoke/labs/linux#0 on lab: passed', 'smoke/labs/linux#1 on lab: passed']);
      assert.match(run.hosts.find((h) => h.name === 'broken')!.quarantined!, /bhyve present/);
      assert.equal(run.hosts.find((h) => h.name === 'lab')!.fingerprint!.cpus, String((await import('node:os')).availableParallelism()));
    });
  });

  it('a gate run passes clean against clean and fails a slow write lock with the hard dose\'s throughput flagged', async () => {
    await inSandbox(async (box) => {
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), stringify({
        ...BUILTIN_CONFIG,
        // The mechanism at n = 5: only large changes count, and the noisy side metrics stay out.
        gate: {
          noiseThreshold: 0.25, maxIterations: 2, familyWise: 'none',
          ignore: ['boot-time', 'wrlock-cycle-p50', 'wrlock-cycle-p99', 'wrlock-hold-p50', 'wrlock-hold-p99'].map((metric) => ({ metric, reason: 'not what this test is about' })),
        },
      }));
      const gate = (args: string[], env: Record<string, string> = box.env) => box.run(['run', HARD_DOSE, '--repeat-each', '5', ...args], { env, timeout: 600_000 });
      const base = await gate(['--output', 'base']);
      assert.equal(base.exitCode, 0, `${base.stdout}${base.stderr}`);

      // The same build on both sides: an A/A comparison, asked for as one.
      const clean = await gate(['--baseline', 'base', '--aa', '--output', 'clean']);
      assert.equal(clean.exitCode, 0, `${clean.stdout}${clean.stderr}`);
      assert.match(String(clean.stdout), /verdict: pass — no regression in 1 tested series/);
      assert.ok(!existsSync(join(box.dir, 'clean/iteration-2')), 'nothing flagged, no second iteration');

      const slow = await gate(['--baseline', 'base', '--output', 'slow'], { ...box.env, BHYVE_LAB_FAULTS: 'slow-wrlock=50' });
      assert.equal(slow.exitCode, 1, `${slow.stdout}${slow.stderr}`);
      // Flat out, a clean lab's hammer already holds the guest about half the time; 50 ms a cycle takes
      // 60-95% of what is left, depending on the box's load. A drop whose interval reaches back under the
      // 25% threshold makes the gate run a second iteration first.
      const iterated = /: iteration 2 of at most 2$/m.test(String(slow.stdout));
      assert.equal(existsSync(join(box.dir, 'slow/iteration-2')), iterated);
      assert.match(String(slow.stdout), new RegExp(`^REGRESSED\\s+hard-dose · linux · ${HARD}\\s+5/${iterated ? 10 : 5} `, 'm'));
      assert.match(String(slow.stdout), /verdict: FAIL — 1 series regressed/);
      assert.equal(json(join(box.dir, 'slow/results.json')).tests.length, iterated ? 10 : 5, 'every iteration kept');
      assert.match(readFileSync(join(box.dir, 'slow/compare.junit.xml'), 'utf8'), new RegExp(`<failure message="regressed: hard-dose · linux · ${HARD}: `));
      assert.match(readFileSync(join(box.dir, 'slow/report.html'), 'utf8'), new RegExp(`<tr class="regressed" data-series="hard-dose · linux · ${HARD}"`), 'the report shows the flagged series');
    });
  });

  it('an A/B run puts two hosts side by side, alternating which goes first, and flags the one with the slow write lock, naming the builds that differ', async () => {
    await inSandbox(async (box) => {
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), stringify({
        ...BUILTIN_CONFIG,
        hosts: {
          lab: { transport: 'local', platform: 'lab', capacity: 1 },
          slow: { transport: 'local', platform: 'lab', capacity: 1, labFaults: 'slow-wrlock=50' },
        },
        gate: { noiseThreshold: 0.25, maxIterations: 1, familyWise: 'none', ignore: [{ metric: 'boot-time', reason: 'both hosts are one machine' }] },
      }));
      const r = await box.run(['run', HARD_DOSE, '--ab', 'lab,slow', '--repeat-each', '5', '--output', 'ab'], { timeout: 600_000 });
      assert.equal(r.exitCode, 1, `${r.stdout}${r.stderr}`);
      const run = json(join(box.dir, 'ab/results.json'));
      assert.deepEqual(run.tests.map((t) => t.id).slice(0, 4), ['hard-dose/lab/linux#0', 'hard-dose/slow/linux#0', 'hard-dose/slow/linux#1', 'hard-dose/lab/linux#1']);
      assert.match(String(r.stdout), /^verdict\s+series\s+n\s+lab → slow/m);
      // Both hosts are this machine, at once: their vms share its two cores, which blurs throughput; the cycle time is the lock's own.
      assert.match(String(r.stdout), /^REGRESSED\s+hard-dose · linux · wrlock-cycle-p50\s+5\/\d /m);
      // The cycle as the lab's vmm times it: 50 ms more a cycle, flagged too.
      assert.match(String(r.stdout), /^REGRESSED\s+hard-dose · linux · wrlock-hold-p50\s+5\/\d /m);
      const holdMs = (host: string) => {
        const xs = run.tests.filter((t) => t.host === host).map((t) => t.metrics?.find((m) => m.metric === 'wrlock-hold-p50')?.value ?? NaN);
        return xs.reduce((a, b) => a + b, 0) / xs.length / 1000;
      };
      const rise = holdMs('slow') - holdMs('lab');
      assert.ok(rise > 40 && rise < 70, `the traced cycle rose ${rise.toFixed(1)} ms under slow-wrlock=50`);
      assert.match(String(r.stdout), /^verdict: FAIL — \d+ series regressed$/m);
      // The lab's faults are its vmm's behaviour: part of its build, not of the machine's fingerprint.
      assert.match(String(r.stdout), /^builds: lab lab · vmm ([0-9a-f]{12}); slow lab · vmm (?!\1)[0-9a-f]{12} · faults slow-wrlock=50$/m);
      assert.doesNotMatch(String(r.stdout), /fingerprints differ/);
    });
  });
});
