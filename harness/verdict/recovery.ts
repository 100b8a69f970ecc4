// Does throughput come back once the write-lock hammer stops? The question
// behind wrlock-iperf's and wrlock-dose's recovery checks, answered from the
// one-second iperf3 intervals of two phases of the same test: the unstressed
// phase before any hammering, and the recovery phase after it.
//
// Two phases of one test are tens of seconds apart, and a shared host drifts
// in between: on the lab, recovery/unstressed of clean runs ranged 0.62–1.61
// (docs/noise.md), whole phases sitting 20–40% off for their ten seconds. The
// statistic is therefore about levels a lingering effect reaches and drift
// does not: medians (one slow second moves neither), a level below drift's
// reach that a threshold from calibration sets (thresholds.recovery), reached
// within `recoveryWithin` and held for the rest of the phase. A finer change
// of recovery throughput between builds is the gate's to see, over many runs.
import { formatDuration } from '../duration.ts';

export interface RecoveryVerdict {
  ok: boolean;
  measured: string;
  threshold: string;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

/**
 * Throughput recovered when a recovery interval reaches `level` × the
 * unstressed phase's median within the first `withinMs` (one-second
 * intervals), and the median of the recovery intervals after that stays at
 * the level. A phase that never reaches it, reaches it late, or falls back
 * fails, saying which.
 */
export function judgeRecovery(unstressedMbps: readonly number[], recoveryMbps: readonly number[], o: { level: number; withinMs: number }): RecoveryVerdict {
  const threshold = `a second at >= ${pct(o.level)} of unstressed within ${formatDuration(o.withinMs)}, and the median after at >= ${pct(o.level)}`;
  if (unstressedMbps.length === 0 || recoveryMbps.length === 0) return { ok: false, measured: `no intervals to judge (unstressed ${unstressedMbps.length}, recovery ${recoveryMbps.length})`, threshold };
  const base = median(unstressedMbps);
  const level = o.level * base;
  const within = Math.max(1, Math.round(o.withinMs / 1000));
  const back = recoveryMbps.findIndex((v) => v >= level);
  const after = recoveryMbps.slice(within);
  const held = after.length ? median(after) : median(recoveryMbps);
  if (back < 0) return { ok: false, measured: `never back to ${pct(o.level)} in ${recoveryMbps.length} s: median ${pct(median(recoveryMbps) / base)} of unstressed ${base.toFixed(0)} Mbit/s`, threshold };
  const ok = back < within && held >= level;
  return { ok, measured: `back to ${pct(o.level)} in interval ${back + 1}, then a median of ${pct(held / base)} of unstressed ${base.toFixed(0)} Mbit/s`, threshold };
}
