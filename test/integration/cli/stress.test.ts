// The stress path on the lab: a clean wrlock-reboot run passes; each injected
// fault is caught the way the harness promises — a deadlock as a hang with
// evidence while the rest of the run goes on, a vm frozen from outside as a
// hang within three heartbeat intervals, a boot hang as a failed ready check.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { BUILTIN_CONFIG } from '../../../harness/config/defaults.ts';
import type { RunResult } from '../../../harness/report/results.ts';
import { waitForRunVm, inSandbox } from '../../helpers/cli.ts';
import { labVmNames, readPid } from '../../helpers/lab.ts';

const config = (over: object = {}) => stringify({ ...BUILTIN_CONFIG, stress: { reboots: 2, upBetweenReboots: '2s', iperfPhase: '5s' }, ...over });
const results = (dir: string): RunResult => JSON.parse(readFileSync(join(dir, 'out/results.json'), 'utf8'));

describe('stress suites on the lab', { timeout: 900_000 }, () => {
  it('wrlock-reboot passes on a clean lab, with cycles, reboots and heartbeats recorded, its vCPU pinned', async () => {
    await inSandbox(async (box) => {
      // Pinned here, where only liveness is judged: on two host CPUs a pinned vCPU's throughput is noisier (docs/noise.md).
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), config({ guests: { linux: { ...BUILTIN_CONFIG.guests.linux, pinVcpus: [1] } } }));
      const r = await box.run(['run', 'wrlock-reboot', '--output', 'out']);
      assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
      const t = results(box.dir).tests[0];
      assert.ok(t.timeline.samples.filter((s) => s.series === 'wrlock.latency_ms').length > 50, 'too few write-lock cycles');
      assert.ok(t.timeline.samples.some((s) => s.series === 'heartbeat.uptime_s'), 'no heartbeat seen');
      assert.equal(t.timeline.events.filter((e) => e.kind === 'rebooted').length, 2);
      // Pinned as the guest asks, once its bhyve ran: said in the timeline and kept for calibrate.
      assert.equal(t.vcpusPinned, 'vcpu 0 cpu 1');
      assert.deepEqual(t.timeline.events.filter((e) => e.kind === 'vcpus-pinned').map((e) => e.detail), ['vcpu 0 cpu 1']);
    });
  });

  it('wrlock-iperf passes on a clean lab with every phase measured', async () => {
    await inSandbox(async (box) => {
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), config());
      const r = await box.run(['run', 'wrlock-iperf', '--output', 'out']);
      assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
      const t = results(box.dir).tests[0];
      for (const phase of ['unstressed', 'light', 'hard', 'recovery']) {
        assert.ok(t.timeline.events.some((e) => e.kind === 'iperf3-end' && e.detail?.startsWith(`${phase}: `)), `no ${phase} phase`);
      }
      assert.ok(t.timeline.samples.filter((s) => s.series === 'iperf3.mbps').length >= 16, 'too few iperf3 intervals');
      assert.match(t.checks.find((c) => c.name === 'throughput under the hard dose')?.measured ?? '', /Mbit\/s = \d+% of unstressed/);
      // What the gate compares: every phase's throughput, the dosed ones over unstressed, the cycle latency, the boot.
      assert.deepEqual([...new Set(t.metrics!.map((x) => `${x.metric}${x.dims.dose ? ` ${x.dims.dose}` : ''}`))].sort(), [
        'boot-time', 'throughput hard', 'throughput light', 'throughput recovery', 'throughput unstressed',
        'throughput-ratio hard', 'throughput-ratio light', 'wrlock-cycle-p50', 'wrlock-cycle-p99', 'wrlock-hold-p50', 'wrlock-hold-p99',
      ]);
      // The cycle as the lab's vmm timed it, beside the round trip, and which timing it is.
      assert.match(t.checks.find((c) => c.name === 'write-lock cycle in the kernel p99')?.measured ?? '', /^p50 \d+ µs, p99 .* cycles traced.* — in the lab's vmm: its bhyvectl's own clock/);
      const raw = t.attachments.find((a) => a.name === 'iperf3-hard.txt');
      assert.ok(raw && /^\$ iperf3 -c 127\.0\.0\.1 /.test(readFileSync(raw.path, 'utf8')), 'the raw iperf3 output of the hard phase is not attached');
    });
  });

  it('wrlock-iperf fails its recovery check when the write lock leaves throughput low after it stops (lingering-wrlock)', async () => {
    await inSandbox(async (box) => {
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), config({ hosts: { lab: { ...BUILTIN_CONFIG.hosts.lab, labFaults: 'lingering-wrlock=2' } } }));
      const r = await box.run(['run', 'wrlock-iperf', '--output', 'out']);
      assert.equal(r.exitCode, 1, `${r.stdout}\n${r.stderr}`);
      const t = results(box.dir).tests[0];
      const recovery = t.checks.find((c) => c.name === 'throughput recovers after the hammer stops');
      assert.equal(recovery?.status, 'failed', JSON.stringify(recovery));
      // Its packets held 2 ms at a time, the guest's network keeps about a quarter of its throughput: far under the level, not near it.
      const held = /median (?:of )?(\d+)% of unstressed/.exec(recovery!.measured ?? '');
      assert.ok(held && Number(held[1]) < 40, `recovery measured ${recovery!.measured}`);
      assert.equal(t.checks.find((c) => c.name === 'heartbeat gaps')?.status, 'passed', 'the vm runs on: a slow network, not a hung vm');
    });
  });

  it('update-under-wrlock applies the synthetic update under the hammer, reboots into it and names it synthetic', async () => {
    await inSandbox(async (box) => {
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), config());
      const r = await box.run(['run', 'update-under-wrlock', '--output', 'out']);
      assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
      const t = results(box.dir).tests[0];
      const measured = (name: string) => t.checks.find((c) => c.name === name)?.measured ?? '';
      assert.match(measured('lab-synthetic reports success'), /^synthetic update \(not a real OS update\): version 2, 9 checksums verified, 8 MiB written and synced$/);
      assert.match(measured('the updated system is running'), /version 2 recorded; payload read back intact/);
      assert.ok(t.timeline.events.some((e) => e.kind === 'os-update-start' && /synthetic, not a real OS update/.test(e.detail ?? '')));
      // The update ran while the hammer did, and the reboot came after it.
      const cycles = t.timeline.samples.filter((s) => s.series === 'wrlock.latency_ms').map((s) => s.t);
      const start = t.timeline.events.find((e) => e.kind === 'os-update-start')!.t;
      const end = t.timeline.events.find((e) => e.kind === 'os-update-end')!.t;
      assert.ok(cycles.filter((c) => c > start && c < end).length > 10, 'the hammer was not running during the update');
      assert.ok(t.timeline.events.some((e) => e.kind === 'rebooted' && e.t > end));
      assert.ok(t.timeline.samples.some((s) => s.series === 'vcpu0.progress'), 'no vCPU progress sampled');
      const output = t.attachments.find((a) => a.name === 'os-update.txt');
      assert.match(readFileSync(output!.path, 'utf8'), /payload\/part-07\.bin: OK/);
    });
  });

  it('slow-wrlock: wrlock-iperf fails on its throughput check, not as a hang', async () => {
    await inSandbox(async (box) => {
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), config());
      const r = await box.run(['run', 'wrlock-iperf', '--output', 'out'], { env: { ...box.env, BHYVE_LAB_FAULTS: 'slow-wrlock=200' } });
      assert.equal(r.exitCode, 1, `${r.stdout}\n${r.stderr}`);
      const t = results(box.dir).tests[0];
      assert.equal(t.error, undefined, 'a slow write lock is a throughput finding, not a hang');
      assert.equal(t.checks.find((c) => c.name === 'throughput under the hard dose')?.status, 'failed');
      assert.match(t.checks.find((c) => c.name === 'write-lock cycle latency p99')?.measured ?? '', /p50 2\d\dms/);
    });
  });

  it('deadlock-on-reboot: a hang with evidence; the wedged vm is left alone, its host quarantined and the rest of the run goes on; clean reports it, not hangs on it', async () => {
    await inSandbox(async (box) => {
      // Two lab hosts: one whose vms' write lock wedges on a reboot, one clean.
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), config({
        hosts: { bad: { transport: 'local', platform: 'lab', capacity: 1, labFaults: 'deadlock-on-reboot' }, good: { transport: 'local', platform: 'lab', capacity: 1 } },
      }));
      try {
        // wrlock-reboot hangs on bad; smoke on bad waits for its slot, smoke on good runs beside.
        const r = await box.run(['run', 'wrlock-reboot', 'smoke', '--grep', '^wrlock-reboot/bad/|^smoke/', '--output', 'out']);
        assert.equal(r.exitCode, 1, `${r.stdout}\n${r.stderr}`);
        const run = results(box.dir);
        const byId = new Map(run.tests.map((t) => [t.id, t]));
        const stress = byId.get('wrlock-reboot/bad/linux')!;
        assert.equal(stress.status, 'failed');
        assert.equal(stress.error?.type, 'HangDetected');
        const hang = stress.checks.find((c) => c.name === 'no hang');
        assert.match(hang?.message ?? '', /write-lock cycle \d+ on bsm-\S+ blocked for \d+ ms \(deadline 2000 ms\)/);
        const blockedMs = Number(/blocked for (\d+) ms/.exec(hang!.message!)![1]);
        assert.ok(blockedMs < 2000 + 1000, `detected after ${blockedMs} ms`);
        // The harness saw it, from its own watch: a cycle it started that did not come back (the lab's own note of the
        // fault is in the vm's bhyve log, which nothing of the harness reads).
        assert.deepEqual(stress.timeline.events.filter((e) => e.kind === 'hang-detected').map((e) => e.detail?.split(':')[0]), ['wrlock']);
        assert.doesNotMatch(hang!.message!, /fault|deadlock-on-reboot/, 'the finding is the harness\'s observation, not the lab\'s word');
        // Each piece of evidence holds what it is named for.
        const evidence = (name: string) => {
          const a = stress.attachments.find((x) => x.name === name);
          assert.ok(a && existsSync(a.path), `evidence ${name} missing`);
          return readFileSync(a.path, 'utf8');
        };
        assert.match(evidence('pstack'), /^Thread \d+ \(Thread 0x[0-9a-f]+ \(LWP \d+\) "CPU 0\/(TCG|KVM)"\):\n#0 /m, 'the vCPU thread\'s stack');
        assert.match(evidence('bhyvectl-stats'), /^vcpu0 stats:\n.{40}\t\d+$/m, 'the vCPU counters');
        const cycle = /write-lock cycle (\d+) on/.exec(hang!.message!)![1];
        const hammerLog = evidence('wrlock-hammer');
        assert.match(hammerLog, new RegExp(`Z S ${cycle}\n`), 'the hammer\'s log shows the cycle start');
        assert.doesNotMatch(hammerLog, new RegExp(`Z E ${cycle} `), '…and no end');
        assert.match(evidence('console'), /reboot: Restarting system/, 'the console shows the reboot the cycle met');
        // Where it is stuck, read from the stacks: the vCPU thread parked in QEMU's wait.
        assert.match(JSON.stringify(stress.stuckFrames), /"thread":"CPU 0\/(TCG|KVM)","frame":"qemu_\w+"/);
        // The blocked cycle outlived the grace: the vm was never destroyed, the host is out.
        assert.match(stress.wedged?.reason ?? '', /^write-lock cycle \d+ blocked for \d+ ms, 5000 ms of them after the evidence$/);
        assert.ok(labVmNames().includes(stress.vm!), 'the wedged vm must be left as it is');
        assert.ok(!stress.timeline.events.some((e) => e.kind === 'destroyed'), 'the wedged vm must not be destroyed');
        const bad = run.hosts.find((h) => h.name === 'bad')!;
        assert.equal(bad.wedged?.vm, stress.vm);
        assert.match(bad.quarantined ?? '', /^wedged: the write lock of vm bsm-\S+ never returned .* the host needs a reboot$/);
        assert.equal(byId.get('smoke/good/linux')?.status, 'passed', 'the rest of the run goes on on the other host');
        const skipped = byId.get('smoke/bad/linux')!;
        assert.equal(skipped.status, 'skipped');
        assert.match(skipped.skipReason ?? '', /^no host left to run it: host bad wedged: /);
        assert.match(readFileSync(join(box.dir, 'out/junit.xml'), 'utf8'), /<property name="bhyve-smoke.host-wedged" value="bad: wedged: the write lock of vm bsm-/);
        assert.match(readFileSync(join(box.dir, 'out/report.html'), 'utf8'), /data-wedged="bsm-/);

        // clean reports the wedged host and leaves it alone, at once; doctor fails it; the run record stays.
        const clean = await box.run(['clean'], { timeout: 60_000 });
        assert.equal(clean.exitCode, 3, `${clean.stdout}${clean.stderr}`);
        assert.match(String(clean.stdout), /host bad is wedged: the write lock of vm bsm-\S+ never returned .*left alone until it has rebooted \(a lab host: `bhyve-smoke clean --reset-lab` resets it/);
        assert.ok(labVmNames().includes(stress.vm!), 'clean must not touch the wedged vm');
        const doctor = await box.run(['doctor', '--host', 'bad'], { timeout: 60_000 });
        assert.equal(doctor.exitCode, 3);
        assert.match(String(doctor.stdout), /FAIL not wedged \(run \w+\): wedged: the write lock of vm bsm-/);
      } finally {
        // The lab's stand-in for rebooting the host, then a clean like any other: nothing of the run is left.
        const reset = await box.run(['clean', '--reset-lab'], { timeout: 120_000 });
        assert.equal(reset.exitCode, 0, `${reset.stdout}${reset.stderr}`);
        assert.match(String(reset.stdout), /reset lab host bad: lab-host-reset: /);
      }
      assert.deepEqual(labVmNames().filter((n) => n.startsWith('bsm-')), []);
      assert.match(String((await box.run(['clean'])).stdout), /^nothing to clean/);
    });
  });

  it('a vm frozen from outside (its process stopped) is a hang within three heartbeat intervals', async () => {
    await inSandbox(async (box) => {
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), config({ stress: { reboots: 1, upBetweenReboots: '20s' } }));
      const child = box.run(['run', 'wrlock-reboot', '--output', 'out']);
      const { vmDir } = await waitForRunVm(box.dir, (d) => existsSync(`${d}/console.log`) && readFileSync(`${d}/console.log`, 'latin1').includes('BSM-HB'));
      await sleep(1500);
      process.kill(readPid(`${vmDir}/qemu.pid`), 'SIGSTOP');
      const frozenAt = Date.now();
      const r = await child;
      assert.equal(r.exitCode, 1, `${r.stdout}\n${r.stderr}`);
      const t = results(box.dir).tests[0];
      assert.equal(t.error?.type, 'HangDetected');
      const detected = t.timeline.events.find((e) => e.kind === 'hang-detected')!;
      // The guest's own silence: wall time less the write-lock cycles the suite's hammer held meanwhile.
      const held = t.timeline.samples
        .filter((s) => s.series === 'wrlock.latency_ms')
        .reduce((sum, s) => sum + Math.max(0, Math.min(s.t + s.value, detected.t) - Math.max(s.t, frozenAt)), 0);
      const silence = detected.t - frozenAt - held;
      assert.equal(t.wedged, undefined, 'a vm stopped from outside wedged nothing: its write-lock cycles kept returning');
      assert.ok(silence <= 3 * 1000 + 500, `hang detected after ${silence} ms of the guest's own silence (${detected.t - frozenAt} ms wall, ${held} ms held by the hammer)`);
      assert.ok(!labVmNames().includes(t.vm!), `the frozen vm was not destroyed: ${JSON.stringify({ wedged: t.wedged, leftBehind: t.leftBehind, events: t.timeline.events.slice(-12) })}`);
    });
  });

  it('boot-hang: the ready check fails', async () => {
    await inSandbox(async (box) => {
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), config({ thresholds: { bootReady: '8s' } }));
      const r = await box.run(['run', 'smoke', '--output', 'out'], { env: { ...box.env, BHYVE_LAB_FAULTS: 'boot-hang' } });
      assert.equal(r.exitCode, 1, `${r.stdout}\n${r.stderr}`);
      const ready = results(box.dir).tests[0].checks.find((c) => c.name === 'boots to a login prompt');
      assert.equal(ready?.status, 'failed');
      assert.match(ready?.message ?? '', /no login prompt within 8000 ms/);
    });
  });
});
