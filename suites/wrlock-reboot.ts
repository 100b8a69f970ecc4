// wrlock-reboot — the deadlock hunt. With the write-lock hammer running flat
// out, reboot the guest again and again: every reboot must come back within the
// threshold, no write-lock cycle may block (the vCPU-in-rendezvous deadlock
// shows as a cycle that never returns), and while the guest is up its
// heartbeat must not stop. A hang ends the test at once with evidence.
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from '../harness/suite.ts';
import { bringUp, judgeHammer, judgeLiveness, timed } from '../harness/steps.ts';

export default suite({
  name: 'wrlock-reboot',
  description: 'reboot loop under the write-lock hammer (the deadlock hunt)',
  guests: ['linux', 'freebsd', 'windows'],
  needs: ['wrlock'],
  async run(ctx) {
    const { vm, check, metrics, thresholds: t, hammer, liveness } = ctx;
    await bringUp(ctx);
    await liveness.start();

    hammer.start({ rate: 'max' });
    for (let i = 1; i <= t.reboots; i++) {
      await sleep(t.upBetweenRebootsMs); // up and hammered, its liveness watched
      liveness.pause(); // a rebooting guest is silent
      await timed(metrics, 'reboot-time', () => check.step(`reboot ${i} of ${t.reboots} under the hammer is ready again`, () => vm.reboot(t.rebootReadyMs), t.rebootReadyMs), { dose: 'max' });
      await check.step(`logs in after reboot ${i}`, () => vm.login());
      await liveness.start();
    }
    const h = await hammer.stop();

    judgeHammer(ctx, h);
    judgeLiveness(ctx, 'while up');
  },
});
