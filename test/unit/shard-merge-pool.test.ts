// Scale: shards partition the plan exactly (balanced by recorded durations),
// merge puts them back together and refuses what would make a lying report,
// pools send tests to capable hosts, A/B plans interleave, and known issues
// label failures.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { validate } from '../../harness/config/load.ts';
import { BUILTIN_CONFIG } from '../../harness/config/defaults.ts';
import { buildJunit } from '../../harness/report/junit.ts';
import { mergeRuns } from '../../harness/report/merge.ts';
import type { RunResult, TestResult } from '../../harness/report/results.ts';
import { HostSlots } from '../../harness/run/host-slots.ts';
import { planTests } from '../../harness/run/plan.ts';
import { durationsOf, parseShard, shardOf } from '../../harness/run/shard.ts';
import type { SuiteDefinition } from '../../harness/suite.ts';
import { triage } from '../../harness/verdict/triage.ts';

const fakeSuite = (name: string, over: Partial<SuiteDefinition> = {}): SuiteDefinition => ({ name, description: name, guests: ['linux'], needs: [], run: async () => {}, ...over });
const suites = new Map([['smoke', fakeSuite('smoke')], ['wrlock', fakeSuite('wrlock', { needs: ['wrlock'] })]]);
const tests = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `s/h/g#${String(i).padStart(2, '0')}` }));

const result = (id: string, over: Partial<TestResult> = {}): TestResult => ({
  id, suite: id.split('/')[0], pool: 'lab', host: 'lab', guest: 'linux', repeat: 0, status: 'passed', attempt: 0, attempts: [],
  startedAt: '2026-11-25T10:00:00.000Z', durationMs: 1000, checks: [], attachments: [], timeline: { samples: [], events: [] }, reproduce: 'x', ...over,
});
const runOf = (runId: string, results: TestResult[], shard?: { index: number; total: number }, times = ['2026-11-25T10:00:00.000Z', '2026-11-25T10:05:00.000Z']): RunResult => ({
  version: 1, runId, config: 'built-in', startedAt: times[0], finishedAt: times[1], durationMs: 300_000,
  hosts: [{ name: 'lab', platform: 'lab', transport: 'local' }], tests: results, exitCode: 0, ...(shard ? { shard } : {}),
});

describe('shards', () => {
  it('parse I/N and refuse what is not a shard', () => {
    assert.deepEqual(parseShard('2/3'), { index: 2, total: 3 });
    assert.throws(() => parseShard('3/2'), /--shard 3\/2: the index must be between 1 and 2/);
    assert.throws(() => parseShard('0/2'), /the index must be between 1 and 2/);
    assert.throws(() => parseShard('1-2'), /expected INDEX\/TOTAL such as 1\/3, got "1-2"/);
    assert.throws(() => parseShard('1/0'), /the total must be at least 1/);
  });

  it('partition the plan: every test in exactly one shard, deterministically', () => {
    const plan = tests(11);
    for (const total of [1, 2, 3, 5, 12]) {
      const parts = Array.from({ length: total }, (_, i) => shardOf(plan, { index: i + 1, total }).map((t) => t.id));
      assert.deepEqual(parts.flat().sort(), plan.map((t) => t.id), `${total} shards`);
      assert.deepEqual(parts, Array.from({ length: total }, (_, i) => shardOf(plan, { index: i + 1, total }).map((t) => t.id)));
      assert.ok(Math.max(...parts.map((p) => p.length)) - Math.min(...parts.map((p) => p.length)) <= 1);
    }
  });

  it('balance by recorded durations, longest first', () => {
    const plan = tests(4);
    // One 30-minute Windows update test and three 5-minute smoke tests: the long one alone.
    const durations = durationsOf([runOf('r', [result('s/h/g#00', { durationMs: 1_800_000 }), ...['01', '02', '03'].map((n) => result(`s/h/g#${n}`, { durationMs: 300_000 }))])]);
    assert.deepEqual(shardOf(plan, { index: 1, total: 2 }, durations).map((t) => t.id), ['s/h/g#00']);
    assert.deepEqual(shardOf(plan, { index: 2, total: 2 }, durations).map((t) => t.id), ['s/h/g#01', 's/h/g#02', 's/h/g#03']);
  });
});

describe('merge', () => {
  it('gives one run with every test, the span of the shards and the worst exit code', () => {
    const a = runOf('aaa', [result('smoke/lab/linux#0')], { index: 1, total: 2 });
    const b = runOf('bbb', [result('smoke/lab/linux#1', { status: 'failed', checks: [{ name: 'boots', status: 'failed', durationMs: 1 }] })], { index: 2, total: 2 }, ['2026-11-25T10:01:00.000Z', '2026-11-25T10:09:00.000Z']);
    const m = mergeRuns([{ source: 's2/results.json', run: b }, { source: 's1/results.json', run: a }]);
    assert.deepEqual(m.tests.map((t) => t.id), ['smoke/lab/linux#0', 'smoke/lab/linux#1']);
    assert.equal(m.runId, 'bbb+aaa');
    assert.equal(m.startedAt, '2026-11-25T10:00:00.000Z');
    assert.equal(m.finishedAt, '2026-11-25T10:09:00.000Z');
    assert.equal(m.exitCode, 1);
    assert.equal(m.merged!.length, 2);
    const xml = buildJunit(m);
    assert.match(xml, /<testsuites name="bhyve-smoke bbb\+aaa" time="540" tests="2" failures="1"/);
    assert.equal(xml.match(/<testsuite /g)?.length, 2);
  });

  it('finds a shard\'s evidence where the shard folder is now, not where its run wrote it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bsm-merge-'));
    try {
      mkdirSync(join(dir, 'artifacts/shard-1/tests/smoke_lab_linux'), { recursive: true });
      writeFileSync(join(dir, 'artifacts/shard-1/tests/smoke_lab_linux/console.log'), 'login: ');
      const written = '/runner/work/shard-1/tests/smoke_lab_linux';
      const run = runOf('aaa', [result('smoke/lab/linux', { attachments: [{ name: 'console', path: `${written}/console.log` }, { name: 'pstack', path: `${written}/pstack.txt` }] })]);
      const m = mergeRuns([{ source: join(dir, 'artifacts/shard-1/results.json'), run }]);
      assert.deepEqual(m.tests[0].attachments.map((a) => a.path), [join(dir, 'artifacts/shard-1/tests/smoke_lab_linux/console.log'), `${written}/pstack.txt`], 'moved when found, left as it was when not');
      assert.match(buildJunit(m, { attachmentsBase: dir }), /\[\[ATTACHMENT\|artifacts\/shard-1\/tests\/smoke_lab_linux\/console\.log\]\]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('merges what arrived of a shard set with a gap: each missing shard named, an error test of its own, exit 3', () => {
    const a = runOf('a', [result('smoke/lab/linux')], { index: 1, total: 3 });
    const m = mergeRuns([{ source: 'x', run: a }]);
    assert.deepEqual(m.missingShards, [{ index: 2, total: 3 }, { index: 3, total: 3 }]);
    assert.deepEqual(m.tests.map((t) => [t.id, t.status]), [['smoke/lab/linux', 'passed'], ['shard 2/3', 'error'], ['shard 3/3', 'error']]);
    assert.match(m.tests[1].error!.message, /^shard 2\/3 missing: no results\.json of it among the inputs/);
    assert.equal(m.exitCode, 3, 'a lost shard is never a green night');
    const xml = buildJunit(m, {});
    assert.match(xml, /<testcase classname="merge\.all\/shard-2-of-3" name="shard 2\/3 arrived" time="0">\s*<error message="shard 2\/3 missing/);
  });

  it('refuses a test found twice and mixed shardings', () => {
    const a = runOf('a', [result('smoke/lab/linux')], { index: 1, total: 2 });
    assert.throws(() => mergeRuns([{ source: 'x', run: a }, { source: 'y', run: a }]), /test smoke\/lab\/linux is in both x and y/);
    const c = runOf('c', [result('wrlock/lab/linux')], { index: 2, total: 3 });
    assert.throws(() => mergeRuns([{ source: 'x', run: a }, { source: 'z', run: c }]), /different shardings \(x: 1\/2, z: 2\/3\)/);
  });
});

describe('pools and A/B plans', () => {
  const config = validate({
    ...BUILTIN_CONFIG,
    hosts: {
      omni1: { transport: 'ssh', ssh: 'root@omni1', platform: 'illumos', pool: 'omnios', capacity: 2, nic: 'igb0' },
      omni2: { transport: 'ssh', ssh: 'root@omni2', platform: 'illumos', pool: 'omnios', nic: 'igb0' },
      bsd1: { transport: 'ssh', ssh: 'root@bsd1', platform: 'freebsd', pool: 'mixed', nic: 'bridge0' },
      omni3: { transport: 'ssh', ssh: 'root@omni3', platform: 'illumos', pool: 'mixed', nic: 'igb0' },
    },
  }, 'c');

  it('plans a test per pool, on the hosts of the pool that can run it', () => {
    const plan = planTests(config, suites, { suites: [], repeatEach: 1 });
    assert.deepEqual(plan.map((t) => `${t.id} → ${t.hosts.join(',')}${t.skip ? ` (${t.skip})` : ''}`), [
      'smoke/omnios/linux → omni1,omni2', 'smoke/mixed/linux → bsd1,omni3',
      'wrlock/omnios/linux → omni1,omni2', 'wrlock/mixed/linux → omni3',
    ]);
    const one = planTests(config, suites, { suites: ['wrlock'], host: 'omni2', repeatEach: 1 });
    assert.deepEqual(one.map((t) => `${t.id} → ${t.hosts}`), ['wrlock/omni2/linux → omni2']);
    assert.match(planTests(config, suites, { suites: ['wrlock'], host: 'bsd1', repeatEach: 1 })[0].skip!, /host bsd1 \(freebsd\) has no wrlock capability/);
  });

  it('interleaves A/B tests, alternating which host goes first', () => {
    const plan = planTests(config, suites, { suites: ['smoke'], ab: ['omni1', 'omni2'], repeatEach: 3 });
    assert.deepEqual(plan.map((t) => t.id), [
      'smoke/omni1/linux#0', 'smoke/omni2/linux#0', 'smoke/omni2/linux#1', 'smoke/omni1/linux#1', 'smoke/omni1/linux#2', 'smoke/omni2/linux#2',
    ]);
    assert.throws(() => planTests(config, suites, { suites: [], ab: ['omni1', 'omni1'], repeatEach: 1 }), /--ab: compare two different hosts/);
    assert.throws(() => planTests(config, suites, { suites: [], ab: ['omni1', 'nope'], repeatEach: 1 }), /--ab: unknown host or pool "nope"/);
  });

  it('numbers further gate iterations on from the first repeat', () => {
    assert.deepEqual(planTests(config, suites, { suites: ['smoke'], host: 'omni1', repeatEach: 2, firstRepeat: 2 }).map((t) => t.id), ['smoke/omni1/linux#2', 'smoke/omni1/linux#3']);
  });
});

describe('host slots', () => {
  it('places tests on the freest capable host, and gives a measurement a whole idle host', async () => {
    const slots = new HostSlots(new Map([['a', 2], ['b', 1]]));
    assert.equal(await slots.acquire(['a', 'b']), 'a');
    assert.equal(await slots.acquire(['a', 'b']), 'b');
    let exclusiveOn: string | undefined;
    const waiting = slots.acquire(['a', 'b'], true).then((h) => (exclusiveOn = h));
    await new Promise((r) => setImmediate(r));
    assert.equal(exclusiveOn, undefined, 'no host is idle yet');
    slots.release('b');
    await waiting;
    assert.equal(exclusiveOn, 'b');
    assert.equal(await Promise.race([slots.acquire(['b']), new Promise((r) => setTimeout(() => r('busy'), 20))]), 'busy');
  });
});

describe('known issues', () => {
  const issues = validate({ ...BUILTIN_CONFIG, knownIssues: [
    { id: 'illumos#16037', pattern: 'vm_handle_rendezvous', summary: 'vCPU stuck in rendezvous during wrlock', in: ['evidence'] },
    { id: 'lab#1', pattern: 'blocked for \\d+ ms' },
  ] }, 'c').knownIssues;
  const dir = mkdtempSync(join(tmpdir(), 'bsm-triage-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const pstack = join(dir, 'pstack.txt');
  writeFileSync(pstack, '$ pstack 1234\n 0000 vm_handle_rendezvous+0x42()\n 0001 vm_run+0x1a\n');
  const failed = result('wrlock-reboot/lab/linux', {
    status: 'failed', checks: [{ name: 'no hang', status: 'failed', message: 'write-lock cycle 9 blocked for 2100 ms', durationMs: 0 }],
    attachments: [{ name: 'pstack', path: pstack }],
  });

  it('labels a failure with every signature it carries, and where it matched', () => {
    assert.deepEqual(triage(failed, issues), [
      { id: 'illumos#16037', summary: 'vCPU stuck in rendezvous during wrlock', where: 'pstack', line: '0000 vm_handle_rendezvous+0x42()' },
      { id: 'lab#1', where: 'messages', line: 'write-lock cycle 9 blocked for 2100 ms' },
    ]);
    const xml = buildJunit(runOf('r', [{ ...failed, known: triage(failed, issues) }]));
    assert.match(xml, /<failure message="known: illumos#16037, lab#1 — write-lock cycle 9 blocked for 2100 ms"/);
    assert.match(xml, /<property name="bhyve-smoke.known" value="illumos#16037, lab#1"\/>/);
  });

  it('leaves passed tests alone, and looks only where told', () => {
    assert.deepEqual(triage({ ...failed, status: 'passed' }, issues), []);
    assert.deepEqual(triage({ ...failed, attachments: [] }, issues).map((k) => k.id), ['lab#1']);
  });

  it('refuses a signature that is not a regular expression', () => {
    assert.throws(() => validate({ ...BUILTIN_CONFIG, knownIssues: [{ id: 'x', pattern: 'vm_(run' }] }, 'c'), /knownIssues\.0\.pattern: not a valid regular expression: "vm_\(run"/);
  });
});
