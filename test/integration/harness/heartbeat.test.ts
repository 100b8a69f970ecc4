// The serial heartbeat on its own, on a lab vm: time our own hammer holds the
// vCPUs is not the guest's silence (a slow write lock is no hang), and a
// guest whose kernel stops while its vCPUs keep running — which the vCPU watch
// cannot see — is a hang once the hammer is idle, within the threshold.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { validate } from '../../../harness/config/load.ts';
import { BUILTIN_CONFIG } from '../../../harness/config/defaults.ts';
import { WrlockHammer } from '../../../harness/disturbance/wrlock-hammer.ts';
import { HangDetected } from '../../../harness/errors.ts';
import { linuxAdapter } from '../../../harness/guest/linux.ts';
import { createHost } from '../../../harness/host.ts';
import { Timeline } from '../../../harness/timeline.ts';
import { Vm } from '../../../harness/vm.ts';
import { HeartbeatWatch } from '../../../harness/watch/heartbeat.ts';
import { LivenessWatch } from '../../../harness/watch/liveness.ts';
import { VcpuProgressWatch } from '../../../harness/watch/vcpu-progress.ts';
import { Watchdog } from '../../../harness/watch/watchdog.ts';
import { LAB_PASSWORD } from '../../helpers/lab.ts';

const INTERVAL_MS = 1_000;
const GAP_MS = 3_000;
/** Each write-lock cycle holds the vCPUs this long: far past the heartbeat gap in a few cycles, within the cycle deadline. */
const HOLD_MS = 1_500;

describe('the serial heartbeat on its own', { timeout: 240_000 }, () => {
  it('a slow write lock is no hang; a guest kernel that spins with the hammer idle is one, which the vCPU watch cannot see', async () => {
    const config = validate(BUILTIN_CONFIG, 'built-in');
    const host = createHost('lab', { ...config.hosts.lab, labFaults: `slow-wrlock=${HOLD_MS}` });
    const runDir = `/tmp/bhyve-smoke/hb-${process.pid}`;
    const timeline = new Timeline();
    const watchdog = new Watchdog(timeline);
    const vm = new Vm({
      host, name: `bsm-hbtest${process.pid % 1000}-1`, guestName: 'linux', guest: config.guests.linux,
      access: { kind: 'serial', adapter: linuxAdapter }, password: LAB_PASSWORD, runDir, timeline, commandTimeoutMs: 30_000,
    });
    const hammer = new WrlockHammer(host, vm, watchdog, timeline, 5_000);
    const heartbeat = new HeartbeatWatch(vm, watchdog, timeline, { intervalMs: INTERVAL_MS, maxGapMs: GAP_MS, heldByUs: (from, to) => hammer.heldMs(from, to) });
    const vcpus = new VcpuProgressWatch(host, vm, 1, watchdog, timeline, { intervalMs: INTERVAL_MS, maxStallMs: GAP_MS });
    const liveness = new LivenessWatch(heartbeat, vcpus);
    try {
      await host.exec(`mkdir -p ${runDir}`, { doing: 'test setup' });
      await vm.provision();
      await vm.waitReady(60_000);
      await vm.login();
      await liveness.start();
      await sleep(2 * INTERVAL_MS);

      // 1. The hammer holds the guest 1.5 s a cycle, back to back: the guest barely runs, its clock barely
      //    moves, its next beat comes only after the hammer stops — our doing, not the guest's silence.
      hammer.start({ rate: 'max' });
      await sleep(10_000);
      const hammered = await hammer.stop();
      await sleep(2 * INTERVAL_MS);
      assert.ok(hammered.cycles >= 4 && hammered.latenciesMs.every((ms) => ms >= HOLD_MS), `cycles: ${hammered.latenciesMs.join(', ')}`);
      const beats = timeline.samples.filter((s) => s.series === 'heartbeat.uptime_s').map((s) => s.t);
      const wallGaps = beats.slice(1).map((t, i) => t - beats[i]);
      assert.ok(Math.max(...wallGaps) > GAP_MS, `the hammer should have stretched a wall-clock gap past ${GAP_MS} ms: ${wallGaps.join(', ')}`);
      assert.equal(watchdog.hangDetected, undefined, `a slow write lock was called a hang: ${watchdog.hangDetected?.message}`);

      // 2. The hammer idle, the guest's kernel panics and spins (panic=0: no reboot; mdelay keeps the vCPU busy).
      await sleep(2_000);
      const panicAt = Date.now();
      vm.console.write('echo 0 > /proc/sys/kernel/panic; echo c > /proc/sysrq-trigger\n');
      const e = await Promise.race([watchdog.tripped.catch((err: unknown) => err), sleep(GAP_MS + 6_000).then(() => undefined)]);
      assert.ok(e instanceof HangDetected, 'the spinning kernel was never called hung');
      assert.match(e.message, /^hang detected by the heartbeat watch: no heartbeat from \S+ for \d+ ms of its own time \(threshold 3000 ms\)$/);
      const after = Date.now() - panicAt;
      assert.ok(after <= GAP_MS + INTERVAL_MS + 1_000, `detected ${after} ms after the panic`);
      // The vCPU kept running: the vCPU watch saw progress all along and could not have called it.
      await sleep(2 * INTERVAL_MS);
      const moves = timeline.samples.filter((s) => s.series === 'vcpu0.progress' && s.t > panicAt).map((s) => s.value);
      assert.ok(moves.length >= 2 && moves.every((v) => v > 0), `vCPU progress after the panic: ${moves.join(', ')}`);
      assert.match(vm.console.tail(), /Kernel panic - not syncing/, 'the console tail shows why');
    } finally {
      await hammer.stop().catch(() => {});
      await liveness.stop().catch(() => {});
      await vm.destroy().catch(() => {});
      await host.exec(`rm -rf ${runDir}`, { doing: 'test cleanup' });
      await host.close();
    }
  });
});
