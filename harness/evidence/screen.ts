// A vm's screen as evidence: screenshots through noVNC at the end of each
// boot, at a failure or hang (before teardown), and at an interval during long
// workloads (Windows Update shows its progress only there). A capture never
// fails a test: what it could not get is recorded as missing evidence, with
// the reason. A vm without a framebuffer has a Screen that does nothing.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { messageOf } from '../errors.ts';
import type { Timeline } from '../timeline.ts';
import type { BrowserSession } from './browser.ts';
import { shoot } from './novnc-page.ts';
import { openVncBridge } from './vnc-bridge.ts';

const CONNECT_TIMEOUT_MS = 15_000;
/** How long to wait for a screen with something on it before taking it as it is. */
const SETTLE_MS = 3_000;
const CAPTURE_DEADLINE_MS = 45_000;

export interface ScreenSink {
  attach(name: string, path: string): void;
  missing(name: string, reason: string): void;
}

export interface ScreenOptions {
  /** Opens the framebuffer's plain RFB stream on its host. */
  connect: () => Promise<Duplex>;
  browser: BrowserSession;
  password?: string;
  /** The test's report folder. */
  dir: string;
  sink: ScreenSink;
  timeline: Timeline;
  /** Interval of `every` captures. */
  everyMs: number;
}

export class Screen {
  private count = 0;
  /** The captures in order, one at a time; its last promise settles after all the others. */
  private queue: Promise<void> = Promise.resolve();

  /** A Screen for a vm without a framebuffer: every call is a no-op. */
  static none(): Screen {
    return new Screen(undefined);
  }

  constructor(private readonly o: ScreenOptions | undefined) {}

  /** Takes a screenshot now; resolves when it is on disk or recorded as missing. Never rejects. */
  capture(label: string): Promise<void> {
    if (!this.o) return Promise.resolve();
    // One at a time: a framebuffer serves its clients in turn anyway.
    this.queue = this.queue.then(() => this.take(label));
    return this.queue;
  }

  /** Captures every `everyMs` until the returned stop() (during a long workload). */
  every(label: string): { stop(): void } {
    if (!this.o) return { stop: () => {} };
    let n = 0;
    const timer = setInterval(() => void this.capture(`${label} ${++n}`), this.o.everyMs);
    return { stop: () => clearInterval(timer) };
  }

  /** Waits for every capture started so far: before the vm is torn down, and before bhyve is made to exit (a reboot), which would take the framebuffer from a capture in flight. */
  settle(): Promise<void> {
    return this.queue;
  }

  private async take(label: string): Promise<void> {
    const o = this.o!;
    const n = ++this.count;
    const name = `screen ${String(n).padStart(2, '0')} ${label}`;
    const file = join(o.dir, `screen-${String(n).padStart(2, '0')}-${label.replace(/[^A-Za-z0-9_.-]+/g, '-')}.png`);
    let bridge: Awaited<ReturnType<typeof openVncBridge>> | undefined;
    let page: Awaited<ReturnType<BrowserSession['page']>> | undefined;
    let timer: NodeJS.Timeout | undefined;
    const started = Date.now();
    try {
      const work = (async () => {
        bridge = await openVncBridge(o.connect);
        page = await o.browser.page();
        return shoot(page, bridge.url, { password: o.password, timeoutMs: CONNECT_TIMEOUT_MS, settleMs: SETTLE_MS });
      })();
      const deadline = new Promise<never>((_, fail) => {
        timer = setTimeout(() => fail(new Error(`no screenshot within ${CAPTURE_DEADLINE_MS} ms`)), CAPTURE_DEADLINE_MS);
      });
      const shot = await Promise.race([work, deadline]);
      writeFileSync(file, shot.png);
      o.sink.attach(name, file);
      o.timeline.event('screenshot', `${label}: ${shot.width}x${shot.height}${shot.blank ? ', blank (one colour)' : ''} in ${Date.now() - started} ms`);
    } catch (e) {
      const reason = `${messageOf(e).split('\n')[0].replace(/^page\.\w+: (Error: )?/, '')}${bridge?.lastError ? ` (${bridge.lastError})` : ''}`;
      o.sink.missing(name, reason);
      o.timeline.event('screenshot-missing', `${label}: ${reason}`);
    } finally {
      clearTimeout(timer);
      await page?.close().catch(() => {});
      await bridge?.close().catch(() => {});
    }
  }
}
