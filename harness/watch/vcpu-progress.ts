// vCPU progress from the host: a loop on the host samples each vCPU's run-time
// counter (the platform's recipe) every interval. While armed, the vm must make
// progress — some vCPU's counter must move — within the gap threshold. Time
// the hammer holds the vCPUs is not subtracted: between cycles the vCPUs run,
// so even a flat-out hammer leaves the counters moving from sample to sample,
// and a cycle held past its deadline is the hammer's own hang. A frozen vm (its process
// stopped, every vCPU parked in a rendezvous) trips it even when nothing
// reaches the guest's console, and a stats command that itself blocks (the
// write lock wedged) counts as no progress. Single vCPUs may idle for long
// (tickless kernels), so only the vm as a whole is judged; the per-vCPU
// counters go to the Timeline and the hang message. Each sample has a
// deadline of its own, the stall threshold: a read that has not come back
// (FreeBSD's VM_STATS freezes the vCPU it reads, see vcpu-stats.ts) is named
// in the hang, vCPU and all, as evidence that the vCPU cannot be frozen.
import type { Host } from '../host.ts';
import { UnexpectedOutput } from '../platform/host-output.ts';
import type { VcpuSample } from '../platform/vcpu-stats.ts';
import type { Timeline } from '../timeline.ts';
import { onLines } from '../transport/lines.ts';
import { shJoin } from '../transport/quote.ts';
import type { RunningCommand } from '../transport/types.ts';
import type { Watchdog } from './watchdog.ts';

const CHECK_EVERY_MS = 100;
const LOOP_LIFETIME_MS = 24 * 3600_000;

export class VcpuProgressWatch {
  private running?: RunningCommand;
  private timer?: NodeJS.Timeout;
  private armedAt?: number;
  private lastProgress?: number;
  private previous = new Map<number, number>();
  private sample = '';
  private maxStall = 0;
  /** When the sample under way began, and the vCPU it is reading (`R N`), if the recipe says. */
  private reading?: { since: number; cpu?: number };
  /** Why the last sample had no counters: the vm was not there to read. */
  private absent?: string;
  /** Why the watch stood down: the host keeps no counters of the vm (its first samples told). */
  off?: string;

  constructor(
    private readonly host: Host,
    /** The vm, by the name bhyvectl knows it by once it runs (a SmartOS zone's differs from ours). */
    private readonly vm: { readonly vmm: string },
    private readonly cpus: number,
    private readonly watchdog: Watchdog,
    private readonly timeline: Timeline,
    private readonly o: { intervalMs: number; maxStallMs: number },
  ) {}

  /** Arms the watch, starting the sampling loop on the host the first time. */
  start(): void {
    if (this.off) return;
    this.armedAt = Date.now();
    this.lastProgress = undefined;
    if (!this.running) {
      const seconds = (Math.max(100, this.o.intervalMs) / 1000).toFixed(3);
      const loop = `while :; do echo BEGIN; ${this.host.platform.vcpuProgress.command(this.vm.vmm, this.cpus)}; echo SAMPLE; sleep ${seconds}; done`;
      this.running = this.host.transport.start(`sh -c ${shJoin([loop])}`, { timeoutMs: LOOP_LIFETIME_MS, doing: `sampling the vCPUs of ${this.vm.vmm}`, keepStdout: false });
      this.running.done.catch(() => {});
      onLines(this.running.stdout, (line, now) => this.line(line, now));
      this.timer = setInterval(() => this.check(), CHECK_EVERY_MS);
    }
  }

  /** Across a reboot or shutdown: no vCPU need run. */
  pause(): void {
    this.armedAt = undefined;
  }

  async stop(): Promise<void> {
    this.pause();
    clearInterval(this.timer);
    await this.running?.kill();
    this.running = undefined;
  }

  /** The longest the vm went without vCPU progress while armed, in ms. */
  get maxStallMs(): number {
    return this.maxStall;
  }

  private line(line: string, now: number): void {
    if (line === 'BEGIN') {
      this.reading = { since: now };
      return;
    }
    const read = /^R (\d+)$/.exec(line);
    if (read) this.reading = { since: this.reading?.since ?? now, cpu: Number(read[1]) };
    if (line !== 'SAMPLE') {
      this.sample += `${line}\n`;
      return;
    }
    this.reading = undefined;
    const text = this.sample;
    this.sample = '';
    let sample: VcpuSample;
    try {
      sample = this.host.platform.vcpuProgress.parse(text, this.vm.vmm, this.cpus);
    } catch (e) {
      if (!(e instanceof UnexpectedOutput)) throw e;
      // Across a reboot the vm is in flux; while armed, a sample it cannot read leaves the watch blind.
      if (this.armedAt !== undefined) {
        this.watchdog.broken('vcpu-progress', e);
        this.pause();
      }
      return;
    }
    if ('absent' in sample) {
      this.absent = sample.absent;
      return;
    }
    if ('unavailable' in sample) {
      // Not a vm standing still: a host without the counters. The test goes on without this watch, and says so.
      this.off = `host ${this.host.name} has no vcpu-stats capability: ${sample.unavailable}`;
      this.timeline.event('vcpu-watch-off', this.off);
      void this.stop();
      return;
    }
    this.absent = undefined;
    let moved = false;
    for (const [cpu, value] of sample.counters) {
      const before = this.previous.get(cpu);
      // A counter that drops was reset (the vm restarted): that is progress too.
      if (before !== undefined && value !== before) moved = true;
      if (before !== undefined) this.timeline.sample(`vcpu${cpu}.progress`, Math.max(0, value - before), now);
      this.previous.set(cpu, value);
    }
    if (moved) {
      if (this.armedAt !== undefined) this.maxStall = Math.max(this.maxStall, this.stall(now));
      this.lastProgress = now;
    }
  }

  private stall(now: number): number {
    const since = Math.max(this.lastProgress ?? 0, this.armedAt ?? now);
    return now - since;
  }

  private check(): void {
    if (this.armedAt === undefined || this.off) return;
    const now = Date.now();
    const stall = this.stall(now);
    if (stall > this.o.maxStallMs) {
      this.maxStall = Math.max(this.maxStall, stall);
      // A read under way for longer than a sample interval (a healthy one takes milliseconds) is the evidence: what it waits for cannot be taken.
      if (this.reading && now - this.reading.since > this.o.intervalMs) {
        const what = this.reading.cpu === undefined ? 'the vCPU counters' : `vcpu${this.reading.cpu}'s counters`;
        this.watchdog.hang('vcpu-progress', `reading ${what} of ${this.vm.vmm} has not returned for ${now - this.reading.since} ms (no progress for ${stall} ms, threshold ${this.o.maxStallMs} ms): blocked in the host's vmm`);
        this.pause();
        return;
      }
      const counters = [...this.previous].map(([cpu, v]) => `vcpu${cpu} ${v}`).join(', ') || 'no counters read';
      const gone = this.absent ? `; the last sample found no vm: ${this.absent}` : '';
      this.watchdog.hang('vcpu-progress', `no vCPU of ${this.vm.vmm} made progress for ${stall} ms (threshold ${this.o.maxStallMs} ms; last counters: ${counters}${gone})`);
      this.pause();
    }
  }
}
