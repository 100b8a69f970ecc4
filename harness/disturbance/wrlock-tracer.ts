// The tracer beside the hammer: the platform's command that times each
// write-lock cycle in the kernel (platform/wrlock-trace.ts), started with the
// hammer and stopped with it. It hands each traced cycle to the hammer by the
// pid of the bhyvectl that made it; the hammer knows its cycles' pids.
import { InfraError, messageOf } from '../errors.ts';
import type { Host } from '../host.ts';
import { UnexpectedOutput } from '../platform/host-output.ts';
import { readTraceLine, type WrlockTraceRecipe } from '../platform/wrlock-trace.ts';
import type { Timeline } from '../timeline.ts';
import { onLines } from '../transport/lines.ts';
import type { RunningCommand } from '../transport/types.ts';

/** How long the tracer may take to say it is tracing (DTrace compiles and enables its probes). */
export const TRACER_READY_MS = 20_000;
/** A traced cycle no cycle of ours claims within this long is another bhyvectl's: forgotten. */
const UNCLAIMED_KEEP_MS = 30_000;

export interface TracedCycle {
  ns: number;
  errno: number;
}

export class WrlockTracer {
  private running?: RunningCommand;
  /** Traced cycles not yet claimed by a cycle of the hammer, by bhyvectl pid, with when they came. */
  private readonly unclaimed = new Map<number, TracedCycle & { at: number }>();
  /** What the tracer said on stderr: drops, errors. */
  private readonly said: string[] = [];
  private failure?: string;

  constructor(
    private readonly host: Host,
    readonly recipe: WrlockTraceRecipe,
    private readonly timeline: Timeline,
    private readonly onCycle: (pid: number, cycle: TracedCycle) => boolean,
  ) {}

  /** Why the tracer gave no figures, if it failed: its own words. */
  get failed(): string | undefined {
    return this.failure;
  }

  /** What it said on stderr (DTrace's drops: `dtrace: N drops on CPU M`, dt_handle.c dt_handle_cpudrop()). */
  get stderr(): string[] {
    return this.said;
  }

  /** Starts the tracer; resolves once it is tracing, or has failed (said by `failed`). */
  async start(): Promise<void> {
    const command = this.recipe.command;
    const running = this.host.transport.start(command, { timeoutMs: 24 * 3600_000, doing: 'tracing the write-lock cycles in the kernel', keepStdout: false });
    this.running = running;
    let ready!: () => void;
    const readied = new Promise<void>((r) => (ready = r));
    onLines(running.stdout, (line, now) => {
      try {
        const read = readTraceLine(line, command);
        if (read?.kind === 'ready') ready();
        else if (read?.kind === 'cycle' && !this.onCycle(read.pid, read)) {
          this.unclaimed.set(read.pid, { ...read, at: now });
          for (const [pid, c] of this.unclaimed) if (now - c.at > UNCLAIMED_KEEP_MS) this.unclaimed.delete(pid);
        }
      } catch (e) {
        if (!(e instanceof UnexpectedOutput)) throw e;
        this.fail(e.message);
      }
    });
    onLines(running.stderr, (line) => {
      if (line.trim()) this.said.push(line);
    });
    const ended = running.done.then(
      (r) => `it ended (exit ${r.exitCode})${this.said.length ? `: ${this.said.slice(-5).join(' | ')}` : ''}`,
      (e) => messageOf(e),
    );
    const outcome = await Promise.race([
      readied.then(() => undefined),
      ended,
      new Promise<string>((r) => setTimeout(() => r(`it did not say it was tracing within ${TRACER_READY_MS / 1000} s`), TRACER_READY_MS).unref()),
    ]);
    if (outcome !== undefined) this.fail(outcome);
    else {
      this.timeline.event('wrlock-trace', `tracing: ${this.recipe.timing}`);
      // A tracer that ends while the hammer runs leaves the rest of the cycles untimed: said, not silent.
      void ended.then((why) => {
        if (this.running === running) this.fail(why);
      });
    }
  }

  /** A traced cycle that came before the hammer's `E` line, taken out; undefined when it has not come (yet). */
  take(pid: number): TracedCycle | undefined {
    const c = this.unclaimed.get(pid);
    if (c) this.unclaimed.delete(pid);
    return c;
  }

  private fail(why: string): void {
    if (this.failure) return;
    this.failure = `the tracer (${this.recipe.command.length > 80 ? `${this.recipe.command.slice(0, 80)}…` : this.recipe.command}) failed: ${why}`;
    this.timeline.event('wrlock-trace-failed', this.failure);
    this.stop().catch(() => {});
  }

  async stop(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    await running?.kill().catch((e) => {
      throw new InfraError(`stopping the write-lock tracer: ${messageOf(e)}`);
    });
  }
}
