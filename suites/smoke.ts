// smoke — the general smoke test of the typical guest population. Per guest:
// provision it, boot to the login prompt within the threshold, log in, look
// around (kernel, uptime, network up, disk readable), reboot gracefully and be
// ready again, shut down cleanly. The runner destroys the vm afterwards.
import { suite } from '../harness/suite.ts';
import { bringUp, lookAround, timed } from '../harness/steps.ts';

export default suite({
  name: 'smoke',
  description: 'boot, log in, look around, reboot, shut down',
  guests: ['linux', 'freebsd', 'windows'],
  needs: [],
  async run(ctx) {
    const { vm, check, metrics, thresholds } = ctx;
    await bringUp(ctx);
    await lookAround(ctx);

    await timed(metrics, 'reboot-time', () => check.step('reboots gracefully and is ready again', () => vm.reboot(thresholds.rebootReadyMs), thresholds.rebootReadyMs));
    await check.step('logs in again after the reboot', () => vm.login());

    const status = await check.step('shuts down', () => vm.shutdown(thresholds.rebootReadyMs));
    check.that('bhyve reports a poweroff', status === 1, { measured: `bhyve exit ${status}`, threshold: 'exit 1 (powered off)' });
  },
});
