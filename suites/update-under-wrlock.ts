// update-under-wrlock — the manual test's OS update, made a command. Run the
// guest's update (Windows Update, apt/dnf/zypper, freebsd-update and pkg; in
// the lab a synthetic stand-in, named as such) to completion with the
// write-lock hammer flat out, reboot into the updated system with the hammer
// still running (viona must let go of its lease across the reboot), and check
// the updated system runs and looks healthy. A hang at any point is a failed
// check with evidence.
import { suite } from '../harness/suite.ts';
import { bringUp, judgeHammer, judgeLiveness, lookAround, timed } from '../harness/steps.ts';
import { OsUpdate } from '../harness/workload/os-update/os-update.ts';

export default suite({
  name: 'update-under-wrlock',
  description: 'OS update to completion under the write-lock hammer, reboot into it, smoke checks',
  guests: ['linux', 'freebsd', 'windows'],
  needs: ['wrlock'],
  async run(ctx) {
    const { vm, check, metrics, timeline, attach, log, thresholds: t, hammer, liveness } = ctx;
    await bringUp(ctx);
    await liveness.start();
    const update = new OsUpdate(vm, timeline, attach);
    const recipe = await check.step("finds the guest's update tool", () => update.recipe());
    if (!recipe.real) log(`${recipe.method} is a synthetic update, not a real OS update`);

    hammer.start({ rate: 'max' });
    const filming = vm.screen.every('update'); // Windows Update shows its progress only on the screen
    const outcome = await timed(metrics, 'update-time', () => check.step(`the ${recipe.method} update runs to completion under the hammer`, () => update.run(t.osUpdateMs), t.osUpdateMs), { dose: 'max' })
      .finally(() => filming.stop());
    check.that(`${recipe.method} reports success`, outcome.ok, { measured: outcome.summary, threshold: 'the update tool reports success' });

    liveness.pause(); // a rebooting guest is silent
    await timed(metrics, 'reboot-time', () => check.step('reboots into the updated system under the hammer', () => vm.reboot(t.rebootReadyMs), t.rebootReadyMs), { dose: 'max' });
    await check.step('logs in after the update', () => vm.login());
    await liveness.start();
    const updated = await update.verify();
    check.that('the updated system is running', updated.ok, { measured: updated.summary, threshold: 'the update in effect, nothing left pending' });
    await lookAround(ctx, 'after the update');
    const h = await hammer.stop();

    judgeHammer(ctx, h);
    judgeLiveness(ctx);
  },
});
