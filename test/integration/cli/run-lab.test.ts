// `bhyve-smoke run smoke` on the built-in lab, as a new user runs it: it passes,
// writes valid reports, and leaves no vm, process or folder behind — also when
// interrupted with Ctrl-C.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { validateXML } from 'xmllint-wasm';
import { runIdsIn, waitForRunVm, inSandbox } from '../../helpers/cli.ts';
import { LAB_BIN, LAB_PASSWORD, LAB_RUN_ROOT, labVmNames, pgrep } from '../../helpers/lab.ts';
import { buildJunit } from '../../../harness/report/junit.ts';
import type { RunResult } from '../../../harness/report/results.ts';

const labVms = () => labVmNames().filter((n) => n.startsWith('bsm-'));
const qemusOf = (runId: string) => pgrep(`bsm-${runId}-`);
/** The lab host's VNICs (its dladm's listing). */
const labVnics = async () => (await execa(join(LAB_BIN, 'dladm'), ['show-vnic', '-p', '-o', 'link'])).stdout.split('\n').filter(Boolean);

describe('bhyve-smoke run on the lab', { timeout: 600_000 }, () => {
  it('runs the smoke suite with no config, passes, writes valid JUnit and results.json, leaves nothing behind', async () => {
    await inSandbox(async (box) => {
      // The guest prints its password on the console after login (the lab's echo-password fault), as a login that echoes it would.
      const r = await box.run(['run', 'smoke', '--output', 'out'], { env: { ...box.env, BHYVE_LAB_FAULTS: 'echo-password' } });
      assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(String(r.stdout), /^ok {3}smoke\/lab\/linux/m);
      const results: RunResult = JSON.parse(readFileSync(join(box.dir, 'out/results.json'), 'utf8'));
      assert.equal(results.tests[0].status, 'passed');
      assert.ok(results.tests[0].checks.length >= 10, 'every check is recorded');
      assert.ok(results.tests[0].timeline.events.some((e) => e.kind === 'ready'));
      const xml = readFileSync(join(box.dir, 'out/junit.xml'), 'utf8');
      const xsd = readFileSync(resolve(import.meta.dirname, '../../../fixtures/junit/bhyve-smoke.xsd'), 'utf8');
      const v = await validateXML({ xml: [{ fileName: 'junit.xml', contents: xml }], schema: [{ fileName: 'junit.xsd', contents: xsd }] });
      assert.equal(v.valid, true, v.rawOutput);
      // The strict form of the same run, against the Jenkins xunit plugin's schema; attachments relative to where the run ran.
      const strict = await validateXML({ xml: [{ fileName: 'junit.xml', contents: buildJunit(results, { form: 'strict', attachmentsBase: box.dir }) }], schema: [{ fileName: 'junit-10.xsd', contents: readFileSync(resolve(import.meta.dirname, '../../../fixtures/junit/junit-10.xsd'), 'utf8') }] });
      assert.equal(strict.valid, true, strict.rawOutput);
      assert.match(xml, /\[\[ATTACHMENT\|out\/tests\/smoke_lab_linux\/console\.log\]\]/);
      // The console log too: the lab's busybox login can echo the password (see test/unit/console-framing.test.ts).
      const written = readdirSync(join(box.dir, 'out'), { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
      assert.ok(written.some((f) => f.name === 'console.log'), 'the console log is written');
      for (const f of written) assert.doesNotMatch(readFileSync(join(f.parentPath, f.name), 'latin1'), new RegExp(LAB_PASSWORD), `the guest password must not reach ${f.name}`);
      // ...because it was masked where the guest printed it, not because it never came.
      const consoleLog = written.find((f) => f.name === 'console.log')!;
      assert.match(readFileSync(join(consoleLog.parentPath, consoleLog.name), 'latin1'), /^lab: the password is \*{8}\r?$/m, 'the echo was there, masked');
      assert.match(results.tests[0].consoleTail ?? '', /lab: the password is \*{8}/);
      assert.doesNotMatch(`${r.stdout}${r.stderr}`, new RegExp(LAB_PASSWORD), 'the guest password must not reach the progress lines');
      assert.equal(await qemusOf(results.runId), '');
      assert.ok(!existsSync(`/tmp/bhyve-smoke/${results.runId}`));
      assert.deepEqual(labVms().filter((n) => n.includes(results.runId)), []);
      assert.deepEqual((await labVnics()).filter((n) => n.includes(results.runId)), [], 'the vm\'s VNIC is removed with it');
      assert.deepEqual(runIdsIn(box.dir), [], 'the run record is removed');
    });
  });

  it('runs two vms at once on one host, each on a VNIC of its own (a VNIC takes one bhyve), removed with them', async () => {
    await inSandbox(async (box) => {
      // The built-in lab host has capacity 2: both repeats run at once.
      const r = await box.run(['run', 'smoke', '--repeat-each', '2', '--output', 'out']);
      assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
      const results: RunResult = JSON.parse(readFileSync(join(box.dir, 'out/results.json'), 'utf8'));
      const spans = results.tests.map((t) => [Date.parse(t.startedAt), Date.parse(t.startedAt) + t.durationMs]);
      assert.ok(spans[0][0] < spans[1][1] && spans[1][0] < spans[0][1], 'the two tests did not run at once');
      const nics = results.tests.map((t) => /virtio-net-viona,(\S+)/.exec(t.timeline.events.find((e) => e.kind === 'started')?.detail ?? '')?.[1]);
      assert.deepEqual(nics, results.tests.map((t) => t.vm!.replace(/-/g, '_')), 'each vm gets the VNIC named after it');
      assert.notEqual(nics[0], nics[1]);
      assert.deepEqual((await labVnics()).filter((n) => n.includes(results.runId)), [], 'the VNICs are removed with their vms');
    });
  });

  it('a test that overruns --timeout is a finding: failed (exit 1) with the timeout as a failed check, and its vm torn down', async () => {
    await inSandbox(async (box) => {
      const r = await box.run(['run', 'smoke', '--timeout', '4s', '--retries', '1', '--output', 'out']);
      assert.equal(r.exitCode, 1, `${r.stdout}\n${r.stderr}`);
      const t = (JSON.parse(readFileSync(join(box.dir, 'out/results.json'), 'utf8')) as RunResult).tests[0];
      assert.deepEqual([t.status, t.error?.type, t.attempts.length], ['failed', 'Timeout', 1], 'failed, and never retried');
      const check = t.checks.find((c) => c.name === 'finishes within the test timeout');
      assert.deepEqual([check?.status, check?.measured], ['failed', 'still running after 4000 ms']);
      assert.match(readFileSync(join(box.dir, 'out/junit.xml'), 'utf8'), /<failure message="test did not finish within 4000 ms" type="Timeout"/);
      assert.ok(t.timeline.events.some((e) => e.kind === 'destroyed'));
      assert.deepEqual(labVms().filter((n) => n.includes(t.vm!)), []);
    });
  });

  it('Ctrl-C stops the run within seconds, writes the reports with the test aborted, and leaves no QEMU or folder', async () => {
    await inSandbox(async (box) => {
      const child = box.run(['run', 'smoke', '--output', 'out']);
      const { vm } = await waitForRunVm(box.dir, (d) => existsSync(`${d}/qemu.pid`));
      const interruptedAt = Date.now();
      child.kill('SIGINT');
      const r = await child;
      assert.ok(Date.now() - interruptedAt < 15_000, `took ${Date.now() - interruptedAt} ms to stop`);
      assert.equal(r.exitCode, 130, String(r.stderr));
      const results: RunResult = JSON.parse(readFileSync(join(box.dir, 'out/results.json'), 'utf8'));
      assert.match(results.interrupted ?? '', /SIGINT/);
      assert.equal(results.tests[0].status, 'error');
      assert.match(readFileSync(join(box.dir, 'out/junit.xml'), 'utf8'), /<error message="interrupted by SIGINT" type="Aborted"/);
      await sleep(500);
      assert.equal(await qemusOf(results.runId), '', 'a QEMU of the run survived');
      assert.ok(!existsSync(`${LAB_RUN_ROOT}/vmm/${vm}`), 'the vm survived');
      assert.ok(!existsSync(`/tmp/bhyve-smoke/${results.runId}`), 'the run folder survived');
      assert.deepEqual((await labVnics()).filter((n) => n.includes(results.runId)), [], 'the vm\'s VNIC survived');
    });
  });
});
