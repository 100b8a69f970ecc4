// A screenshot that cannot be taken is missing evidence with its reason, never
// a failed test: a framebuffer that does not answer, a browser that is not there.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BrowserSession } from '../../harness/evidence/browser.ts';
import { Screen } from '../../harness/evidence/screen.ts';
import { Timeline } from '../../harness/timeline.ts';
import { connectUnixSocket } from '../../harness/transport/local.ts';

describe('screenshots that cannot be taken', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'bsm-screen-'));
  const browser = new BrowserSession();
  after(async () => {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const screenOf = (connect: () => Promise<import('node:stream').Duplex>, session = browser) => {
    const got = { attached: [] as string[], missing: [] as Array<{ name: string; reason: string }>, timeline: new Timeline() };
    const screen = new Screen({ connect, browser: session, dir, timeline: got.timeline, everyMs: 60_000, sink: { attach: (n) => got.attached.push(n), missing: (name, reason) => got.missing.push({ name, reason }) } });
    return { screen, got };
  };

  it('a framebuffer socket that is not there: missing, saying the framebuffer could not be reached', async () => {
    const { screen, got } = screenOf(() => connectUnixSocket(join(dir, 'no-such-vnc.sock')));
    await screen.capture('boot');
    assert.deepEqual(got.attached, []);
    assert.equal(got.missing.length, 1);
    assert.equal(got.missing[0].name, 'screen 01 boot');
    assert.match(got.missing[0].reason, /the VNC connection closed.*\(cannot reach the framebuffer: connect ENOENT .*no-such-vnc\.sock\)/);
    assert.ok(got.timeline.events.some((e) => e.kind === 'screenshot-missing'));
  });

  it('no browser: every capture is missing with the same reason, and the browser is not tried again', async () => {
    const saved = process.env.BHYVE_SMOKE_CHROMIUM;
    process.env.BHYVE_SMOKE_CHROMIUM = '/nonexistent/chromium';
    const session = new BrowserSession();
    try {
      const { screen, got } = screenOf(() => connectUnixSocket(join(dir, 'x.sock')), session);
      await screen.capture('boot');
      process.env.BHYVE_SMOKE_CHROMIUM = '/bin/sh'; // a second launch would now find "a browser": it must not be tried
      await screen.capture('reboot 1');
      assert.deepEqual(got.missing.map((m) => m.reason), Array(2).fill('BHYVE_SMOKE_CHROMIUM=/nonexistent/chromium is not an executable file'));
    } finally {
      if (saved === undefined) delete process.env.BHYVE_SMOKE_CHROMIUM;
      else process.env.BHYVE_SMOKE_CHROMIUM = saved;
      await session.close();
    }
  });
});
