// One headless Chromium per run, for VNC screenshots: Debian's chromium (or the
// one BHYVE_SMOKE_CHROMIUM names) driven by playwright-core through
// executablePath. Nothing is ever downloaded. Launched on first use; a launch
// that fails is remembered, so every later screenshot is recorded as missing
// with the same reason instead of trying again.
import { accessSync, constants } from 'node:fs';
// playwright-core is loaded with the first browser (0.6 s of a command's start when imported at the top).
import type { Browser, Page } from 'playwright-core';
import { messageOf } from '../errors.ts';

export const CHROMIUM_ENV = 'BHYVE_SMOKE_CHROMIUM';

/** Debian's binary first: its /usr/bin/chromium wrapper prints noise when /dev/shm is mounted twice. */
const CANDIDATES = ['/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome-stable', '/usr/bin/google-chrome'];
const LAUNCH_TIMEOUT_MS = 30_000;
/** No sandbox (root in CI has none to give), no GPU, nothing that talks to the network by itself. */
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

const executable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** The Chromium to run, or why there is none. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): { path: string } | { reason: string } {
  const named = env[CHROMIUM_ENV];
  if (named) return executable(named) ? { path: named } : { reason: `${CHROMIUM_ENV}=${named} is not an executable file` };
  const found = CANDIDATES.find(executable);
  return found ? { path: found } : { reason: `no Chromium found (looked for ${CANDIDATES.join(', ')}): apt-get install chromium, or set ${CHROMIUM_ENV}` };
}

export class BrowserSession {
  private launching?: Promise<Browser>;

  /** A fresh page; throws with the reason when there is no browser. */
  async page(): Promise<Page> {
    this.launching ??= (async () => {
      const found = findChromium();
      if ('reason' in found) throw new Error(found.reason);
      try {
        const { chromium } = await import('playwright-core');
        return await chromium.launch({ executablePath: found.path, headless: true, args: ARGS, timeout: LAUNCH_TIMEOUT_MS });
      } catch (e) {
        throw new Error(`Chromium at ${found.path} did not start: ${messageOf(e).split('\n')[0]}`);
      }
    })();
    const browser = await this.launching;
    return browser.newPage({ viewport: { width: 1280, height: 1024 } });
  }

  async close(): Promise<void> {
    const launching = this.launching;
    this.launching = undefined;
    if (launching) await launching.then((b) => b.close(), () => {});
  }
}
