// wrlock-iperf — throughput lost when the write lock is taken often. iperf3
// from the host into the guest in four phases: unstressed, a light hammer
// dose, the hammer flat out, and recovery after it stops. Each dose is judged
// against the same run's unstressed phase (paired, so host noise cancels); no
// phase may stall for long; throughput must come back after the hammer stops
// (to a level phase-to-phase drift does not reach: verdict/recovery.ts).
import { suite } from '../harness/suite.ts';
import { bringUp, judgeHammer, judgeLiveness, judgeRecoveryPhase } from '../harness/steps.ts';
import { formatDuration } from '../harness/duration.ts';
import { Iperf3, longestZeroRun, type Iperf3Result } from '../harness/workload/iperf3.ts';

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

export default suite({
  name: 'wrlock-iperf',
  description: 'iperf3 unstressed, under a light and a hard write-lock dose, and in recovery',
  guests: ['linux', 'freebsd'],
  needs: ['wrlock'],
  exclusive: true,
  async run(ctx) {
    const { vm, host, check, metrics, timeline, attach, thresholds: t, hammer, liveness } = ctx;
    await bringUp(ctx);
    // The link may come up a moment after the login prompt.
    await vm.poll(vm.probes.interfaces, /^\S+ up$/m, t.commandMs);
    await liveness.start();
    const iperf3 = new Iperf3(host, timeline, await vm.iperf3Target(), attach);
    const seconds = Math.max(2, Math.round(t.iperfPhaseMs / 1000));

    const unstressed = await check.step('iperf3 unstressed', () => iperf3.run({ phase: 'unstressed', seconds }));
    hammer.start({ rate: t.lightRate });
    const light = await check.step(`iperf3 under a light dose (${t.lightRate} cycles/s)`, () => iperf3.run({ phase: 'light', seconds, underStress: true }));
    await hammer.stop();
    hammer.start({ rate: 'max' });
    const hard = await check.step('iperf3 under the hammer flat out', () => iperf3.run({ phase: 'hard', seconds, underStress: true }));
    const h = await hammer.stop();
    // The guest is only just out of stress: a recovery that fails is a finding too.
    const recovery = await check.step('iperf3 after the hammer stops', () => iperf3.run({ phase: 'recovery', seconds, omitSeconds: 0, underStress: true }));

    const base = unstressed.meanMbps;
    // The gate's numbers: each phase's mean, and each dose paired with this test's unstressed phase.
    const direction = 'host-to-guest';
    for (const r of [unstressed, light, hard, recovery]) if (!r.error) metrics.record('throughput', r.meanMbps, { dose: r.phase, direction });
    for (const r of [light, hard]) if (!r.error && base > 0) metrics.record('throughput-ratio', r.meanMbps / base, { dose: r.phase, direction });
    check.that('unstressed throughput is measurable', base > 0, { measured: `${base.toFixed(0)} Mbit/s`, threshold: '> 0' });
    for (const r of [light, hard, recovery]) {
      check.that(`iperf3 runs to its end in the ${r.phase} phase`, !r.error, { measured: r.error ?? 'completed', threshold: 'completed' });
    }
    for (const [dose, r] of [['light', light], ['hard', hard]] as const) {
      const ratio = r.meanMbps / base;
      check.that(`throughput under the ${dose} dose`, ratio >= t.throughputUnderHammer, {
        measured: `${r.meanMbps.toFixed(0)} Mbit/s = ${pct(ratio)} of unstressed ${base.toFixed(0)} Mbit/s`,
        threshold: `>= ${pct(t.throughputUnderHammer)} of unstressed`,
      });
    }
    const zeroSeconds = Math.max(...[unstressed, light, hard, recovery].map((r: Iperf3Result) => longestZeroRun(r.intervals)));
    check.that('no long run of zero-throughput intervals', zeroSeconds * 1000 <= t.zeroThroughputRunMs, {
      measured: `${zeroSeconds} s`, threshold: `<= ${formatDuration(t.zeroThroughputRunMs)}`,
    });
    judgeRecoveryPhase(ctx, 'throughput recovers after the hammer stops', unstressed, recovery);
    judgeHammer(ctx, h);
    judgeLiveness(ctx);
  },
});
