// The vCPU progress watch on a lab vm: counters sampled from the host move
// while the vm runs, and a vm frozen from outside trips the watch — no guest
// console needed.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HangDetected } from '../../../harness/errors.ts';
import { Timeline } from '../../../harness/timeline.ts';
import { VcpuProgressWatch } from '../../../harness/watch/vcpu-progress.ts';
import { Watchdog } from '../../../harness/watch/watchdog.ts';
import { labVmForSuite, readPid } from '../../helpers/lab.ts';
import type { Host } from '../../../harness/host.ts';
import { UnexpectedOutput } from '../../../harness/platform/host-output.ts';
import { kstatProgress, statsProgress } from '../../../harness/platform/vcpu-stats.ts';
import { execa } from 'execa';
import { dirname, join } from 'node:path';

describe('vCPU progress watch', { timeout: 120_000 }, () => {
  const lab = labVmForSuite('vcpu1');
  const { host } = lab;
  const MAX_STALL_MS = 2_000;

  it('sees a running vm make progress and trips within its threshold once the vm is frozen', async () => {
    const timeline = new Timeline();
    const watchdog = new Watchdog(timeline);
    const watch = new VcpuProgressWatch(host, { vmm: lab.vm().name }, 1, watchdog, timeline, { intervalMs: 500, maxStallMs: MAX_STALL_MS });
    watch.start();
    try {
      await sleep(3_000);
      assert.equal(watchdog.hangDetected, undefined, 'a running vm tripped the watch');
      const moves = timeline.samples.filter((s) => s.series === 'vcpu0.progress');
      assert.ok(moves.length >= 3 && moves.some((s) => s.value > 0), `progress samples: ${JSON.stringify(moves.map((s) => s.value))}`);

      const qemu = readPid(`${lab.vm().dir}/qemu.pid`);
      process.kill(qemu, 'SIGSTOP');
      const frozenAt = Date.now();
      try {
        const e = await watchdog.tripped.catch((err: unknown) => err);
        const after = Date.now() - frozenAt;
        assert.ok(e instanceof HangDetected);
        assert.match(e.message, /vcpu-progress watch: no vCPU of \S+ made progress for \d+ ms \(threshold 2000 ms; last counters: vcpu0 \d+\)/);
        // The threshold, plus at most one sample interval and the loop's own lag.
        assert.ok(after <= MAX_STALL_MS + 1_500, `detected ${after} ms after the freeze`);
      } finally {
        process.kill(qemu, 'SIGCONT');
      }
    } finally {
      await watch.stop();
    }
  });

  it('a read of the counters that does not return is a hang naming the vCPU, within the threshold', async () => {
    const timeline = new Timeline();
    const watchdog = new Watchdog(timeline);
    const watch = new VcpuProgressWatch(host, { vmm: lab.vm().name }, 1, watchdog, timeline, { intervalMs: 500, maxStallMs: MAX_STALL_MS });
    watch.start();
    // The host's vmm lock held, as by a destroy wedged on a frozen vCPU: every bhyvectl open waits behind it (vmm_sol_dev.c vmm_open()).
    const holder = execa('flock', [join(lab.vm().env.BHYVE_LAB_RUNDIR, 'vmm.lock'), 'sleep', '30'], { reject: false, detached: true, stdio: 'ignore' });
    const heldAt = Date.now();
    try {
      const e = await watchdog.tripped.catch((err: unknown) => err);
      assert.ok(e instanceof HangDetected);
      assert.match(e.message, /vcpu-progress watch: reading vcpu0's counters of \S+ has not returned for \d+ ms \(no progress for \d+ ms, threshold 2000 ms\): blocked in the host's vmm/);
      assert.ok(Date.now() - heldAt <= MAX_STALL_MS + 1_500, `detected ${Date.now() - heldAt} ms after the lock was taken`);
    } finally {
      process.kill(-holder.pid!, 'SIGKILL');
      await holder;
      await watch.stop();
    }
  });

  it('a sample in a shape it does not read (a stat this host lacks) ends the test as an infrastructure error quoting the output, not a hang', async () => {
    const timeline = new Timeline();
    const watchdog = new Watchdog(timeline);
    // FreeBSD's stat, which the lab's bhyvectl (like a host of another release) does not print.
    const other: Host = Object.assign(Object.create(host), { platform: { ...host.platform, vcpuProgress: statsProgress(host.platform.bhyvectl, 'vcpu total runtime') } });
    const watch = new VcpuProgressWatch(other, { vmm: lab.vm().name }, 1, watchdog, timeline, { intervalMs: 300, maxStallMs: 5_000 });
    watch.start();
    try {
      const e = await watchdog.tripped.catch((err: unknown) => err);
      assert.ok(e instanceof UnexpectedOutput, `an UnexpectedOutput, got ${e}`);
      assert.equal(watchdog.hangDetected, undefined);
      assert.match(e.message, /--cpu=0 --get-stats` printed what bhyve-smoke cannot read: no `vcpu total runtime` line[\s\S]*\| vcpu0 stats:\n  \| lab: vcpu thread cpu time \(ns\)/);
      assert.ok(timeline.events.some((ev) => ev.kind === 'watch-broken'), 'the timeline says the watch broke');
    } finally {
      await watch.stop();
    }
  });

  it('an illumos kernel without the vmm kstats (its vm listed, no kstat naming it): the watch stands down saying why, never a hang', async () => {
    const timeline = new Timeline();
    const watchdog = new Watchdog(timeline);
    // illumos's kstat recipe, its /dev/vmm the lab's vm folders and a kstat that knows no vmm module (as before illumos #13723).
    const bin = mkdtempSync(join(tmpdir(), 'bsm-kstat-'));
    writeFileSync(join(bin, 'kstat'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(bin, 'kstat'), 0o755);
    const vmmDir = dirname(lab.vm().dir);
    const recipe = { ...kstatProgress, command: (n: string, c: number) => `PATH=${bin}:$PATH; ${kstatProgress.command(n, c).replaceAll('/dev/vmm/', `${vmmDir}/`)}` };
    const old: Host = Object.assign(Object.create(host), { platform: { ...host.platform, vcpuProgress: recipe } });
    const watch = new VcpuProgressWatch(old, { vmm: lab.vm().name }, 1, watchdog, timeline, { intervalMs: 300, maxStallMs: 1_000 });
    watch.start();
    const qemu = readPid(`${lab.vm().dir}/qemu.pid`);
    process.kill(qemu, 'SIGSTOP'); // frozen: a watch that read "absent" would call it a hang after 1 s
    try {
      await sleep(3_000);
      assert.equal(watchdog.hangDetected, undefined, 'a host without counters is not a hang');
      assert.match(watch.off ?? '', /^host lab has no vcpu-stats capability: no vmm kstat names \S+ although \/.*\/vmm\/\S+ exists: this kernel keeps no vmm kstats/);
      assert.deepEqual(timeline.events.filter((e) => e.kind === 'vcpu-watch-off').map((e) => e.detail), [watch.off]);
    } finally {
      process.kill(qemu, 'SIGCONT');
      await watch.stop();
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('is quiet while paused', async () => {
    const timeline = new Timeline();
    const watchdog = new Watchdog(timeline);
    const watch = new VcpuProgressWatch(host, { vmm: lab.vm().name }, 1, watchdog, timeline, { intervalMs: 500, maxStallMs: 500 });
    watch.start();
    watch.pause();
    const qemu = readPid(`${lab.vm().dir}/qemu.pid`);
    process.kill(qemu, 'SIGSTOP');
    try {
      await sleep(1_500);
      assert.equal(watchdog.hangDetected, undefined);
    } finally {
      process.kill(qemu, 'SIGCONT');
      await watch.stop();
    }
  });
});
