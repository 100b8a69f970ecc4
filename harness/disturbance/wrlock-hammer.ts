// The wrlock hammer: `bhyvectl --vm=NAME --wrlock-cycle` in a loop on the host
// (no ssh round trip per cycle), at a dose. The loop prints `S n` before and
// `E n rc` after each cycle, and what bhyvectl printed, if anything, as `O n`
// lines before the `E`; the harness times the lines as they arrive, so no
// host clock with sub-second resolution is needed (illumos date(1) has none).
// A cycle without its `E` past the deadline is a blocked write lock: a hang.
import { InfraError, messageOf } from '../errors.ts';
import { UnexpectedOutput } from '../platform/host-output.ts';
import { percentile } from '../verdict/latency.ts';
import { wrlockCycleFailure } from '../platform/bhyvectl.ts';
import type { Host } from '../host.ts';
import type { Timeline } from '../timeline.ts';
import { shJoin } from '../transport/quote.ts';
import type { RunningCommand } from '../transport/types.ts';
import { onLines } from '../transport/lines.ts';
import type { Watchdog } from '../watch/watchdog.ts';
import type { WrlockTraceRecipe } from '../platform/wrlock-trace.ts';
import { type TracedCycle, WrlockTracer } from './wrlock-tracer.ts';

/**
 * How hard to hammer: cycles per second (or as fast as bhyvectl returns); the
 * pattern — steady, bursts of `on` seconds hammering then `off` seconds quiet,
 * or random gaps averaging the rate (seeded, so a run can be repeated); and for
 * how many cycles (0 or none: until stopped).
 */
export interface WrlockDose {
  rate: number | 'max';
  pattern?: 'steady' | 'random' | { burst: { onS: number; offS: number } };
  seed?: number;
  count?: number;
}

export interface HammerSummary {
  cycles: number;
  failed: number;
  /** Failed cycles by why: the errno (vm_wrlock_cycle()'s, bhyvectl's exit status), named, or the vm that could not be opened. */
  failures: Record<string, number>;
  /** Cycle latencies in ms, in order. */
  latenciesMs: number[];
  /** A cycle that never returned, if any. */
  blocked?: { cycle: number; forMs: number };
  /** The cycles as the host's kernel timed them (platform/wrlock-trace.ts), or why they were not. */
  kernel: KernelTiming;
}

/**
 * The kernel's timing of the cycles: each traced one's time from the ioctl's
 * entry to its return, in µs, in the order they came; the cycles it has none
 * for (begun before the tracer was ready, or while it was gone); why it
 * stopped, if it failed; what it said on stderr (drops).
 */
export type KernelTiming = { timing: string; latenciesUs: number[]; untraced: number; failed?: string; said: string[] } | { off: string };

/** How long the hammer waits, once stopped, for the tracer's lines of its last cycles (DTrace's switchrate is 10 Hz). */
const TRACE_SETTLE_MS = 600;

/**
 * The host-side loop, POSIX sh. It first times five `--get-active-cpus`
 * calls (`C n` / `CE n`), which hold nothing: the cost of a bhyvectl call
 * itself, the floor under every cycle's latency (see heldMs). Their median,
 * not their quickest: a floor below the typical call would count every
 * cycle's noise as time the vCPUs were held.
 *
 * `sh -c LOOP hammer BHYVECTL VM INTERVAL COUNT PATTERN ON OFF SEED`, PATTERN
 * one of steady, burst (ON seconds hammering, OFF quiet), random (gaps drawn
 * uniformly from 0 to twice INTERVAL by awk, seeded with SEED + cycle).
 * Each cycle's bhyvectl runs in the background of its command substitution
 * so that its pid is printed (`P n PID`, on the loop's stdout as fd 3): the
 * kernel's timing of that cycle (platform/wrlock-trace.ts) is found by it.
 */
export const HAMMER_SH = `exec 3>&1
for i in 1 2 3 4 5; do echo "C $i"; out=$("$1" --vm="$2" --get-active-cpus 2>&1); echo "CE $i"; done
i=0
start=$(date +%s)
while [ "$4" -eq 0 ] || [ "$i" -lt "$4" ]; do
	if [ "$5" = burst ]; then
		at=$(( ($(date +%s) - start) % ($6 + $7) ))
		if [ "$at" -ge "$6" ]; then sleep $(($6 + $7 - at)); continue; fi
	fi
	i=$((i + 1))
	echo "S $i"
	out=$("$1" --vm="$2" --wrlock-cycle 2>&1 & echo "P $i $!" >&3; wait $!)
	rc=$?
	[ -z "$out" ] || printf '%s\\n' "$out" | sed "s/^/O $i /"
	echo "E $i $rc"
	if [ "$5" = random ]; then
		sleep "$(awk -v s=$(($8 + i)) -v m="$3" 'BEGIN { srand(s); printf "%.3f", rand() * 2 * m }')"
	elif [ "$3" != 0 ]; then
		sleep "$3"
	fi
done
echo "DONE $i"`;

/**
 * One line of the loop, read: what it prints and nothing else (bhyvectl's own
 * output comes as `O n TEXT` lines). Any other line is an error quoting the
 * loop's last lines (`recent`, the line among them).
 */
export type HammerLine = { kind: 'C' | 'CE' | 'S' | 'DONE'; n: number } | { kind: 'E'; n: number; rc: number } | { kind: 'P'; n: number; pid: number } | { kind: 'O'; n: number; text: string };

export function readHammerLine(line: string, recent: string[], vm: string): HammerLine {
  const m = /^(?:(C|CE|S|DONE) (\d+)|(E) (\d+) (\d+)|(P) (\d+) (\d+)|(O) (\d+) (.*))$/.exec(line);
  if (!m) throw new UnexpectedOutput({ command: `the write-lock hammer loop on ${vm}`, expected: '`C n`, `CE n`, `S n`, `P n PID`, `O n TEXT`, `E n STATUS` and `DONE n` lines (HAMMER_SH)' }, recent.slice(-8).join('\n'), `the line ${JSON.stringify(line)} is not one`);
  if (m[1]) return { kind: m[1] as 'C' | 'CE' | 'S' | 'DONE', n: Number(m[2]) };
  if (m[3]) return { kind: 'E', n: Number(m[4]), rc: Number(m[5]) };
  if (m[6]) return { kind: 'P', n: Number(m[7]), pid: Number(m[8]) };
  return { kind: 'O', n: Number(m[10]), text: m[11] };
}

const CHECK_EVERY_MS = 50;
/** The longest a host command to run the loop may live. */
const HAMMER_LIFETIME_MS = 24 * 3600_000;

export class WrlockHammer {
  private running?: RunningCommand;
  private inFlight?: { cycle: number; since: number };
  private summary: HammerSummary = { cycles: 0, failed: 0, failures: {}, latenciesMs: [], kernel: { off: 'not traced' } };
  /** The tracer of this start, if the host can trace; the pid of the cycle in flight's bhyvectl; cycles done whose trace has not come. */
  private tracer?: WrlockTracer;
  private tracerStarting?: Promise<void>;
  private inFlightPid?: number;
  private readonly awaitingTrace = new Set<number>();
  private readonly kernelUs: number[] = [];
  private untraced = 0;
  private traceFailure?: string;
  private readonly traceSaid: string[] = [];
  /** The loop ended by itself (its count done, or its session lost): a cycle it left in flight is no longer watched. */
  private loopEnded = false;
  /** Write-lock cycles that took the lock, over every start: the test's exposure. */
  private taken = 0;
  private timer?: NodeJS.Timeout;
  /** The loop's lines and their arrival times, kept raw: the transcript is written only when evidence asks for it. */
  private readonly logLines: string[] = [];
  private readonly logTimes: number[] = [];
  /** [start, end] of every finished cycle: the time the vCPUs were held by us. */
  private spans: Array<[number, number]> = [];
  /** What a bhyvectl call costs without holding anything (the median calibration call). */
  private callCostMs?: number;
  private calibrating?: number;
  private calibrations: number[] = [];
  /** What bhyvectl printed for the cycle in flight: why it failed, if it did. */
  private output: string[] = [];

  constructor(
    private readonly host: Host,
    /** The vm, by the name bhyvectl knows it by once it runs (a SmartOS zone's differs from ours). */
    private readonly vm: { readonly vmm: string },
    private readonly watchdog: Watchdog,
    private readonly timeline: Timeline,
    /** A cycle longer than this is a blocked write lock. */
    private readonly deadlineMs: number,
    /** How the host times cycles in its kernel, or why it cannot (its wrlock-trace capability). */
    private readonly trace: WrlockTraceRecipe | { off: string } = { off: 'no tracer was asked for' },
  ) {}

  /** Write-lock cycles that completed, however many times the hammer started: what the host was exposed to. */
  get cyclesTaken(): number {
    return this.taken;
  }

  /** Everything the loop printed, with arrival times: evidence for a hang. */
  get transcript(): string {
    return this.logLines.map((line, i) => `${new Date(this.logTimes[i]).toISOString()} ${line}\n`).join('');
  }

  start(dose: WrlockDose): void {
    if (this.running) throw new InfraError('the wrlock hammer is already running');
    if (dose.rate !== 'max' && !(dose.rate > 0)) throw new InfraError(`wrlock dose rate must be > 0 or "max", got ${dose.rate}`);
    const interval = dose.rate === 'max' ? '0' : (1 / dose.rate).toFixed(3);
    const p = dose.pattern ?? 'steady';
    const [pattern, on, off] = typeof p === 'object' ? ['burst', p.burst.onS, p.burst.offS] : [p, 0, 0];
    if (pattern === 'burst' && !(Number.isInteger(on) && on > 0 && Number.isInteger(off) && off >= 0)) {
      throw new InfraError(`a burst pattern takes whole seconds on (> 0) and off, got on ${on}, off ${off}`);
    }
    const args = [interval, String(dose.count ?? 0), pattern, String(on), String(off), String(dose.seed ?? 1)];
    const command = `sh -c ${shJoin([HAMMER_SH, 'hammer', this.host.platform.bhyvectl, this.vm.vmm, ...args])}`;
    this.running = this.host.transport.start(command, { timeoutMs: HAMMER_LIFETIME_MS, doing: `hammering the write lock of ${this.vm.vmm}`, keepStdout: false });
    this.loopEnded = false;
    // The tracer starts beside the loop, not before it: the dose is not delayed by DTrace compiling its program; cycles before it is ready go untraced, and are counted.
    if ('command' in this.trace) {
      const tracer = new WrlockTracer(this.host, this.trace, this.timeline, (pid, c) => this.traced(pid, c));
      this.tracer = tracer;
      this.tracerStarting = tracer.start();
    }
    this.timeline.event('hammer-start', `rate ${dose.rate}, ${typeof p === 'object' ? `burst ${on} s on / ${off} s off` : p}${dose.count ? `, ${dose.count} cycles` : ''}`);
    const running = this.running;
    // A loop whose session is lost (a host that stops answering) can time no cycle: the watch is broken, the vm not hung.
    running.done.then(() => {
      if (this.running === running) this.loopEnded = true;
    }, (e) => {
      if (this.running !== running) return;
      this.loopEnded = true;
      this.watchdog.broken('wrlock', e instanceof InfraError ? e : new InfraError(messageOf(e)));
    });
    onLines(this.running.stdout, (line, now) => this.line(line, now));
    this.timer = setInterval(() => this.check(), CHECK_EVERY_MS);
  }

  /**
   * After a hang's evidence: waits up to `graceMs` for the cycle in flight,
   * if any, to return. A write-lock cycle blocked in the kernel waits
   * uninterruptibly (vmm.c vcpu_set_state_locked(): cv_wait), and a destroy of
   * its vm would freeze its vCPUs under the host-wide vmm_mtx and block with
   * it held (vmm_sol_dev.c vmm_destroy_begin()): a cycle that never returns
   * means the vm must not be destroyed. Resolves with it, or nothing.
   * Only that cycle counts: a loop still cycling has the next one in flight
   * nearly all the time, and each that returns shows the lock let go.
   */
  async stillBlocked(graceMs: number): Promise<{ cycle: number; forMs: number } | undefined> {
    const blocked = this.inFlight;
    const deadline = Date.now() + graceMs;
    // A loop that is gone (its ssh session lost with the host's answer) says nothing of the cycle it left.
    const waiting = () => this.running && !this.loopEnded && this.inFlight === blocked;
    while (blocked && waiting() && Date.now() < deadline) await new Promise((r) => setTimeout(r, CHECK_EVERY_MS));
    return blocked && waiting() ? { cycle: blocked.cycle, forMs: Date.now() - blocked.since } : undefined;
  }

  private line(line: string, now: number): void {
    this.logLines.push(line);
    this.logTimes.push(now);
    let read: HammerLine;
    try {
      read = readHammerLine(line, this.logLines, this.vm.vmm);
    } catch (e) {
      // Not the loop's: a hammer that cannot tell its cycles cannot time them.
      if (e instanceof UnexpectedOutput) this.watchdog.broken('wrlock', e);
      else throw e;
      return;
    }
    if (read.kind === 'C') this.calibrating = now;
    if (read.kind === 'CE' && this.calibrating !== undefined) {
      this.calibrations.push(now - this.calibrating);
      this.callCostMs = percentile(this.calibrations, 50);
    }
    if (read.kind === 'S') {
      this.inFlight = { cycle: read.n, since: now };
      this.inFlightPid = undefined;
      this.output = [];
    }
    if (read.kind === 'P' && this.inFlight?.cycle === read.n) this.inFlightPid = read.pid;
    if (read.kind === 'O' && this.inFlight?.cycle === read.n) this.output.push(read.text);
    if (read.kind === 'E' && this.inFlight?.cycle === read.n) {
      const ms = now - this.inFlight.since;
      this.summary.cycles++;
      this.summary.latenciesMs.push(ms);
      if (read.rc === 0) this.taken++;
      if (read.rc !== 0) {
        this.summary.failed++;
        const why = wrlockCycleFailure(read.rc, this.output.join('\n'), this.host.platform.errnoNames);
        this.summary.failures[why] = (this.summary.failures[why] ?? 0) + 1;
      }
      this.timeline.sample('wrlock.latency_ms', ms, this.inFlight.since);
      this.spans.push([this.inFlight.since, now]);
      this.inFlight = undefined;
      if (this.tracer && this.inFlightPid !== undefined) {
        const traced = this.tracer.take(this.inFlightPid);
        if (traced) this.kernelUs.push(traced.ns / 1000);
        else this.awaitingTrace.add(this.inFlightPid);
      }
    }
  }

  private check(): void {
    if (!this.inFlight) return;
    const forMs = Date.now() - this.inFlight.since;
    if (forMs > this.deadlineMs) {
      this.summary.blocked = { cycle: this.inFlight.cycle, forMs };
      this.watchdog.hang('wrlock', `write-lock cycle ${this.inFlight.cycle} on ${this.vm.vmm} blocked for ${forMs} ms (deadline ${this.deadlineMs} ms)`);
      clearInterval(this.timer);
    }
  }

  /**
   * How long within [from, to] the vCPUs were held by this hammer's cycles,
   * the one in flight included: guest silence we caused ourselves. Part of a
   * cycle's measured latency is bhyvectl starting and its round trip, with the
   * vCPUs running; only what a cycle takes beyond a call that holds nothing is
   * counted. Counting whole cycles would all but blind the heartbeat watch
   * under a flat-out hammer, whose cycles cover nearly all wall time.
   */
  heldMs(from: number, to: number): number {
    const floor = this.callCostMs ?? 0;
    const overlap = (start: number, end: number) => Math.max(0, Math.min(to, end) - Math.max(from, start + floor));
    let held = this.inFlight ? overlap(this.inFlight.since, to) : 0;
    for (let i = this.spans.length - 1; i >= 0 && this.spans[i][1] > from; i--) held += overlap(this.spans[i][0], this.spans[i][1]);
    return held;
  }

  /** A traced cycle the tracer hands over: ours if one of our cycles ended awaiting it. */
  private traced(pid: number, c: TracedCycle): boolean {
    if (!this.awaitingTrace.delete(pid)) return false;
    this.kernelUs.push(c.ns / 1000);
    return true;
  }

  /** Stops the tracer once the lines of the last cycles have had time to come; what it timed joins the summary. */
  private async stopTracer(): Promise<void> {
    const tracer = this.tracer;
    if (!tracer) return;
    this.tracer = undefined;
    await this.tracerStarting;
    const settle = Date.now() + TRACE_SETTLE_MS;
    while (this.awaitingTrace.size && !tracer.failed && Date.now() < settle) await new Promise((r) => setTimeout(r, 20));
    await tracer.stop();
    this.untraced += this.awaitingTrace.size;
    this.awaitingTrace.clear();
    this.traceFailure ??= tracer.failed;
    this.traceSaid.push(...tracer.stderr);
    const timing = tracer.recipe.timing;
    this.summary.kernel = this.traceFailure && !this.kernelUs.length
      ? { off: this.traceFailure }
      : { timing, latenciesUs: this.kernelUs, untraced: this.untraced, said: this.traceSaid, ...(this.traceFailure ? { failed: this.traceFailure } : {}) };
  }

  /** Stops the loop (killing a blocked bhyvectl with it) and the tracer, and returns what they did. */
  async stop(): Promise<HammerSummary> {
    clearInterval(this.timer);
    if ('off' in this.trace) this.summary.kernel = { off: this.trace.off };
    if (this.running) {
      // Ours no longer before it is killed: its end (ssh exits 255 when its command is killed) is no lost session.
      const running = this.running;
      this.running = undefined;
      await running.kill();
      this.timeline.event('hammer-stop', `${this.summary.cycles} cycles`);
    }
    if (this.inFlight && !this.summary.blocked) {
      const forMs = Date.now() - this.inFlight.since;
      if (forMs > this.deadlineMs) this.summary.blocked = { cycle: this.inFlight.cycle, forMs };
    }
    // What became of a cycle killed with the loop is not seen any more.
    this.inFlight = undefined;
    await this.stopTracer();
    return this.summary;
  }
}
