// The lock-change gate across boot environments of one lab host: the lab's
// beadm makes the builds (a clean baseline, a candidate whose vmm holds every
// write-lock cycle 10 ms, one whose kernel panics under the write lock), its reboot
// switches between them. The gate boots A B B A, runs the tests of each boot,
// compares the candidate's boots with the baseline's, and leaves the host on
// the boot environment it ran when it began — after a failure or Ctrl-C too.
//
// Two boots a side of two tests of the 10-second hard-dose suite, every test
// a sample (gate.bootUnit: test, as calibration across the lab's reboots
// allows) at p < 0.05: the mechanism in CI's time. The gate's power and false
// alarms with boots as the unit are `npm run bench -- gate-boots`'s — a clean
// candidate against a clean baseline among them (1.2% of 500 A/A draws failed):
// the pass of a clean build is measured there, not run here again.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { BUILTIN_CONFIG } from '../../../harness/config/defaults.ts';
import type { RunResult } from '../../../harness/report/results.ts';
import { inSandbox, runIdsIn } from '../../helpers/cli.ts';
import { LAB_BIN } from '../../helpers/lab.ts';

const SUITE = resolve(import.meta.dirname, '../../suites/hard-dose.mts');
const json = <T = RunResult>(path: string): T => JSON.parse(readFileSync(path, 'utf8'));
const root = mkdtempSync(join(tmpdir(), 'bl-be-'));
const env = { BHYVE_LAB_RUNDIR: root };
const beadm = (...args: string[]) => execFileSync(join(LAB_BIN, 'beadm'), args, { env: { ...process.env, ...env }, encoding: 'utf8' });
/** `NAME:FLAGS` of every boot environment, as beadm list -H says. */
const bes = () => beadm('list', '-H').trim().split('\n').map((l) => { const f = l.split(';'); return `${f[0]}:${f[2]}`; }).sort();
const config = stringify({
  ...BUILTIN_CONFIG,
  hosts: { lab: { transport: 'local', platform: 'lab', capacity: 1 } },
  gate: {
    significance: 0.05, familyWise: 'none', bootUnit: 'test',
    ignore: ['boot-time', 'wrlock-cycle-p99'].map((metric) => ({ metric, reason: 'not what this test is about' })),
  },
});

describe('the gate across boot environments, on the lab', { timeout: 1_500_000 }, () => {
  before(() => {
    beadm('create', '-o', 'bhyve-lab:stamp=lab-2026.12.1', 'base');
    beadm('create', '-o', 'bhyve-lab:stamp=lab-2026.12.2', '-o', 'bhyve-lab:faults=slow-wrlock=10', 'slow');
    beadm('create', '-o', 'bhyve-lab:stamp=lab-2026.12.3', 'clean');
  });
  after(() => {
    execFileSync(join(LAB_BIN, 'lab-host-reset'), { env: { ...process.env, ...env } });
    rmSync(root, { recursive: true, force: true });
  });
  const run = (box: Awaited<Parameters<Parameters<typeof inSandbox>[0]>[0]>, args: string[], timeout = 600_000) =>
    box.run(['gate', SUITE, '--host', 'lab', '--boots', '2', '--runs-per-boot', '2', '--output', 'out', ...args], { env: { ...box.env, ...env }, timeout });

  it('a candidate whose vmm holds every write-lock cycle 10 ms is REGRESSED (exit 1): its hard-dose throughput flagged, each result naming its build and boot; the host ends on its first boot environment', async () => {
    await inSandbox(async (box) => {
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), config);
      const before = bes();
      const r = await run(box, ['--baseline-be', 'base', '--candidate-be', 'slow', '--history', 'store']);
      assert.equal(r.exitCode, 1, `${r.stdout}${r.stderr}`);
      assert.match(String(r.stdout), /^REGRESSED\s+hard-dose · linux · throughput · hard · host-to-guest\s+4\/4 /m);
      assert.match(String(r.stdout), /^builds: base lab-2026\.12\.1 · vmm [0-9a-f]{12}; slow lab-2026\.12\.2 · vmm [0-9a-f]{12} · faults slow-wrlock=10$/m);
      assert.match(String(r.stdout), /^host lab runs lab, as when the gate began \(booted lab again\)$/m);
      assert.deepEqual(bes(), before, 'the host ends on the boot environment it ran, and boots it next');
      const all = json(join(box.dir, 'out/results.json'));
      assert.deepEqual(all.boots!.map((b) => `${b.be}:${b.side}`), ['base:baseline', 'slow:candidate', 'slow:candidate', 'base:baseline'], 'A B B A');
      assert.equal(new Set(all.boots!.map((b) => b.bootId)).size, 4, 'four boots, four boot ids');
      assert.deepEqual(all.tests.map((t) => `${t.boot}:${t.build?.split(' · ')[0]}`), ['0:lab-2026.12.1', '0:lab-2026.12.1', '1:lab-2026.12.2', '1:lab-2026.12.2', '2:lab-2026.12.2', '2:lab-2026.12.2', '3:lab-2026.12.1', '3:lab-2026.12.1']);
      assert.deepEqual(all.hosts.find((h) => h.name === 'lab')!.builds!.map((b) => b.platform), ['lab-2026.12.1', 'lab-2026.12.2']);
      const junit = readFileSync(join(box.dir, 'out/junit.xml'), 'utf8');
      assert.match(junit, /<property name="bhyve-smoke.build" value="lab-2026\.12\.2 · vmm [0-9a-f]{12} · faults slow-wrlock=10"\/>/);
      assert.match(junit, /<property name="bhyve-smoke.boot" value="2 \(slow, candidate, boot id [0-9a-f-]{36}\)"\/>/);
      const report = readFileSync(join(box.dir, 'out/report.html'), 'utf8');
      assert.match(report, /<tr class="regressed" data-series="hard-dose · linux · throughput · hard · host-to-guest"/);
      for (const n of [1, 2, 3, 4]) assert.match(report, new RegExp(`<span class="boot (baseline|candidate)" data-boot="${n}"`), `boot ${n} on the time line`);
      assert.match(report, /<tr data-boot="2"><td class="num">2<\/td><td>slow<\/td><td>candidate<\/td><td class="mono">lab-2026\.12\.2 · vmm/);
      assert.match(report, /data-build="lab-2026\.12\.1 · vmm [0-9a-f]{12}"/);
      // The history store keeps the builds with the run.
      const stored = readFileSync(join(box.dir, 'store', (await import('node:fs')).readdirSync(join(box.dir, 'store'))[0]), 'utf8');
      assert.match(stored, /"build":"lab-2026\.12\.2 · vmm [0-9a-f]{12} · faults slow-wrlock=10"/);
    });
  });

  it('a candidate whose kernel panics under the write lock fails the gate (exit 1), the panic named in the verdict; both sides\' exposure printed; the host ends on its first boot environment', async () => {
    await inSandbox(async (box) => {
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), config);
      beadm('create', '-o', 'bhyve-lab:stamp=lab-2026.12.4', '-o', 'bhyve-lab:faults=panic-at-wrlock=20', 'panicky');
      const before = bes();
      const r = await run(box, ['--baseline-be', 'base', '--candidate-be', 'panicky']);
      assert.equal(r.exitCode, 1, `${r.stdout}${r.stderr}`);
      assert.match(String(r.stdout), /^HOST DIED  hard-dose\/lab\/linux#2 on lab: host lab rebooted under the test \(boot id \S+ → \S+, noticed at \S+\): panic: bad pending MMIO state — in vmm:vmm_zsd_key\+37dddca1$/m);
      assert.match(String(r.stdout), /^verdict: FAIL — the candidate's host lab rebooted under the test [^\n]*: panic: bad pending MMIO state — in vmm:vmm_zsd_key\+37dddca1; /m);
      assert.match(String(r.stdout), /^exposure   base: 4 tests, [\d,]+ write-lock cycles, 0 guest reboots, [\d.]+ vm-hours; hangs 0 \(< [\d.,]+ per million write-lock cycles at 95%\); host deaths 0 \(< [\d.,]+ per vm-hour at 95%\)$/m);
      assert.match(String(r.stdout), /^exposure   panicky: 4 tests, [\d,]+ write-lock cycles, 0 guest reboots, [\d.]+ vm-hours; hangs 0 [^\n]*; host deaths 4 /m);
      assert.deepEqual(bes(), before);
    });
  });

  it('one build on both sides is no gate: the same boot environment is refused before anything boots (exit 2), two of one build once they boot (exit 4); the host ends where it began', async () => {
    await inSandbox(async (box) => {
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), config);
      const same = await run(box, ['--baseline-be', 'base', '--candidate-be', 'base']);
      assert.equal(same.exitCode, 2);
      assert.match(String(same.stderr), /--baseline-be and --candidate-be are both base: the same build on both sides is an A\/A comparison, not a gate \(--aa runs it as one\)/);
      beadm('create', '-o', 'bhyve-lab:stamp=lab-2026.12.1', 'twin');
      const before = bes();
      const twin = await run(box, ['--baseline-be', 'base', '--candidate-be', 'twin']);
      assert.equal(twin.exitCode, 4, `${twin.stdout}${twin.stderr}`);
      assert.match(String(twin.stderr), /the gate has no verdict: boot environments base and twin run the same build \(lab-2026\.12\.1 · vmm [0-9a-f]{12}\): that is an A\/A comparison, not a gate/);
      assert.deepEqual(bes(), before);
      assert.ok(existsSync(join(box.dir, 'out/results.json')), 'the reports are written');
    });
  });

  it('a boot environment that will not activate, and a host that does not come back in time: exit 3 naming host, boot environment and what it saw; neither counts for a side; the host ends on its first boot environment', async () => {
    await inSandbox(async (box) => {
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), config);
      beadm('create', '-o', 'bhyve-lab:activate=fails', 'broken');
      beadm('create', '-o', 'bhyve-lab:boot-seconds=12', '-o', 'bhyve-lab:stamp=lab-slowboot', 'slowboot');
      const before = bes();
      const refused = await run(box, ['--baseline-be', 'broken', '--candidate-be', 'clean']);
      assert.equal(refused.exitCode, 3, `${refused.stdout}${refused.stderr}`);
      assert.match(String(refused.stderr), /host lab: `\S*beadm'? activate broken` exited 203: boot environment broken was not activated:\nUnable to activate broken\./);
      assert.deepEqual(json(join(box.dir, 'out/results.json')).boots, [], 'nothing was counted');
      assert.deepEqual(bes(), before);

      const away = await run(box, ['--baseline-be', 'slowboot', '--candidate-be', 'clean', '--reboot-timeout', '5s']);
      assert.equal(away.exitCode, 3, `${away.stdout}${away.stderr}`);
      assert.match(String(away.stderr), /host lab did not come back within 5\.0s of its reboot; the last it answered: boot id [0-9a-f-]{36} \(the old boot\)|host lab did not come back within 5\.0s of its reboot; the last it answered: boot id [0-9a-f-]{36}, at /);
      assert.match(String(away.stdout), /^host lab runs lab, as when the gate began \(booted lab again\)$/m, 'once back, it boots its first boot environment again');
      assert.deepEqual(bes(), before);
      assert.match(json(join(box.dir, 'out/results.json')).interrupted ?? '', /the gate stopped after 0 boot\(s\) of 4: host lab did not come back/);
    });
  });

  it('Ctrl-C in the middle of a boot\'s tests: exit 130, the reports written, the host back on its first boot environment', async () => {
    await inSandbox(async (box) => {
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), config);
      const before = bes();
      const child = run(box, ['--baseline-be', 'base', '--candidate-be', 'clean']);
      // The first boot's first test has its vm.
      for (let i = 0; i < 300 && !runIdsIn(box.dir).length; i++) await sleep(200);
      await sleep(4_000);
      child.kill('SIGINT');
      const r = await child;
      assert.equal(r.exitCode, 130, `${r.stdout}${r.stderr}`);
      assert.ok(existsSync(join(box.dir, 'out/results.json')));
      assert.match(json(join(box.dir, 'out/results.json')).interrupted ?? '', /SIGINT/);
      assert.deepEqual(bes(), before);
    });
  });
});
