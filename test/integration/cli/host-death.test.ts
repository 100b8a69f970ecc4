// A host that dies under its tests, on the lab: a panic in the middle of
// wrlock-iperf is a failed `host survived` with the panic string and its vmm
// frame in every report, never retried into a pass, and stops a soak at its
// first failure (-x); a host that stops answering past the limit is a finding
// naming its last answer; one that drops ssh for a moment is none.
//
// Each test has a lab run root of its own (a panic ends every vm of its lab
// host); the unresponsive and dropped hosts are reached over the tests'
// loopback sshd, which the lab stops while it does not answer.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { BUILTIN_CONFIG } from '../../../harness/config/defaults.ts';
import type { RunResult } from '../../../harness/report/results.ts';
import { inSandbox, runIdsIn } from '../../helpers/cli.ts';
import { LAB_BIN, labRunRoot } from '../../helpers/lab.ts';
import { startSshd } from '../../helpers/sshd.ts';

const HARD_DOSE = resolve(import.meta.dirname, '../../suites/hard-dose.mts');
const json = (path: string): RunResult => JSON.parse(readFileSync(path, 'utf8'));
const vmsIn = (root: string) => (existsSync(join(root, 'vmm')) ? readdirSync(join(root, 'vmm')) : []);

describe('a host that dies under its tests', { timeout: 900_000 }, () => {
  it('panics in the middle of wrlock-iperf: exit 1, `host survived` failed with the panic and its vmm frame in results, JUnit and the report; not retried; -x starts nothing more; nothing left', async () => {
    const lab = labRunRoot();
    try {
      await inSandbox(async (box) => {
        writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), stringify({
          ...BUILTIN_CONFIG,
          // The light dose takes 40 cycles in its 4 s: the 60th is in the hard dose, with iperf3 running.
          hosts: { lab: { transport: 'local', platform: 'lab', capacity: 1, labFaults: 'panic-at-wrlock=60' } },
          stress: { iperfPhase: '4s' },
        }));
        const r = await box.run(['run', 'wrlock-iperf', '--retries', '2', '--repeat-each', '3', '-x', '--output', 'out'], { env: { ...box.env, ...lab.env }, timeout: 600_000 });
        assert.equal(r.exitCode, 1, `${r.stdout}${r.stderr}`);
        const run = json(join(box.dir, 'out/results.json'));
        assert.equal(run.tests.length, 1, 'the first failure ends the soak');
        assert.deepEqual(run.stopped, { reason: '--max-failures 1 reached', notStarted: 2 });
        const [t] = run.tests;
        assert.equal(t.status, 'failed');
        assert.equal(t.attempts.length, 1, 'a host death is never retried');
        const survived = t.checks.find((c) => c.name === 'host survived');
        assert.equal(survived?.status, 'failed');
        assert.match(survived!.measured!, /^host lab rebooted under the test \(boot id \S+ → \S+, noticed at \S+\): panic: bad pending MMIO state — in vmm:vmm_zsd_key\+37dddca1$/);
        assert.equal(t.checks.some((c) => c.name === 'no hang'), false, 'the vm did not hang: its host died');
        assert.equal(t.hostDeath?.kind, 'rebooted');
        assert.equal(t.hostDeath?.crash?.panic, 'bad pending MMIO state');
        assert.deepEqual(t.hostDeath?.crash?.stack?.slice(0, 3), ['vmm:vmm_zsd_key+37dddca1', 'vmm:vm_handle_mmio_emul+150', 'vmm:vm_run+43a']);
        assert.match(JSON.stringify(t.hostDeath?.crash?.dump), /savecore saved no dump/);
        const record = t.attachments.find((a) => a.name === `crash-fmdump-${t.hostDeath!.crash!.record}.txt`);
        assert.match(readFileSync(record!.path, 'utf8'), /class = defect\.sunos\.kernel\.panic/);
        assert.ok(t.attachments.some((a) => a.name === 'crash-dumpadm.txt'));
        assert.ok(t.exposure!.wrlockCycles >= 59 && t.exposure!.vmSeconds > 0, JSON.stringify(t.exposure));
        assert.match(String(r.stdout), /^FAIL wrlock-iperf\/lab\/linux#0 \(\S+\) — failed: [^\n]*host survived[^\n]*— host lab rebooted under the test/m);
        assert.match(String(r.stdout), /^note host lab came back on boot \S+ and passed its health check/m);
        assert.match(String(r.stdout), /stopped \(--max-failures 1 reached; 2 planned tests not started\)/);
        const junit = readFileSync(join(box.dir, 'out/junit.xml'), 'utf8');
        assert.match(junit, /<testcase [^>]*name="host survived"[^>]*>[\s\S]*?<failure message="host lab rebooted under the test [^"]*panic: bad pending MMIO state — in vmm:vmm_zsd_key\+37dddca1" type="HostDied">/);
        assert.match(junit, /panic stack \([0-9a-f-]{36}\):\n  vmm:vmm_zsd_key\+37dddca1\n  vmm:vm_handle_mmio_emul\+150\n/);
        assert.match(junit, /<property name="bhyve-smoke.host-died" value="host lab rebooted under the test/);
        const report = readFileSync(join(box.dir, 'out/report.html'), 'utf8');
        assert.match(report, /data-host-death="rebooted">host lab rebooted under the test [^<]*panic: bad pending MMIO state/);
        // Nothing left behind: the panic ended the vm, teardown found nothing, the run record is gone.
        assert.deepEqual(vmsIn(lab.root), []);
        assert.deepEqual(runIdsIn(box.dir), []);
      });
    } finally {
      lab.cleanup();
    }
  });

  it('stops answering past the limit: a finding naming its last answer; a moment\'s silence on the same boot is a dropped connection, no finding', async () => {
    const lab = labRunRoot();
    const sshd = await startSshd({ labRunRoot: lab.root });
    try {
      await inSandbox(async (box) => {
        const config = (faults: string) => stringify({
          ...BUILTIN_CONFIG,
          hosts: { lab: { transport: 'ssh', ssh: `root@127.0.0.1:${sshd.port}`, knownHosts: sshd.knownHosts, identityFile: sshd.identityFile, platform: 'lab', capacity: 1, labFaults: faults } },
          thresholds: { ...BUILTIN_CONFIG.thresholds, hostUnresponsive: '8s', hostReturn: '60s' },
        });
        const env = { ...box.env, ...lab.env };
        writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), config('host-hang=20@20'));
        const hung = await box.run(['run', HARD_DOSE, '--retries', '1', '--output', 'hung'], { env, timeout: 300_000 });
        assert.equal(hung.exitCode, 1, `${hung.stdout}${hung.stderr}`);
        const t = json(join(box.dir, 'hung/results.json')).tests[0];
        assert.equal(t.attempts.length, 1);
        assert.equal(t.hostDeath?.kind, 'unresponsive');
        assert.match(t.checks.find((c) => c.name === 'host survived')!.measured!,
          /^host lab stopped answering \(no answer for more than 8 s, noticed at \S+; its last answer: boot id \S+ at \S+\); it answered again at \S+ on the same boot$/);
        assert.deepEqual(vmsIn(lab.root), [], 'torn down once it answered again');

        // The lab's hang comes once a boot: reset it, as a reboot would, for the next run's.
        writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), config('host-hang=4@20'));
        execFileSync(join(LAB_BIN, 'lab-host-reset'), { env: { ...process.env, ...lab.env } });
        const again = await box.run(['run', HARD_DOSE, '--retries', '1', '--output', 'dropped'], { env, timeout: 300_000 });
        const d = json(join(box.dir, 'dropped/results.json')).tests[0];
        assert.equal(d.hostDeath, undefined, `${again.stdout}${again.stderr}`);
        assert.equal(d.checks.some((c) => c.name === 'host survived'), false);
        assert.match(String(again.stdout), /^note host lab did not answer for \d+ s, then answered on the same boot: a dropped connection, not a finding$/m);
        // Its sessions went with the drop: an infrastructure error, retried; the retry's vm meets no drop.
        assert.ok(['passed', 'flaky'].includes(d.status), `${d.status}: ${again.stdout}`);
        assert.equal(again.exitCode, 0, `${again.stdout}${again.stderr}`);
      });
    } finally {
      await sshd.stop();
      lab.cleanup();
    }
  });
});
