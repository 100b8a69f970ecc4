// A gate's smallest suite, for the tests of the gate itself: boot, log in,
// iperf3 for 2 s under the write-lock hammer flat out. Its numbers are the
// hard dose's throughput and the cycle latency — what a slow write lock costs
// — at a tenth of wrlock-iperf's time.
import { bringUp, Iperf3, judgeHammer, suite } from '../../harness/api.ts';

export default suite({
  name: 'hard-dose',
  description: 'iperf3 under the write-lock hammer flat out, 2 s',
  guests: ['linux', 'freebsd'],
  needs: ['wrlock'],
  exclusive: true,
  async run(ctx) {
    const { vm, host, check, metrics, timeline, hammer, thresholds: t } = ctx;
    await bringUp(ctx);
    await vm.poll(vm.probes.interfaces, /^\S+ up$/m, t.commandMs);
    const iperf3 = new Iperf3(host, timeline, await vm.iperf3Target());
    hammer.start({ rate: 'max' });
    const hard = await check.step('iperf3 under the hammer flat out', () => iperf3.run({ phase: 'hard', seconds: 2, underStress: true }));
    const h = await hammer.stop();
    check.that('iperf3 runs to its end under the hammer', !hard.error, { measured: hard.error ?? 'completed', threshold: 'completed' });
    if (!hard.error) metrics.record('throughput', hard.meanMbps, { dose: 'hard', direction: 'host-to-guest' });
    judgeHammer(ctx, h);
  },
});
