// The lab's fault injection reproduces the bug classes the harness exists to
// catch; each fault must behave exactly as documented, and only when asked.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { isAlive, LAB_BIN, labRunRoot, readPid, resetLabHost, runBounded, Serial, startLabVm, vcpuTime, type LabVm } from '../../helpers/lab.ts';

const BOOT_MS = 60_000;

/** Runs one bhyvectl with a deadline; a blocked call comes back as timedOut. */
const wrlockWithin = (vm: LabVm, ms: number) =>
  runBounded(join(LAB_BIN, 'bhyvectl'), [`--vm=${vm.name}`, '--wrlock-cycle'], vm.env, ms);

describe('lab faults', { timeout: 300_000 }, () => {
  it('slow-wrlock=MS holds the vCPUs for MS on every cycle', async () => {
    const run = labRunRoot();
    const vm = startLabVm('fs1', { ...run.env, BHYVE_LAB_FAULTS: 'slow-wrlock=400' });
    try {
      await vm.waitForConsole(/login: /, BOOT_MS);
      const started = Date.now();
      const cycle = wrlockWithin(vm, 10_000);
      await new Promise((r) => setTimeout(r, 100));
      const during = await vcpuTime(vm);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(await vcpuTime(vm), during, 'vCPU ran while the write lock was held');
      assert.equal((await cycle).exitCode, 0);
      assert.ok(Date.now() - started >= 400, `cycle took ${Date.now() - started} ms`);
    } finally {
      await vm.bhyvectl('--destroy');
      run.cleanup();
    }
  });

  it('deadlock-on-reboot: a wrlock cycle during a reboot never completes, the vCPUs stay stopped, and destroying the vm wedges the host until it is reset', async () => {
    const run = labRunRoot();
    const vm = startLabVm('fd1', { ...run.env, BHYVE_LAB_FAULTS: 'deadlock-on-reboot' });
    try {
      await vm.waitForConsole(/login: /, BOOT_MS);
      // Outside a reboot the fault is dormant.
      assert.equal((await wrlockWithin(vm, 5_000)).exitCode, 0);
      assert.equal((await vm.bhyvectl('--force-reset')).exitCode, 0);
      assert.equal((await vm.bhyve).exitCode, 0);
      const consoleAt = vm.consoleText().length;
      vm.restart();
      await new Promise((r) => setTimeout(r, 800)); // bhyve up, guest early in its boot
      const blocked = await wrlockWithin(vm, 3_000);
      assert.equal(blocked.timedOut, true, 'the wrlock cycle returned during the reboot');
      const t0 = await vcpuTime(vm);
      await new Promise((r) => setTimeout(r, 1_500));
      assert.equal(await vcpuTime(vm), t0, 'a vCPU ran after the deadlock');
      assert.doesNotMatch(vm.consoleText().slice(consoleAt), /login: /);
      assert.equal((await wrlockWithin(vm, 1_000)).timedOut, true, 'later cycles must block too');
      // VM_SUSPEND takes no write lock: it returns (and a second is EALREADY), but frozen vCPUs never act on it.
      assert.equal((await vm.bhyvectl('--force-reset')).exitCode, 0);
      assert.deepEqual(await vm.bhyvectl('--force-reset').then((r) => [r.exitCode, r.stdout]), [255, 'errno = 149']);
      // vmm_destroy_begin() freezes every vCPU under vmm_mtx and cannot: the destroy blocks, holding it...
      const bhyvectl = (...args: string[]) => runBounded(join(LAB_BIN, 'bhyvectl'), args, vm.env, 2_000);
      assert.equal((await bhyvectl(`--vm=${vm.name}`, '--destroy')).timedOut, true, 'destroying a wedged vm must block');
      // What is stuck: the destroy, waiting on the frozen vCPU with the host's vmm lock held (the lab's stand-in for the
      // kernel thread in vmm_destroy_begin(): a process of its own, recorded for the host reset), and the vm's write lock.
      assert.equal(JSON.parse(readFileSync(join(vm.dir, 'state.json'), 'utf8')).deadlocked, true, 'the vm\'s write lock is the wedged one');
      const holder = readPid(join(run.root, 'wedged', `${vm.name}.pid`));
      assert.equal(isAlive(holder), true, 'the wedged destroy still waits');
      const lock = await runBounded('flock', ['-n', join(run.root, 'vmm.lock'), 'true'], vm.env, 2_000);
      assert.equal(lock.exitCode, 1, 'the host\'s vmm lock is held by the wedged destroy');
      // ...so every later create and open on the host blocks too, also after the blocked destroy is killed.
      assert.equal((await bhyvectl('--vm=other1', '--create')).timedOut, true, 'a create must wait behind the wedged destroy');
      assert.equal((await bhyvectl(`--vm=${vm.name}`, '--get-stats')).timedOut, true, 'an open must wait behind the wedged destroy');
      assert.ok(existsSync(vm.dir), 'nothing of the wedged vm was destroyed');
    } finally {
      // Only the host's reset (its reboot) frees it.
      const reset = await resetLabHost(run.env);
      const create = await runBounded(join(LAB_BIN, 'bhyvectl'), ['--vm=other2', '--create'], run.env, 5_000);
      run.cleanup();
      assert.match(String(reset.stdout), /reset \(ended: wedged-destroy:fd1 vm:fd1\)/);
      assert.deepEqual([create.exitCode, create.timedOut], [0, false], 'after the reset the host takes vms again');
    }
    assert.notEqual((await vm.bhyve).exitCode, 0, 'the reset ends the vm\'s bhyve');
  });

  it('boot-hang: the guest stops before it is ready', async () => {
    const run = labRunRoot();
    const vm = startLabVm('fb1', { ...run.env, BHYVE_LAB_FAULTS: 'boot-hang' });
    try {
      await new Promise((r) => setTimeout(r, 2_000));
      const t0 = await vcpuTime(vm);
      await new Promise((r) => setTimeout(r, 6_000));
      assert.equal(await vcpuTime(vm), t0, 'the vCPU kept running');
      assert.doesNotMatch(vm.consoleText(), /login: /);
    } finally {
      await vm.bhyvectl('--destroy');
      run.cleanup();
    }
  });

  it('faults are off by default: wrlock cycles are quick and reboots complete', async () => {
    const run = labRunRoot();
    const vm = startLabVm('fo1', run.env);
    try {
      await vm.waitForConsole(/login: /, BOOT_MS);
      const serial = await Serial.open(vm.console);
      await serial.login();
      serial.write('reboot\n');
      assert.equal((await vm.bhyve).exitCode, 0);
      serial.close();
      const consoleAt = vm.consoleText().length;
      vm.restart();
      await new Promise((r) => setTimeout(r, 800));
      const started = Date.now();
      assert.equal((await wrlockWithin(vm, 3_000)).exitCode, 0);
      assert.ok(Date.now() - started < 1_000);
      await vm.waitForConsole(/login: /, BOOT_MS, consoleAt);
    } finally {
      await vm.bhyvectl('--destroy');
      run.cleanup();
    }
  });

  it('an unknown fault name is an error, and nothing is left running', async () => {
    const run = labRunRoot();
    const vm = startLabVm('fu1', { ...run.env, BHYVE_LAB_FAULTS: 'slow-wrlok=200' });
    const r = await vm.bhyve;
    assert.equal(r.exitCode, 4);
    assert.match(String(r.stderr), /unknown fault "slow-wrlok=200" \(known: deadlock-on-reboot, slow-wrlock=MS, lingering-wrlock=MS, boot-hang, start-error-once=TOKEN, destroy-leaks-once, echo-password, panic-at-wrlock=N, panic-on-reboot, host-hang=S@N\)/);
    assert.equal(existsSync(vm.dir), false);
    run.cleanup();
  });
});
