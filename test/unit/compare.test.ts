// The gate's verdict over results: a drop past noise and threshold is a
// regression, A against A is not, hangs always fail, too few samples and
// ignored series are said so, and bad inputs are usage errors naming the file.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { validateXML } from 'xmllint-wasm';
import { checkGateMetrics, gateSchema } from '../../harness/config/schema.ts';
import { BUILTIN_CONFIG } from '../../harness/config/defaults.ts';
import { validate } from '../../harness/config/load.ts';
import { buildComparisonJunit, formatComparison } from '../../harness/report/comparison.ts';
import { readResults } from '../../harness/report/read-results.ts';
import type { RunResult, TestResult } from '../../harness/report/results.ts';
import { seriesNoise, splitTrials } from '../../harness/verdict/calibrate.ts';
import { compareRuns, inDoubt, untestable } from '../../harness/verdict/compare.ts';
import { seededRandom } from '../../harness/verdict/statistics.ts';
import { checkDeclaredMetrics, knownMetricNames, Metrics } from '../../harness/verdict/metrics.ts';

// The gate's defaults, without the lab config's ignore list.
const gate = gateSchema.parse({});

/** A test of wrlock-iperf with its throughput metrics: unstressed and hard dose (Mbit/s), and their ratio. */
function test(i: number, unstressed: number, hard: number, over: Partial<TestResult> = {}): TestResult {
  const dims = (dose: string) => ({ dose, direction: 'host-to-guest' });
  return {
    id: `wrlock-iperf/lab/linux#${i}`, suite: 'wrlock-iperf', pool: 'lab', host: 'lab', guest: 'linux', repeat: i, status: 'passed',
    attempt: 0, attempts: [], startedAt: '2026-11-25T00:00:00.000Z', durationMs: 50_000, checks: [], attachments: [],
    timeline: { samples: [], events: [] }, reproduce: 'npx bhyve-smoke run wrlock-iperf',
    metrics: [
      { metric: 'throughput', value: unstressed, unit: 'Mbit/s', better: 'higher', dims: dims('unstressed') },
      { metric: 'throughput', value: hard, unit: 'Mbit/s', better: 'higher', dims: dims('hard') },
      { metric: 'throughput-ratio', value: hard / unstressed, unit: 'ratio', better: 'higher', dims: dims('hard') },
    ],
    ...over,
  };
}

function run(tests: TestResult[], fingerprint: Record<string, string> = { cpu: 'EPYC', os: 'Linux 6.1' }): RunResult {
  return {
    version: 1, runId: 'r1', config: 'built-in', startedAt: '2026-11-25T00:00:00.000Z', finishedAt: '2026-11-25T00:10:00.000Z', durationMs: 600_000,
    hosts: [{ name: 'lab', platform: 'lab', transport: 'local', fingerprint }], tests, exitCode: 0,
  };
}

/** n tests with 6% run-to-run noise (the lab, exclusive), the hard dose scaled by `factor`. */
function population(n: number, seed: number, factor = 1): TestResult[] {
  const random = seededRandom(seed);
  const noisy = (x: number) => x * (1 + 0.06 * (random() + random() + random() - 1.5) * 2);
  return Array.from({ length: n }, (_, i) => {
    const u = noisy(550);
    return test(i, u, noisy(330) * factor);
  });
}

describe('compare', () => {
  it('flags a 15% drop under the dose as a regression, with its numbers, in JUnit that validates', async () => {
    const c = compareRuns([run(population(20, 1))], [run(population(20, 2, 0.85))], { gate });
    const hard = c.series.find((v) => v.id === 'wrlock-iperf · linux · throughput · hard · host-to-guest')!;
    assert.equal(hard.status, 'regressed');
    assert.ok(hard.pValue! < 0.01 && hard.worse > 0.1, `${hard.pValue} ${hard.worse}`);
    assert.ok(hard.interval![1] < 0, 'the whole interval is a drop');
    assert.equal(c.series.find((v) => v.id.includes('unstressed'))!.status, 'ok');
    assert.equal(c.regressed, true);
    assert.match(formatComparison(c), /^REGRESSED\s+wrlock-iperf · linux · throughput · hard · host-to-guest\s+20\/20/m);
    assert.match(formatComparison(c), /verdict: FAIL — 2 series regressed/);
    const xml = buildComparisonJunit(c, 'gate');
    const schema = readFileSync(new URL('../../fixtures/junit/bhyve-smoke.xsd', import.meta.url), 'utf8');
    const valid = await validateXML({ xml: [{ fileName: 'compare.junit.xml', contents: xml }], schema: [{ fileName: 'junit.xsd', contents: schema }] });
    assert.equal(valid.valid, true, valid.rawOutput);
    assert.match(xml, /<failure message="regressed: wrlock-iperf · linux · throughput · hard · host-to-guest: [\d.]+ → [\d.]+ Mbit\/s \(-1\d\.\d%/);
    assert.match(xml, /<property name="p-value" value="0\.000\d+"\/>/);
    // The body too (GitLab and Jenkins' stack trace show only that): the series, and the rule that judged it.
    assert.match(xml, /type="PerfRegression"><!\[CDATA\[regressed: wrlock-iperf · linux · throughput · hard[^\n]*\nrule: a series regressed when/);
    assert.match(xml, /<testsuites name="gate" time="0"/);
  });

  it('runs more iterations only for flagged series still in doubt', () => {
    const decided = compareRuns([run(population(20, 1))], [run(population(20, 2, 0.7))], { gate });
    assert.ok(decided.flagged.length > 0);
    assert.deepEqual(inDoubt(decided), [], 'a 30% drop is decided at once');
    const near = compareRuns([run(population(20, 44))], [run(population(20, 45, 0.92))], { gate: { ...gate, familyWise: 'none' } });
    const hard = near.flagged.find((v) => v.id.includes('throughput · hard'));
    assert.ok(hard, 'an 8% drop is flagged');
    assert.ok(hard.interval![1] > -0.05, `its interval reaches back under 5%: ${hard.interval}`);
    assert.deepEqual(inDoubt(near).map((v) => v.id), near.flagged.filter((v) => v.interval![1] > -0.05).map((v) => v.id));
    assert.ok(inDoubt(near).includes(hard));
  });

  it('passes the same build against itself', () => {
    const c = compareRuns([run(population(20, 3))], [run(population(20, 4))], { gate });
    assert.equal(c.regressed, false, formatComparison(c));
    assert.match(formatComparison(c), /verdict: pass — no regression in 3 tested series/);
  });

  it('does not fail on a significant improvement', () => {
    const c = compareRuns([run(population(20, 5))], [run(population(20, 6, 1.2))], { gate });
    assert.equal(c.regressed, false);
  });

  it('fails on any hang in the candidate, whatever the numbers', () => {
    const hung = test(0, 550, 330, { status: 'failed', checks: [{ name: 'no hang', status: 'failed', type: 'HangDetected', kind: 'liveness', message: 'write-lock cycle 812 blocked for 2004 ms', durationMs: 0 }] });
    const c = compareRuns([run(population(20, 7))], [run([hung, ...population(19, 8)])], { gate });
    assert.equal(c.regressed, true);
    assert.deepEqual(c.liveness, [{ kind: 'hang', test: 'wrlock-iperf/lab/linux#0', host: 'lab', message: 'write-lock cycle 812 blocked for 2004 ms' }]);
    assert.match(buildComparisonJunit(c, 'gate'), /<failure message="wrlock-iperf\/lab\/linux#0 on lab: write-lock cycle 812 blocked for 2004 ms" type="HangDetected"/);
  });

  it('says when there are too few samples to reach the significance level', () => {
    const c = compareRuns([run(population(4, 9))], [run(population(4, 10, 0.5))], { gate });
    assert.ok(c.series.every((v) => v.status === 'insufficient'));
    assert.match(c.series[0].note!, /4 against 4 samples cannot reach p < 0\.01/);
    assert.equal(c.regressed, false);
    // A gate that tested nothing gives no verdict rather than a pass.
    assert.match(untestable(c)!, /^no series could be tested: 4 against 4 samples/);
    assert.equal(untestable(compareRuns([run(population(20, 1))], [run(population(20, 2))], { gate })), undefined);
  });

  it('keeps ignored series out of the verdict, and applies per-metric thresholds', () => {
    const base = [run(population(20, 11))];
    const cand = [run(population(20, 12, 0.85))];
    const ignoring = { ...gate, ignore: [{ metric: 'throughput' as const, reason: 'noisy on this host' }, { metric: 'throughput-ratio' as const, reason: 'ditto' }] };
    const c = compareRuns(base, cand, { gate: ignoring });
    assert.ok(c.series.every((v) => v.status === 'ignored' && v.note));
    assert.equal(c.regressed, false);
    const lenient = compareRuns(base, cand, { gate: { ...gate, overrides: { throughput: { noiseThreshold: 0.3 }, 'throughput-ratio': { noiseThreshold: 0.3 } } } });
    assert.equal(lenient.regressed, false);
  });

  it('calls a lone flagged series inconsistent when its group, across guests, does not move', () => {
    const other = (tests: TestResult[]) => tests.map((t) => ({ ...t, guest: 'debian', id: t.id.replace('linux', 'debian') }));
    const base = [...population(20, 13), ...other(population(20, 14)), ...other(population(20, 15)).map((t) => ({ ...t, guest: 'alpine' }))];
    // Only one of three guests drops, by 12%: the mean over the group, 4%, is under 5%.
    const cand = [...population(20, 16, 0.88), ...other(population(20, 17)), ...other(population(20, 18)).map((t) => ({ ...t, guest: 'alpine' }))];
    const c = compareRuns([run(base)], [run(cand)], { gate });
    const linux = c.series.find((v) => v.id === 'wrlock-iperf · linux · throughput · hard · host-to-guest')!;
    assert.ok(linux.pValue! < 0.01, `the drop alone is significant: p ${linux.pValue}`);
    assert.equal(linux.status, 'inconsistent');
    assert.match(linux.note!, /its group \(wrlock-iperf · throughput · hard, 3 series\)/);
    assert.equal(c.series.some((v) => v.status === 'regressed'), false);
  });

  it('warns when the hosts differ, and reports series measured on one side only', () => {
    const cand = run([...population(20, 20)].map((t) => ({ ...t, metrics: [...t.metrics!, { metric: 'boot-time' as const, value: 3000, unit: 'ms', better: 'lower' as const, dims: {} }] })), { cpu: 'EPYC', os: 'Linux 6.12' });
    const c = compareRuns([run(population(20, 19))], [cand], { gate });
    assert.match(c.warnings.join('\n'), /host fingerprints differ \(baseline lab, candidate lab\): os: "Linux 6\.1" → "Linux 6\.12"/);
    assert.equal(c.series.find((v) => v.key.metric === 'boot-time')!.status, 'missing');
  });

  it('holds the significance level for the whole comparison (Holm), not per series', () => {
    // 100 guests of the same build: per series, about one in a hundred falls under p < 0.01 by chance.
    const many = (seed: number) => Array.from({ length: 100 }, (_, g) => population(20, seed + g).map((t) => ({ ...t, guest: `g${g}` }))).flat();
    const base = [run(many(100))];
    const cand = [run(many(200))];
    const perSeries = compareRuns(base, cand, { gate: { ...gate, familyWise: 'none', noiseThreshold: 0.01 }, intervals: false });
    const holm = compareRuns(base, cand, { gate: { ...gate, noiseThreshold: 0.01 }, intervals: false });
    assert.ok(perSeries.series.filter((v) => v.significant).length >= 1, 'per series, chance finds something in 300 series');
    assert.equal(holm.series.filter((v) => v.significant).length, 0);
    const levels = holm.series.map((v) => v.level!).sort((a, b) => a - b);
    assert.equal(levels[0], 0.01 / 300);
    assert.equal(levels.at(-1), 0.01);
  });

  it('is reproducible: the same inputs and seed give the same p-values', () => {
    const a = compareRuns([run(population(20, 21))], [run(population(20, 22, 0.95))], { gate });
    const b = compareRuns([run(population(20, 21))], [run(population(20, 22, 0.95))], { gate });
    assert.deepEqual(a.series.map((v) => v.pValue), b.series.map((v) => v.pValue));
  });
});

describe('reading results', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bsm-results-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it('names the file and what is wrong with it', () => {
    assert.throws(() => readResults([write('corrupt.json', '{"version": 1, "runId": ')]), /corrupt\.json: not a readable results\.json \(.*JSON/);
    assert.throws(() => readResults([write('v2.json', JSON.stringify({ ...run([]), version: 2 }))]), /v2\.json: not a bhyve-smoke results\.json: version: Invalid input: expected 1/);
    assert.throws(() => readResults([write('t.json', JSON.stringify({ ...run([]), tests: [{ id: 'x' }] }))]), /t\.json: not a bhyve-smoke results\.json: tests\.0\.suite: /);
    assert.throws(() => readResults([join(dir, 'nope.json')]), /nope\.json: no such file or folder/);
    assert.throws(() => readResults([dir]), /holds no results\.json/);
  });

  it('takes a run folder and a folder of shard folders', () => {
    const ok = JSON.stringify(run(population(2, 1)));
    for (const d of ['s1', 's2']) {
      rmSync(join(dir, d), { recursive: true, force: true });
      writeFileSync(join(dir, `${d}.json`), ok);
    }
    const runs = readResults([join(dir, 's1.json'), join(dir, 's2.json')]);
    assert.equal(runs.length, 2);
    assert.equal(runs[0].tests[0].metrics!.length, 3);
  });
});

describe('calibration', () => {
  it('measures a low false-positive rate on A/A splits and a high one with a large injected drop', () => {
    const pool = population(40, 30);
    const base = run(pool);
    const aa = splitTrials(base, pool, gate, { trials: 100, perSide: 20, seed: 1 });
    assert.ok(aa.gateRate <= 0.05, `A/A gate rate ${aa.gateRate}`);
    const drop = splitTrials(base, pool, gate, { trials: 100, perSide: 20, seed: 1, drop: { fraction: 0.2, applies: (m, d) => m === 'throughput' && d.dose === 'hard' } });
    assert.ok(drop.gateRate >= 0.95, `20% drop detected in ${drop.gateRate}`);
    assert.ok((drop.seriesRates.get('wrlock-iperf · linux · throughput · hard · host-to-guest') ?? 0) >= 0.95);
    assert.equal(drop.seriesRates.get('wrlock-iperf · linux · throughput · unstressed · host-to-guest') ?? 0, aa.seriesRates.get('wrlock-iperf · linux · throughput · unstressed · host-to-guest') ?? 0, 'the drop touches only the hard dose');
  });

  it('reports per series the noise and the change it could detect at that n', () => {
    const noise = seriesNoise(population(40, 31), gate, 20);
    const hard = noise.find((s) => s.id.includes('throughput · hard'))!;
    assert.equal(hard.n, 40);
    assert.ok(hard.cv > 0.03 && hard.cv < 0.1, `cv ${hard.cv}`);
    // (z(0.99) + z(0.95)) · cv · √(2/20), never below the 5% threshold.
    assert.ok(Math.abs(hard.detectable - Math.max(0.05, (2.3263 + 1.6449) * hard.cv * Math.sqrt(0.1))) < 1e-3);
  });
});

describe('the builds of a comparison', () => {
  const onBuild = (tests: TestResult[], build: string) => tests.map((t) => ({ ...t, build }));
  it('two sides on one build are no gate: no verdict, saying so, unless an A/A comparison is asked for', () => {
    const same = [run(onBuild(population(20, 1), 'omnios-r151054-a1 · vmm 0123456789ab'))];
    const also = [run(onBuild(population(20, 2, 0.5), 'omnios-r151054-a1 · vmm 0123456789ab'))];
    const c = compareRuns(same, also, { gate });
    assert.equal(untestable(c), 'both sides ran the same build (omnios-r151054-a1 · vmm 0123456789ab): that is an A/A comparison, not a gate (--aa judges it as one)');
    const aa = compareRuns(same, also, { gate, aa: true });
    assert.equal(untestable(aa), undefined);
    assert.equal(aa.regressed, true, 'judged as asked, a halved dose is a regression even on one build');
    assert.match(formatComparison(aa), /^builds: baseline omnios-r151054-a1 · vmm 0123456789ab; candidate omnios-r151054-a1 · vmm 0123456789ab \(an A\/A comparison, as asked\)$/m);
  });

  it('two builds: a gate, each side named; a side of several builds is pooled and said', () => {
    const c = compareRuns([run(onBuild(population(20, 1), 'A'))], [run([...onBuild(population(10, 2), 'B'), ...onBuild(population(10, 3), 'C')])], { gate });
    assert.equal(untestable(c), undefined);
    assert.deepEqual(c.builds, { base: ['A'], cand: ['B', 'C'] });
    assert.match(c.warnings.join('\n'), /a side ran several builds \(baseline: A; candidate: B, C\)/);
  });
});

describe('metrics as a test records them', () => {
  it('a value that is not a finite number is an error naming the metric, never a silently missing series', () => {
    const m = new Metrics();
    m.record('throughput', 512.5, { dose: 'hard', direction: 'host-to-guest' });
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      assert.throws(() => m.record('throughput-ratio', bad, { dose: 'hard', direction: 'host-to-guest' }),
        (e: Error) => e.name === 'InfraError' && e.message === `metric throughput-ratio (dose hard, direction host-to-guest): ${bad} is not a measurement (a finite number)`);
    }
    assert.deepEqual(m.values.map((v) => v.value), [512.5]);
  });

  it('a suite\'s own metric takes its declared unit and direction; one neither built in nor declared names the suite and the metric', () => {
    const m = new Metrics({ 'login-after-reboot': { unit: 'ms', better: 'lower', description: 'x' } }, 'reboot-twice');
    m.record('login-after-reboot', 812);
    assert.deepEqual(m.values.map((v) => [v.metric, v.unit, v.better]), [['login-after-reboot', 'ms', 'lower']]);
    assert.throws(() => m.record('guest-mood', 1), /^ConfigError: suite reboot-twice: metric guest-mood is neither built in nor declared by the suite \(its metrics: login-after-reboot; built in: throughput, /);
    assert.throws(() => m.record('login-after-reboot', Number.NaN), /^InfraError: suite reboot-twice: metric login-after-reboot: NaN is not a measurement/);
  });

  it('a declaration is checked when the suite loads: its own name, a unit, which way is better, a description', () => {
    const ok = { unit: 'ms', better: 'lower', description: 'what' };
    assert.deepEqual(checkDeclaredMetrics('s', 'f.ts', { 'my-time': ok }), { 'my-time': ok });
    assert.throws(() => checkDeclaredMetrics('s', 'f.ts', { throughput: ok }), /f\.ts: suite s: metrics\.throughput: a built-in metric of that name exists/);
    assert.throws(() => checkDeclaredMetrics('s', 'f.ts', { My_Time: ok }), /metrics\.My_Time: a metric name is lower-case words joined by "-"/);
    assert.throws(() => checkDeclaredMetrics('s', 'f.ts', { 'my-time': { ...ok, better: 'up' } }), /metrics\.my-time\.better: "higher" or "lower", got "up"/);
    assert.throws(() => checkDeclaredMetrics('s', 'f.ts', { 'my-time': { unit: 'ms', better: 'lower' } }), /metrics\.my-time\.description: one line/);
  });
});

describe('the gate section names metrics there are', () => {
  it('built in or a loaded suite\'s own; any other is a usage error naming where', () => {
    const gate = validate({ ...BUILTIN_CONFIG, gate: { overrides: { 'login-after-reboot': { noiseThreshold: 0.1 } }, ignore: [{ metric: 'boot-time', reason: 'r' }] } }, 'c.yaml').gate;
    assert.doesNotThrow(() => checkGateMetrics(gate, 'c.yaml', knownMetricNames([{ metrics: { 'login-after-reboot': { unit: 'ms', better: 'lower', description: 'x' } } }])));
    assert.throws(() => checkGateMetrics(gate, 'c.yaml', knownMetricNames([])), /^ConfigError: c\.yaml: gate\.overrides\.login-after-reboot: unknown metric "login-after-reboot" \(known: throughput, /);
  });
});
