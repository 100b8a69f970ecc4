// A vm's serial console: one persistent connection (a write followed by a quick
// disconnect can be lost), reconnected whenever bhyve restarts and re-creates
// the socket. Everything the guest prints is kept as the console transcript,
// the evidence a failed test carries.
import { plainText } from '../plain-text.ts';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { InfraError } from '../errors.ts';
import { Secrets } from '../secrets.ts';

const TRANSCRIPT_MAX = 4 * 1024 * 1024;
/** A heartbeat line as the guest loop prints it (see watch/heartbeat.ts). */
const HEARTBEAT = /BSM-HB ([\d.]+)\r?\n/g;
/** The start of a heartbeat line at the end of the text, not yet complete. */
const HEARTBEAT_START = /B(?:S(?:M(?:-(?:H(?:B(?: [\d.]*\r?)?)?)?)?)?)?$/;
const RECONNECT_EVERY_MS = 200;

export class ConsoleSession {
  private stream?: Duplex;
  private transcript = '';
  /** Text not yet consumed by expect(). */
  private unread = '';
  /** The start of a heartbeat line, waiting for its end. */
  private held = '';
  private closed = false;
  private waiters = new Set<() => void>();
  /** Called for each `BSM-HB <uptime>` line; those lines never reach expect(). */
  onHeartbeat: (uptimeS: number) => void = () => {};

  constructor(
    private readonly open: () => Promise<Duplex>,
    readonly describe: string,
    /** Masked in everything read back: a login can echo the password it reads. */
    private readonly secrets = new Secrets([]),
  ) {}

  /** Connects, retrying until the socket exists (bhyve creates it shortly after start). */
  async connect(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const stream = await this.open();
        this.attach(stream);
        return;
      } catch (e) {
        if (this.closed) return;
        if (Date.now() > deadline) throw new InfraError(`console ${this.describe}: cannot connect within ${timeoutMs} ms: ${(e as Error).message}`);
        await sleep(RECONNECT_EVERY_MS);
      }
    }
  }

  private attach(stream: Duplex): void {
    this.stream = stream;
    stream.setEncoding('latin1');
    stream.on('data', (chunk: string) => {
      this.transcript = (this.transcript + chunk).slice(-TRANSCRIPT_MAX);
      // Heartbeats interleave with command output; take them out. The start of
      // one split across chunks is held back until its end arrives, so a reader
      // never consumes half a heartbeat.
      const text = (this.held + chunk).replace(HEARTBEAT, (_, uptime: string) => {
        this.onHeartbeat(Number(uptime));
        return '';
      });
      const partial = HEARTBEAT_START.exec(text);
      this.held = partial ? partial[0] : '';
      this.unread = (this.unread + (partial ? text.slice(0, partial.index) : text)).slice(-TRANSCRIPT_MAX);
      for (const wake of this.waiters) wake();
    });
    stream.on('error', () => {});
    stream.once('close', () => {
      if (this.stream === stream) this.stream = undefined;
      // bhyve restarted (reboot) or went away: keep trying while the session lives.
      if (!this.closed) void this.connect(24 * 3600_000).catch(() => {});
    });
  }

  write(text: string): void {
    this.stream?.write(text);
  }

  /** Forgets unread text, so the next expect() sees only what comes after. */
  clear(): void {
    this.unread = '';
  }

  /**
   * Waits for `pattern` in the unread text and consumes through the match.
   * `poke` is written every pokeEveryMs while waiting (a newline wakes a login prompt).
   */
  async expect(pattern: RegExp, timeoutMs: number, what: string, poke?: { text: string; everyMs: number }): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    let nextPoke = Date.now();
    for (;;) {
      if (this.closed) throw new InfraError(`console ${this.describe}: closed while waiting for ${what}`);
      const m = this.unread.match(pattern);
      if (m) {
        this.unread = this.unread.slice((m.index ?? 0) + m[0].length);
        return m;
      }
      const now = Date.now();
      if (now >= deadline) {
        throw new InfraError(`console ${this.describe}: no ${what} within ${timeoutMs} ms`, { output: this.tail(2000), doing: `waiting for ${what}` });
      }
      if (poke && now >= nextPoke) {
        this.write(poke.text);
        nextPoke = now + poke.everyMs;
      }
      await new Promise<void>((resolve) => {
        const wake = () => { this.waiters.delete(wake); clearTimeout(timer); resolve(); };
        const timer = setTimeout(wake, Math.min(deadline - now, poke ? Math.max(0, nextPoke - now) : deadline - now, 250));
        this.waiters.add(wake);
      });
    }
  }

  /** The last `chars` characters the guest printed, control sequences removed and secrets masked. */
  tail(chars = 8000): string {
    // A little more than asked for, so that a secret cut by the window is still masked whole.
    return this.secrets.mask(plainText(this.transcript.slice(-(chars + this.secrets.longest)))).slice(-chars);
  }

  close(): void {
    this.closed = true;
    this.stream?.destroy();
    this.stream = undefined;
    for (const wake of this.waiters) wake();
  }
}

