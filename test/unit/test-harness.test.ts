// The tests' own machinery must fail where it cannot tell: a test file that
// ran no test fails the run (test/run.sh, test/tests-ran.mjs), an empty pid
// file is no process id, and a pgrep that cannot run is not "no process left".
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkedPid, isAlive, LAB_BIN, labVmNames, pgrep, readPid } from '../helpers/lab.ts';
import { inSandbox } from '../helpers/cli.ts';
import { BUILTIN_CONFIG } from '../../harness/config/defaults.ts';
import { validate } from '../../harness/config/load.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'bsm-tests-ran-'));
/** A runner of its own, not a child of this one (node:test hands NODE_TEST_CONTEXT down, which changes what a child reports). */
const { NODE_TEST_CONTEXT: _, ...env } = process.env;
after(() => rmSync(dir, { recursive: true, force: true }));

describe('the test command', () => {
  it('fails naming each file that ran no test: empty, a describe with no it, only it.skip; passes one that ran a test', () => {
    const files = {
      'empty.test.mjs': '',
      'no-it.test.mjs': "import { describe } from 'node:test';\ndescribe('nothing inside', () => {});\n",
      'skipped.test.mjs': "import { it } from 'node:test';\nit.skip('later', () => {});\nit.todo('one day');\n",
      'real.test.mjs': "import { describe, it } from 'node:test';\ndescribe('d', () => { it('runs', () => {}); });\n",
    };
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const paths = Object.keys(files).map((f) => join(dir, f));
    const ran = join(dir, 'ran.jsonl');
    // The runner as test/run.sh starts it: its summary counts four "tests" (one a file) and passes.
    const runner = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-reporter-destination=stdout', `--test-reporter=${join(ROOT, 'test/tests-ran.mjs')}`, `--test-reporter-destination=${ran}`, ...paths], { encoding: 'utf8', cwd: dir, env });
    assert.equal(runner.status, 0, runner.stdout + runner.stderr);
    assert.match(runner.stdout, /^ℹ tests [4-9]/m, 'the summary alone would say tests ran');
    assert.deepEqual(readFileSync(ran, 'utf8').trim().split('\n').map((l) => { const { name, outcome } = JSON.parse(l); return `${name}: ${outcome}`; }).sort(), ['later: skipped', 'one day: todo', 'runs: passed']);
    const check = spawnSync(process.execPath, [join(ROOT, 'test/tests-ran.mjs'), ran, ...paths], { encoding: 'utf8', cwd: dir });
    assert.equal(check.status, 1);
    assert.deepEqual(check.stderr.trim().split('\n'), ['empty.test.mjs', 'no-it.test.mjs', 'skipped.test.mjs'].map((f) => `test/run.sh: ${f}: no test ran and passed in it`));
    assert.match(check.stdout, /^tests ran: 1 passed, 0 failed, 1 skipped, 1 todo, in 4 files$/m);
    const one = spawnSync(process.execPath, [join(ROOT, 'test/tests-ran.mjs'), ran, join(dir, 'real.test.mjs')], { encoding: 'utf8', cwd: dir });
    assert.equal(one.status, 0, one.stderr);
  });

  it('test/run.sh fails on a file that ran no test, though node passed it', () => {
    const r = spawnSync('sh', [join(ROOT, 'test/run.sh'), join(dir, 'no-it.test.mjs'), join(dir, 'real.test.mjs')], { encoding: 'utf8', cwd: ROOT, env });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /no-it\.test\.mjs: no test ran and passed in it/);
  });
});

describe('process ids and pgrep in the tests', () => {
  it('an empty or garbled pid file is no process id (kill(0) would signal the runner\'s own group)', () => {
    for (const text of ['', '\n', 'x', '0', '1', '-5', '12.5']) {
      writeFileSync(join(dir, 'pid'), text);
      assert.throws(() => readPid(join(dir, 'pid')), /not a process id: .*pid holds/, JSON.stringify(text));
    }
    writeFileSync(join(dir, 'pid'), `${process.pid}\n`);
    assert.equal(readPid(join(dir, 'pid')), process.pid);
    assert.throws(() => isAlive(Number.NaN), /not a process id/);
    assert.throws(() => checkedPid(0, 'zero'), /not a process id: zero/);
    assert.equal(isAlive(process.pid), true);
  });

  it('pgrep: a match, none, and a pgrep that cannot run (an error, never "none")', async () => {
    assert.match(await pgrep(`${process.pid}-no-such-process-${Date.now()}-x`), /^$/);
    const marker = `bsm-pgrep-${Date.now()}`;
    const sleeper = execFileSync('bash', ['-c', `exec -a ${marker} sleep 30 >/dev/null 2>&1 & echo $!`], { encoding: 'utf8' }).trim();
    try {
      assert.match(await pgrep(marker), new RegExp(`^${sleeper} ${marker}`));
    } finally {
      process.kill(checkedPid(Number(sleeper), sleeper), 'SIGKILL');
    }
    const path = process.env.PATH;
    process.env.PATH = dir; // no pgrep here
    try {
      await assert.rejects(pgrep('anything'), /pgrep -af anything could not tell/);
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('a sandbox of the CLI', () => {
  it('a test body that fails midway leaves no vm behind: its dead runs\' vms are cleaned before its state goes', async () => {
    const runId = `t${Date.now().toString(36).slice(-7)}`;
    const vm = `bsm-${runId}-1`;
    await assert.rejects(inSandbox(async (box) => {
      // A run that died with its vm still there (a kept vm, a run killed midway): its record, and the vm on the lab host.
      const lab = validate(BUILTIN_CONFIG, 'built-in').hosts.lab;
      mkdirSync(box.env.BHYVE_SMOKE_STATE, { recursive: true });
      writeFileSync(join(box.env.BHYVE_SMOKE_STATE, `${runId}.json`), JSON.stringify({ runId, pid: 2 ** 22 + 1, startedAt: new Date().toISOString(), prefix: 'bsm', hosts: { lab: { config: lab, runDir: `/tmp/bhyve-smoke/${runId}` } } }));
      execFileSync(join(LAB_BIN, 'bhyvectl'), [`--vm=${vm}`, '--create']);
      assert.ok(labVmNames().includes(vm));
      throw new Error('the test failed midway');
    }), /the test failed midway/);
    assert.equal(labVmNames().includes(vm), false, `${vm} was left on the lab host`);
  });
});
