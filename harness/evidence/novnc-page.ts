// Taking a picture of a framebuffer with noVNC in a headless page. The page
// code (novnc-capture.js) is bundled with noVNC by esbuild on first use, in
// memory: noVNC is ESM with a top-level await, so the bundle goes into the page
// as an inline module script. It is plain JS, not a function serialized from
// here: tsx's name helpers would not exist in the page.
import { join } from 'node:path';
import type { Page } from 'playwright-core';

let bundle: Promise<string> | undefined;

export function novncBundle(): Promise<string> {
  // esbuild loads with the first screenshot, not with every command.
  bundle ??= import('esbuild').then(({ build }) => build({
    entryPoints: [join(import.meta.dirname, 'novnc-capture.js')],
    bundle: true, format: 'esm', minify: true, write: false, target: 'chrome110', logLevel: 'silent',
  })).then((r) => r.outputFiles[0].text);
  return bundle;
}

export interface Shot {
  png: Buffer;
  width: number;
  height: number;
  /** Every pixel the same colour: the guest drew nothing (yet), or the screen is off. */
  blank: boolean;
}

/** The screen behind a websocket URL; throws with the reason noVNC gives. */
export async function shoot(page: Page, url: string, opts: { password?: string; timeoutMs: number; settleMs: number }): Promise<Shot> {
  await page.setContent('<!doctype html><body style="margin:0"><div id="screen"></div></body>');
  await page.addScriptTag({ type: 'module', content: await novncBundle() });
  await page.waitForFunction(() => 'bsmShoot' in window, undefined, { timeout: opts.timeoutMs });
  // The password is an argument of this call, never part of the page or a log.
  const r = await page.evaluate((args) => (window as unknown as { bsmShoot(a: typeof args): Promise<{ dataUrl: string; width: number; height: number; blank: boolean }> }).bsmShoot(args), { url, password: opts.password, timeoutMs: opts.timeoutMs, settleMs: opts.settleMs });
  return { png: Buffer.from(r.dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64'), width: r.width, height: r.height, blank: r.blank };
}
