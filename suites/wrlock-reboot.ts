// wrlock-reboot — the deadlock hunt. With the write-lock hammer running flat
// out, reboot the guest again and again: every reboot must come back within the
// threshold, no write-lock cycle may block (the vCPU-in-rendezvous deadlock
// shows as a cycle that never returns), and while the guest is up its
// heartbeat must not stop. A hang ends the test at once with evidence.
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from '../harness/suite.ts';
import { percentile } from '../harness/verdict/latency.ts';
import { formatDuration } from '../harness/duration.ts';

export default suite({
  name: 'wrlock-reboot',
  description: 'reboot loop under the write-lock hammer (the deadlock hunt)',
  guests: ['linux', 'freebsd'],
  needs: ['wrlock'],
  async run({ vm, check, thresholds: t, hammer, heartbeat }) {
    await check.step('provisions under the supervisor', () => vm.provision());
    await check.step('boots to a login prompt', () => vm.waitReady(t.bootReadyMs), t.bootReadyMs);
    await check.step('logs in on the serial console', () => vm.login());
    await heartbeat.start();

    hammer.start({ rate: 'max' });
    for (let i = 1; i <= t.reboots; i++) {
      await sleep(t.upBetweenRebootsMs); // up and hammered, the heartbeat watched
      heartbeat.pause(); // a rebooting guest is silent
      await check.step(`reboot ${i} of ${t.reboots} under the hammer is ready again`, () => vm.reboot(t.rebootReadyMs), t.rebootReadyMs);
      await check.step(`logs in after reboot ${i}`, () => vm.login());
      await heartbeat.start();
    }
    const h = await hammer.stop();

    check.that('the hammer ran write-lock cycles throughout', h.cycles > 0 && h.failed === 0, {
      measured: `${h.cycles} cycles, ${h.failed} failed`, threshold: '> 0 cycles, none failed',
    });
    const p50 = percentile(h.latenciesMs, 50);
    const p99 = percentile(h.latenciesMs, 99);
    check.that('write-lock cycle latency p99', p99 <= t.wrlockCycleMs, {
      measured: `p50 ${formatDuration(p50)}, p99 ${formatDuration(p99)}`, threshold: `p99 <= ${formatDuration(t.wrlockCycleMs)}`,
    });
    check.that('heartbeat gaps while up', heartbeat.maxGapMs <= t.heartbeatGapMs, {
      measured: formatDuration(heartbeat.maxGapMs), threshold: `<= ${formatDuration(t.heartbeatGapMs)}`,
    });
  },
});
