// history.html in a real browser (Debian's Chromium under playwright-core):
// from the 40 recorded lab runs with a 25% drop in the dosed throughput from
// night 30, one run with a hostile label, and run folders that hold a report.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BrowserSession } from '../../harness/evidence/browser.ts';
import { writeResults } from '../../harness/report/results.ts';
import { cliSandbox } from '../helpers/cli.ts';
import { nightlyRuns } from '../helpers/history-store.ts';

const HOSTILE = '<img src=x onerror="window.__xss = 1">';

describe('history.html in Chromium', { timeout: 300_000 }, () => {
  const box = cliSandbox();
  const browser = new BrowserSession();
  const page = join(box.dir, 'out', 'history.html');

  before(async () => {
    const runs = nightlyRuns({ from: 30, drop: 0.25 });
    runs[3] = { ...runs[3], labels: { build: HOSTILE } };
    runs.forEach((run, i) => {
      const dir = join(box.dir, 'artifacts', `night-${String(i).padStart(2, '0')}`);
      writeResults(join(dir, 'results.json'), run);
      if (i >= 35) writeFileSync(join(dir, 'report.html'), `<!doctype html><title>run ${run.runId}</title>`);
    });
    const r = await box.run(['history', 'artifacts', '--output', 'out', '--recent', '12']);
    assert.equal(r.exitCode, 1, `${r.stdout}${r.stderr}`);
  });
  after(async () => {
    await browser.close();
    box.cleanup();
  });

  it('opens from disk with no errors, verdict first, the changed series open and drawn from data, one point per run', async () => {
    const p = await browser.page();
    const errors: string[] = [];
    p.on('pageerror', (e) => errors.push(String(e)));
    p.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await p.goto(`file://${page}`);
    await p.waitForSelector('html[data-ready=true]', { timeout: 10_000 });
    assert.deepEqual(errors, []);
    assert.equal(await p.getAttribute('[data-verdict]', 'data-verdict'), 'failed');
    const hard = p.locator('details.series[data-series="wrlock-iperf · linux · throughput · hard · host-to-guest · lab"]');
    assert.equal(await hard.getAttribute('open'), '');
    assert.match(await hard.locator('summary').innerText(), /regression -2\d\.\d%/);
    assert.ok(Number(await hard.locator('.trend').getAttribute('data-drawn')) >= 1, 'drawn');
    const anchor = await hard.locator('.trend').getAttribute('data-chart');
    const data = JSON.parse(await p.locator('#bsm-data').textContent() ?? '{}').charts[anchor!];
    assert.equal(data.x.length, 40, 'one point per run');
    assert.deepEqual(data.changes.map((c: { run: number; regression: boolean }) => [c.run, c.regression]), [[31, true]], 'night30 is run 31');
    assert.equal(data.segments.length, 2);
    // A folded series is drawn when opened.
    const boot = p.locator('details.series[data-series="wrlock-iperf · linux · boot-time · lab"]');
    assert.equal(await boot.getAttribute('open'), null);
    assert.equal(await boot.locator('.trend').getAttribute('data-drawn'), null);
    await boot.locator('summary').click();
    await p.waitForFunction((el) => el?.dataset.drawn, await boot.locator('.trend').elementHandle());
    assert.equal(await p.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
    await p.close();
  });

  it('shows a hostile label as text, and links each run to its report where the folder has one', async () => {
    const p = await browser.page();
    await p.goto(`file://${page}`);
    await p.waitForSelector('html[data-ready=true]');
    assert.match(await p.locator('ol.runs').innerText(), /build=<img src=x onerror="window\.__xss = 1">/);
    assert.equal(await p.locator('ol.runs img').count(), 0);
    const links = await p.locator('ol.runs a').evaluateAll((as) => as.map((a) => a.getAttribute('href')!));
    assert.equal(links.length, 5);
    for (const href of links) assert.ok(existsSync(resolve(box.dir, 'out', decodeURIComponent(href))), href);
    await p.close();
  });
});
