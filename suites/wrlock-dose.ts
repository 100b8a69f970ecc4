// wrlock-dose — the dose-response curve. The first finding of the manual
// testing this automates was a curve: throughput "did not significantly
// decline unless the wrlock command was hammered repeatedly". iperf3 from the
// host into the guest, unstressed, then at each rate of the ladder
// (stress.doseLadder: 1, 3, 10, 30, 100 cycles/s and flat out), then in
// recovery. Each step's throughput is taken over the same run's unstressed
// phase (paired); each step's cycle latency p50/p99 and achieved rate are
// recorded; the knee is the lowest rate at which throughput falls below
// throughputUnderHammer — a metric the gate and history compare.
import { suite } from '../harness/suite.ts';
import { bringUp, judgeLiveness, judgeRecoveryPhase } from '../harness/steps.ts';
import { formatDuration } from '../harness/duration.ts';
import { percentile } from '../harness/verdict/latency.ts';
import { Iperf3, longestZeroRun } from '../harness/workload/iperf3.ts';

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
/** A step's name in metrics and reports: `10/s`, or `max`. */
export const doseName = (rate: number | 'max') => (rate === 'max' ? 'max' : `${rate}/s`);

export default suite({
  name: 'wrlock-dose',
  description: 'iperf3 at a ladder of write-lock hammer rates: the dose-response curve and its knee',
  guests: ['linux', 'freebsd'],
  needs: ['wrlock'],
  exclusive: true,
  async run(ctx) {
    const { vm, host, check, metrics, timeline, attach, thresholds: t, hammer, liveness, log } = ctx;
    await bringUp(ctx);
    await vm.poll(vm.probes.interfaces, /^\S+ up$/m, t.commandMs);
    await liveness.start();
    const iperf3 = new Iperf3(host, timeline, await vm.iperf3Target(), attach);
    const seconds = Math.max(2, Math.round(t.iperfPhaseMs / 1000));
    const direction = 'host-to-guest';

    const unstressed = await check.step('iperf3 unstressed', () => iperf3.run({ phase: 'unstressed', seconds }));
    const base = unstressed.meanMbps;
    check.that('unstressed throughput is measurable', !unstressed.error && base > 0, { measured: unstressed.error ?? `${base.toFixed(0)} Mbit/s`, threshold: '> 0' });
    if (!(base > 0)) return;
    metrics.record('throughput', base, { dose: 'unstressed', direction });

    // Up the ladder: each step the hammer at one rate while iperf3 runs.
    const steps: Array<{ dose: string; rate: number; ratio: number; p50: number; p99: number; zeroSeconds: number; error?: string }> = [];
    for (const rate of t.doseLadder) {
      const dose = doseName(rate);
      const hammerFrom = Date.now();
      hammer.start({ rate });
      const r = await check.step(`iperf3 at ${dose === 'max' ? 'the hammer flat out' : `${dose} write-lock cycles`}`, () => iperf3.run({ phase: `dose ${dose}`, seconds, underStress: true }));
      const h = await hammer.stop();
      // The rate over the hammer's own run: it starts before iperf3 and stops after it.
      const step = { dose, rate: h.cycles / Math.max(1, (Date.now() - hammerFrom) / 1000), ratio: r.meanMbps / base, p50: percentile(h.latenciesMs, 50), p99: percentile(h.latenciesMs, 99), zeroSeconds: longestZeroRun(r.intervals), ...(r.error ? { error: r.error } : {}) };
      steps.push(step);
      log(`dose ${dose}: ${step.rate.toFixed(1)} cycles/s, throughput ${pct(step.ratio)} of unstressed, cycle p99 ${formatDuration(step.p99)}`);
      check.that(`the hammer ran at ${dose}`, h.cycles > 0 && h.failed === 0, { measured: `${h.cycles} cycles, ${h.failed} failed`, threshold: '> 0 cycles, none failed' });
      if (r.error) continue;
      metrics.record('throughput-ratio', step.ratio, { dose, direction });
      metrics.record('wrlock-cycle-rate', step.rate, { dose });
      if (h.latenciesMs.length === 0) continue; // no cycle timed: the check above failed, and no latency is made up
      metrics.record('wrlock-cycle-p50', step.p50, { dose });
      metrics.record('wrlock-cycle-p99', step.p99, { dose });
    }
    const recovery = await check.step('iperf3 after the hammer stops', () => iperf3.run({ phase: 'recovery', seconds, omitSeconds: 0, underStress: true }));

    // The knee: the lowest rate whose throughput fell below the threshold; the curve reached no knee when none did.
    const knee = steps.find((s) => !s.error && s.ratio < t.throughputUnderHammer);
    const reached = Math.max(...steps.map((s) => s.rate));
    metrics.record('dose-knee', knee ? knee.rate : reached);
    attach('dose-curve.json', `${JSON.stringify({ unstressedMbps: base, threshold: t.throughputUnderHammer, steps, knee: knee ? knee.dose : null }, null, 1)}\n`);
    timeline.event('dose-curve', `${steps.map((s) => `${s.dose} ${pct(s.ratio)}`).join(', ')}; knee ${knee ? `at ${knee.dose} (${knee.rate.toFixed(1)} cycles/s)` : `not reached up to ${reached.toFixed(0)} cycles/s`}`);

    for (const s of steps) {
      check.that(`iperf3 runs to its end at ${s.dose}`, !s.error, { measured: s.error ?? 'completed', threshold: 'completed' });
    }
    const stall = Math.max(...steps.map((s) => s.zeroSeconds));
    check.that('no step stalls (no long run of zero-throughput intervals)', stall * 1000 <= t.zeroThroughputRunMs, { measured: `${stall} s`, threshold: `<= ${formatDuration(t.zeroThroughputRunMs)}` });
    judgeRecoveryPhase(ctx, 'throughput recovers after the last step', unstressed, recovery);
    judgeLiveness(ctx);
  },
});
