// iperf3: the server runs in the guest, the client on the host side, and each
// one-second interval is read as the client prints it (--forceflush) and put
// into the Timeline. Host-side numbers only: the guest's clock stops while its
// vCPUs are held, so its own rates are inflated. iperf3 3.12 (Debian 12) has
// no streaming JSON, so the text intervals are parsed.
import type { Host } from '../host.ts';
import type { Sample, Timeline, TimelineEvent } from '../timeline.ts';
import { shJoin } from '../transport/quote.ts';
import { onLines } from '../transport/lines.ts';
import { InfraError } from '../errors.ts';
import { UnexpectedOutput } from '../platform/host-output.ts';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Iperf3Interval {
  /** Arrival time, ms since the epoch. */
  t: number;
  mbps: number;
}

export interface Iperf3Result {
  phase: string;
  intervals: Iperf3Interval[];
  /** Megabits per second over the measured intervals (warm-up omitted). */
  meanMbps: number;
  /** Why iperf3 did not run to its end, for a phase under stress (see run()). */
  error?: string;
}

/** An interval line: `[  5]   1.00-2.00   sec  61.2 MBytes   514 Mbits/sec ...`; `[SUM]` with -P. */
const INTERVAL = /^\[\s*(\d+|SUM)\]\s+[\d.]+-[\d.]+\s+sec\s+[\d.]+\s+\w?Bytes\s+([\d.]+)\s+(\w?)bits\/sec(?!.*\b(sender|receiver)\b)(?!.*omitted)/;
const SCALE: Record<string, number> = { '': 1e-6, K: 1e-3, M: 1, G: 1e3 };
const CONNECT_TIMEOUT_MS = 5_000;
/** The server is still busy with, or closing, the test before. */
const SERVER_NOT_READY = /server is busy|unable to receive control message|unable to connect to server|Connection reset by peer|control socket has closed/;
const SERVER_RETRIES = 5;
const SERVER_RETRY_MS = 1_000;

/** Parses one line of iperf3's text output into megabits per second, if it is a measured interval. */
export function parseInterval(line: string, streams: number): number | undefined {
  const m = INTERVAL.exec(line);
  if (!m || (streams > 1) !== (m[1] === 'SUM')) return undefined;
  return Number(m[2]) * (SCALE[m[3]] ?? 1);
}

/**
 * A run that went to its end printed measured intervals: one that printed
 * none (another iperf3's format, JSON, a message) is output the harness does
 * not read, never a throughput of zero.
 */
export function checkIntervalsRead(count: number, output: string, command: string): void {
  if (count === 0) throw new UnexpectedOutput({ command, expected: 'interval lines `[ ID]   A-B   sec  N MBytes  N Mbits/sec …` (iperf3 3.x text output, `-i 1 -f m`)' }, output, 'no measured interval');
}

export class Iperf3 {
  constructor(
    private readonly host: Host,
    private readonly timeline: Timeline,
    /** `host:port` of the guest's iperf3 server, as the host reaches it. */
    private readonly target: string,
    /** Keeps each run's raw output (the test's attach()). */
    private readonly keep: (name: string, content: string) => void = () => {},
  ) {}

  /**
   * Runs one phase; every interval lands in the Timeline as `iperf3.mbps`. An
   * iperf3 that fails is an infrastructure error, except `underStress`: there
   * it is a finding, returned with the intervals it managed.
   */
  async run(o: { phase: string; seconds: number; omitSeconds?: number; reverse?: boolean; streams?: number; underStress?: boolean }): Promise<Iperf3Result> {
    // iperf3's server takes one test at a time; a guest slowed by the phase
    // before may still be closing that test. Such a refusal, before any
    // interval, is retried: it says nothing about this phase.
    for (let attempt = 1; ; attempt++) {
      const r = await this.once(o, attempt);
      if (!r.error || r.intervals.length > 0 || !SERVER_NOT_READY.test(r.error) || attempt >= SERVER_RETRIES) {
        if (r.error && !o.underStress) throw new InfraError(r.error);
        return r;
      }
      this.timeline.event('iperf3-retry', r.error);
      await sleep(SERVER_RETRY_MS);
    }
  }

  private async once(o: { phase: string; seconds: number; omitSeconds?: number; reverse?: boolean; streams?: number }, attempt = 1): Promise<Iperf3Result> {
    const [addr, port] = splitTarget(this.target);
    const streams = o.streams ?? 1;
    const argv = [
      'iperf3', '-c', addr, '-p', port, '-t', String(o.seconds), '-O', String(o.omitSeconds ?? 1),
      '-i', '1', '-f', 'm', '--forceflush', '--connect-timeout', String(CONNECT_TIMEOUT_MS),
      ...(o.reverse ? ['-R'] : []), ...(streams > 1 ? ['-P', String(streams)] : []),
    ];
    this.timeline.event('iperf3-start', `${o.phase}: ${shJoin(argv)}`);
    const running = this.host.transport.start(shJoin(argv), {
      timeoutMs: (o.seconds + (o.omitSeconds ?? 1)) * 1000 + 30_000,
      doing: `running iperf3 (${o.phase}) against ${this.target}`,
    });
    const intervals: Iperf3Interval[] = [];
    onLines(running.stdout, (line, t) => {
      const mbps = parseInterval(line, streams);
      if (mbps === undefined) return;
      intervals.push({ t, mbps });
      this.timeline.sample('iperf3.mbps', mbps, t);
    });
    const r = await running.done;
    // Each try its own file: a refused try's output is not overwritten by the next.
    this.keep(`iperf3-${o.phase}${attempt > 1 ? `.try${attempt}` : ''}.txt`, `$ ${r.command}\n(exit ${r.exitCode}${r.timedOut ? ', timed out' : ''})\n${r.stdout}${r.stderr}`);
    this.timeline.event('iperf3-end', `${o.phase}: ${intervals.length} intervals`);
    const meanMbps = intervals.reduce((s, i) => s + i.mbps, 0) / Math.max(1, intervals.length);
    if (r.exitCode === 0 && !r.timedOut) {
      checkIntervalsRead(intervals.length, r.stdout, r.command);
      return { phase: o.phase, intervals, meanMbps };
    }
    const error = `iperf3 (${o.phase}) against ${this.target} ${r.timedOut ? 'did not finish in time' : `exited ${r.exitCode}`}: ${`${r.stdout}${r.stderr}`.trim().split('\n').slice(-3).join(' / ')}`;
    this.timeline.event('iperf3-failed', error);
    return { phase: o.phase, intervals, meanMbps, error };
  }
}

function splitTarget(target: string): [string, string] {
  const at = target.lastIndexOf(':');
  return [target.slice(0, at).replace(/^\[|\]$/g, ''), target.slice(at + 1)];
}

/** The longest run of consecutive zero-throughput intervals, in seconds (one interval = 1 s). */
export const longestZeroRun = (intervals: readonly Iperf3Interval[]): number => {
  let longest = 0;
  let run = 0;
  for (const i of intervals) {
    run = i.mbps === 0 ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  return longest;
};

/**
 * A phase's intervals (Mbit/s) read back from a test's recorded timeline: the
 * `iperf3.mbps` samples between its `iperf3-start` and `iperf3-end` events,
 * as run() writes them. A phase the timeline does not hold reads as none.
 */
export function phaseIntervals(timeline: { samples: readonly Sample[]; events: readonly TimelineEvent[] }, phase: string): number[] {
  const start = timeline.events.findIndex((e) => e.kind === 'iperf3-start' && e.detail?.startsWith(`${phase}: `));
  if (start < 0) return [];
  const end = timeline.events.slice(start).find((e) => e.kind === 'iperf3-end');
  const [from, to] = [timeline.events[start].t, end?.t ?? Number.POSITIVE_INFINITY];
  return timeline.samples.filter((s) => s.series === 'iperf3.mbps' && s.t >= from && s.t <= to).map((s) => s.value);
}
