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
    private readonly o: { intervalMs: number; maxGapMs: number },
  ) {
    vm.console.onHeartbeat = (uptime) => {
      const now = Date.now();
      if (this.armedAt !== undefined) this.maxGap = Math.max(this.maxGap, now - (this.last ?? this.armedAt));
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

  /** The longest gap between heartbeats while armed, in ms. */
  get maxGapMs(): number {
    return this.maxGap;
  }

  private check(): void {
    if (this.armedAt === undefined) return;
    const since = Date.now() - (this.last ?? this.armedAt);
    if (since > this.o.maxGapMs) {
      this.maxGap = Math.max(this.maxGap, since);
      this.watchdog.hang('heartbeat', `no heartbeat from ${this.vm.name} for ${since} ms (threshold ${this.o.maxGapMs} ms)`);
      this.pause();
    }
  }
}
