// Whether a host lives through the run. Its boot id is read every couple of
// seconds while tests run on it, and three things are told apart:
//   - a dropped connection: no answer for a moment, then the same boot id —
//     not a finding (a note; the run goes on);
//   - a reboot or panic: another boot id, every vm of the host gone at once;
//   - an unresponsive host: no answer for longer than the limit.
// The last two are the worst a lock bug does, and a finding on every test
// running there (run/host-death.ts), never an infrastructure error to retry.
// Once the host is back, its crash record is read with the platform's tools.
import { messageOf } from '../errors.ts';
import type { Host } from '../host.ts';
import { crashLine, crashRecords, readCrash, type CrashEvidence } from './crash.ts';
import { readBootId, tryBootId } from './boot-id.ts';

export interface HostDeath {
  host: string;
  kind: 'rebooted' | 'unresponsive';
  /** When the harness knew: the new boot id seen, or the limit passed without an answer. */
  noticedAt: string;
  /** The old boot's last answer. */
  lastAnswer: { at: string; bootId: string };
  /** The boot id it came back with, if it came back rebooted. */
  bootIdAfter?: string;
  /** An unresponsive host that answered again with the same boot id: when. */
  answeredAgainAt?: string;
  /** What its crash record says, once it is back (absent while it is not). */
  crash?: CrashEvidence;
  /** The finding in one line. */
  summary: string;
}

export interface VitalsOptions {
  /** No answer for longer than this is an unresponsive host. */
  unresponsiveMs: number;
  /** How long a dead host is waited for before its finding is made without its crash record. */
  returnMs: number;
  /** How long a crash record is waited for once the host answers (savecore may still be saving the dump). */
  crashWaitMs: number;
  pollMs?: number;
  /** A line for the run's output (a dropped connection, a host back). */
  note(line: string): void;
}

const POLL_MS = 2_000;
const iso = (ms: number) => new Date(ms).toISOString();
const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

export class HostVitals {
  private bootId = '';
  private lastAnswerAt = 0;
  private downSince?: number;
  /** An unresponsive death whose host has not answered since. */
  private open?: HostDeath;
  private readonly deaths: HostDeath[] = [];
  private readonly onDeath = new Set<(d: HostDeath) => void>();
  private readonly onAnswer = new Set<() => void>();
  private readonly evidence = new Map<HostDeath, Promise<HostDeath>>();
  /** The crash records there before (a record not among them is a death's), or why they could not be listed. */
  private known: string[] = [];
  private knownProblem?: string;
  private timer?: NodeJS.Timeout;
  /** The boot id read in flight: one at a time, and a host that does not answer holds it up to its timeout. */
  private polling?: Promise<void>;

  constructor(private readonly host: Host, private readonly o: VitalsOptions) {}

  /** Reads the boot id (an InfraError when it cannot: such a host runs nothing) and the crash records there, then watches. */
  async start(): Promise<void> {
    this.bootId = await readBootId(this.host, `reading the boot id of ${this.host.name} to watch it through the run`);
    this.lastAnswerAt = Date.now();
    try {
      this.known = await crashRecords(this.host);
    } catch (e) {
      this.knownProblem = messageOf(e).split('\n')[0];
      this.o.note(`host ${this.host.name}: its crash records cannot be listed, so a panic's would not be found: ${this.knownProblem}`);
    }
    this.timer = setInterval(() => void this.tick(), this.o.pollMs ?? POLL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The next death noticed from now on: what a running test races. `cancel` lets go of it. */
  nextDeath(): { death: Promise<HostDeath>; cancel(): void } {
    let listener!: (d: HostDeath) => void;
    const death = new Promise<HostDeath>((resolve) => {
      listener = resolve;
      this.onDeath.add(listener);
    });
    return { death, cancel: () => this.onDeath.delete(listener) };
  }

  /**
   * After a test that did not pass: whether the host died since `since`.
   * Asks at once; while the host does not answer, waits for its answer or for
   * the limit to make it unresponsive.
   */
  async judge(since: number): Promise<HostDeath | undefined> {
    const seen = () => this.deaths.find((d) => Date.parse(d.noticedAt) >= since);
    if (seen()) return seen();
    const asked = Date.now();
    await this.tick();
    if (seen() || this.lastAnswerAt >= asked) return seen();
    const answered = new Promise<void>((resolve) => this.onAnswer.add(resolve));
    const { death, cancel } = this.nextDeath();
    await Promise.race([answered, death]);
    cancel();
    return seen();
  }

  /** The death with its crash record: waits (once per death) for the host to come back, then reads the record. */
  withEvidence(death: HostDeath): Promise<HostDeath> {
    if (!this.evidence.has(death)) this.evidence.set(death, this.gather(death));
    return this.evidence.get(death)!;
  }

  private async gather(death: HostDeath): Promise<HostDeath> {
    if (!death.bootIdAfter && !death.answeredAgainAt) {
      const back = new Promise<void>((resolve) => this.onAnswer.add(resolve));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([back, new Promise<void>((resolve) => { timer = setTimeout(resolve, this.o.returnMs); })]);
      clearTimeout(timer);
    }
    if (death.bootIdAfter) {
      death.crash = this.knownProblem
        ? { files: [], missing: `the crash records could not be listed when the run began: ${this.knownProblem}` }
        : await readCrash(this.host, this.known, { waitMs: this.o.crashWaitMs });
      if (death.crash.record) this.known = [...this.known, death.crash.record];
    }
    death.summary = summarize(death, this.o, true);
    return death;
  }

  /** Reads the boot id, or waits for the read in flight; either way judges whether the host has been silent too long. */
  private tick(): Promise<void> {
    this.checkUnresponsive();
    this.polling ??= this.poll().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  private async poll(): Promise<void> {
    const started = Date.now();
    const r = await tryBootId(this.host).catch((e) => ({ problem: messageOf(e) }));
    const now = Date.now();
    // A read that failed, or waited longer than the reads' interval for its answer, was the host not answering.
    const silentSince = this.downSince ?? (now - started > (this.o.pollMs ?? POLL_MS) ? started : undefined);
    if (!('id' in r)) {
      this.downSince ??= now;
      return this.checkUnresponsive();
    }
    if (r.id !== this.bootId) {
      if (this.open) this.open.bootIdAfter = r.id;
      else this.declare({ kind: 'rebooted', noticedAt: iso(now), bootIdAfter: r.id });
    } else if (this.open) {
      this.open.answeredAgainAt = iso(now);
    } else if (silentSince !== undefined) {
      this.o.note(`host ${this.host.name} did not answer for ${seconds(now - silentSince)}, then answered on the same boot: a dropped connection, not a finding`);
    }
    this.open = undefined;
    this.bootId = r.id;
    this.lastAnswerAt = now;
    this.downSince = undefined;
    for (const f of [...this.onAnswer]) f();
    this.onAnswer.clear();
  }

  /** No answer for longer than the limit, whether its reads failed or are still waiting: unresponsive. */
  private checkUnresponsive(): void {
    const now = Date.now();
    if (this.open || now - this.lastAnswerAt <= this.o.unresponsiveMs) return;
    this.downSince ??= this.lastAnswerAt;
    this.open = this.declare({ kind: 'unresponsive', noticedAt: iso(now) });
  }

  private declare(d: Pick<HostDeath, 'kind' | 'noticedAt' | 'bootIdAfter'>): HostDeath {
    const death: HostDeath = { host: this.host.name, ...d, lastAnswer: { at: iso(this.lastAnswerAt), bootId: this.bootId }, summary: '' };
    death.summary = summarize(death, this.o);
    this.deaths.push(death);
    for (const f of [...this.onDeath]) f(death);
    this.onDeath.clear();
    return death;
  }
}

/** The finding in one line: what happened to the host and, once it was waited for (`final`), how it came back and what its crash record says. */
export function summarize(d: HostDeath, o: Pick<VitalsOptions, 'unresponsiveMs' | 'returnMs'>, final = false): string {
  const last = `its last answer: boot id ${d.lastAnswer.bootId} at ${d.lastAnswer.at}`;
  const crash = d.crash ? (d.crash.reading ? `: ${crashLine(d.crash.reading)}` : `; no crash record: ${d.crash.missing}`) : '';
  if (d.kind === 'rebooted') return `host ${d.host} rebooted under the test (boot id ${d.lastAnswer.bootId} → ${d.bootIdAfter}, noticed at ${d.noticedAt})${crash}`;
  const then = d.bootIdAfter ? `; it came back rebooted (boot id ${d.bootIdAfter})${crash}`
    : d.answeredAgainAt ? `; it answered again at ${d.answeredAgainAt} on the same boot`
    : final ? `; it did not come back within ${seconds(o.returnMs)}` : '';
  return `host ${d.host} stopped answering (no answer for more than ${seconds(o.unresponsiveMs)}, noticed at ${d.noticedAt}; ${last})${then}`;
}
