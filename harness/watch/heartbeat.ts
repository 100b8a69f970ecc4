// The serial heartbeat: a loop the harness starts in the guest that prints
// `BSM-HB <uptime>` on the console every interval. A gap longer than the
// threshold while the watch is armed is a hang. The watch is disarmed across a
// reboot (the guest is expected to be silent) and armed again once restarted.
import type { Timeline } from '../timeline.ts';
import type { Vm } from '../vm.ts';
import type { Watchdog } from './watchdog.ts';

const CHECK_EVERY_MS = 100;

export class HeartbeatWatch {
  private armedAt?: number;
  private last?: number;
  private maxGap = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly vm: Vm,
    private readonly watchdog: Watchdog,
    private readonly timeline: Timeline,
    private readonly o: {
      intervalMs: number;
      maxGapMs: number;
      /**
       * How long the harness itself held the vCPUs within a span (the wrlock
       * hammer): the guest cannot print while frozen by us, and its clock
       * stops, so that time is not the guest's silence. A slow write lock is a
       * throughput finding, a wedged one is caught by the hammer's deadline.
       */
      heldByUs?: (from: number, to: number) => number;
    },
  ) {
    vm.console.onHeartbeat = (uptime) => {
      const now = Date.now();
      if (this.armedAt !== undefined) this.maxGap = Math.max(this.maxGap, this.gap(this.last ?? this.armedAt, now));
      this.last = now;
      timeline.sample('heartbeat.uptime_s', uptime, now);
    };
  }

  /** Starts the guest's heartbeat loop (again, after a reboot) and arms the watch. */
  async start(): Promise<void> {
    await this.vm.startHeartbeat(this.o.intervalMs);
    this.armedAt = Date.now();
    this.last = undefined;
    this.timeline.event('heartbeat-armed');
    this.timer ??= setInterval(() => this.check(), CHECK_EVERY_MS);
  }

  /** Before a reboot or shutdown: silence is expected until start() again. */
  pause(): void {
    this.armedAt = undefined;
    this.timeline.event('heartbeat-paused');
  }

  stop(): void {
    this.pause();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The longest gap between heartbeats while armed, less time the harness held the vCPUs, in ms. */
  get maxGapMs(): number {
    return this.maxGap;
  }

  /** The guest's own silence between two moments: wall time less what we held. */
  private gap(from: number, to: number): number {
    return to - from - (this.o.heldByUs?.(from, to) ?? 0);
  }

  private check(): void {
    if (this.armedAt === undefined) return;
    const since = this.gap(this.last ?? this.armedAt, Date.now());
    if (since > this.o.maxGapMs) {
      this.maxGap = Math.max(this.maxGap, since);
      this.watchdog.hang('heartbeat', `no heartbeat from ${this.vm.name} for ${since} ms of its own time (threshold ${this.o.maxGapMs} ms)`);
      this.pause();
    }
  }
}
