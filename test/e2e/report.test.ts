// The HTML report in a real browser (Debian's Chromium under playwright-core),
// from a real lab run of three tests: smoke and wrlock-iperf pass on the lab,
// wrlock-reboot hangs on a lab host with the deadlock-on-reboot fault. The
// guest has a framebuffer with a VNC password, so the run also photographs
// its console through noVNC.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { stringify } from 'yaml';
import { BrowserSession } from '../../harness/evidence/browser.ts';
import type { RunResult } from '../../harness/report/results.ts';
import { cliSandbox } from '../helpers/cli.ts';
import { REPORT_RUN_ARGS, REPORT_RUN_CLEANUP, REPORT_RUN_CONFIG, REPORT_RUN_VNC_PASSWORD } from '../helpers/report-run.ts';

const VNC_PASSWORD = REPORT_RUN_VNC_PASSWORD;
const PAYLOAD = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">';

/** Page errors and console errors while a page is open. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('dialog', (d) => {
    errors.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  return errors;
}

/** Serves a report folder with `bhyve-smoke show-report` until stop(). */
async function showReport(box: ReturnType<typeof cliSandbox>, dir: string, extra: string[] = []) {
  const child = box.run(['show-report', dir, '--port', '0', ...extra], { timeout: 120_000 });
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /http:\/\/127\.0\.0\.1:\d+\/\S+/.exec(out);
      if (m) ok(m[0]);
    });
    void child.then((r) => fail(new Error(`show-report exited ${r.exitCode}: ${r.stderr}`)));
  });
  return { url, stop: async () => { child.kill('SIGTERM'); return child; } };
}

describe('report.html of a real lab run, in Chromium', { timeout: 600_000 }, () => {
  const box = cliSandbox();
  const out = join(box.dir, 'out');
  let results: RunResult;
  // The harness's own: Debian's Chromium through playwright-core, found the way screenshots find it.
  const browser = new BrowserSession();
  let runOutput = '';

  before(async () => {
    writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), stringify(REPORT_RUN_CONFIG));
    const r = await box.run([...REPORT_RUN_ARGS, '--output', 'out'],
      { env: { ...box.env, BSM_VNC_PASSWORD: VNC_PASSWORD }, timeout: 400_000 });
    runOutput = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.exitCode, 1, `the hang on lab-bad fails the run:\n${runOutput}`);
    results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  });
  after(async () => {
    await browser.close();
    await box.run(REPORT_RUN_CLEANUP);
    box.cleanup();
  });

  it('opens from disk with no errors, verdict first, with every test and check of results.json', async () => {
    const page = await browser.page();
    const errors = watchErrors(page);
    await page.goto(`file://${out}/report.html`);
    await page.waitForSelector('html[data-ready=true]', { timeout: 10_000 });
    assert.deepEqual(errors, []);
    assert.equal(await page.getAttribute('[data-verdict]', 'data-verdict'), 'failed');
    const failedChecks = results.tests.flatMap((t) => t.checks.filter((c) => c.status !== 'passed').map((c) => `${t.id}: ${c.name}: ${c.measured ?? ''} ${c.message ?? ''}`));
    assert.match(await page.innerText('.verdict'), /FAILED\s+3 tests: 2 passed · 1 failed/, `only the hang should fail:\n${failedChecks.join('\n')}`);
    for (const t of results.tests) {
      const section = page.locator(`section[data-test="${t.id}"]`);
      assert.equal(await section.count(), 1, t.id);
      assert.equal(await section.locator('tr[data-check]').count(), t.checks.length, `checks of ${t.id}`);
    }
    assert.equal(await page.locator('section.test').first().getAttribute('data-test'), 'wrlock-reboot/lab-bad/linux', 'the failed test comes first');
    assert.ok(statSync(join(out, 'report.html')).size < 1_000_000, 'under 1 MB');
    await page.close();
  });

  it('draws the timeline of the stressed test, with throughput and write-lock cycles in it', async () => {
    const page = await browser.page();
    await page.goto(`file://${out}/report.html`);
    await page.waitForSelector('html[data-ready=true]');
    const anchor = await page.locator('section[data-test="wrlock-iperf/lab/linux"] .timeline').getAttribute('data-chart');
    assert.equal(await page.locator(`.timeline[data-chart="${anchor}"] .uplot`).count(), 2, 'load and liveness charts');
    const data = JSON.parse(await page.locator('#bsm-data').textContent() ?? '{}').charts[anchor!];
    assert.ok(data.throughput.filter((v: number | null) => v !== null).length >= 8, 'iperf3 intervals');
    assert.ok(data.wrlockRate.some((v: number | null) => v !== null && v > 0), 'write-lock cycles');
    const hangChart = await page.locator('section[data-test="wrlock-reboot/lab-bad/linux"] .timeline').getAttribute('data-chart');
    assert.ok(JSON.parse(await page.locator('#bsm-data').textContent() ?? '{}').charts[hangChart!].events.some((e: { kind: string }) => e.kind === 'hang-detected'));
    await page.close();
  });

  it('links to evidence that resolve, from disk and through show-report', async () => {
    const page = await browser.page();
    await page.goto(`file://${out}/report.html`);
    const hrefs = await page.locator('a[href]:not([href^="#"])').evaluateAll((as) => as.map((a) => a.getAttribute('href')!));
    const images = await page.locator('img').evaluateAll((is) => is.map((i) => i.getAttribute('src')!));
    assert.ok(hrefs.some((h) => h.endsWith('pstack.txt')) && images.length >= 4, `${hrefs.length} links, ${images.length} images`);
    for (const h of [...hrefs, ...images]) assert.ok(existsSync(resolve(out, decodeURIComponent(h))), h);

    const server = await showReport(box, out);
    try {
      const served = await browser.page();
      const errors = watchErrors(served);
      await served.goto(server.url);
      await served.waitForSelector('html[data-ready=true]');
      for (const h of [...hrefs, ...images]) assert.equal((await served.request.get(new URL(h, server.url).href)).status(), 200, h);
      // (they load lazily: make them load now)
      const loaded = await served.locator('.shots img').evaluateAll((is) => Promise.all(is.map(async (i) => {
        const img = i as HTMLImageElement;
        img.loading = 'eager';
        await img.decode().catch(() => {});
        return img.naturalWidth;
      })));
      assert.ok(loaded.length >= 4 && loaded.every((w) => w > 0), `every screenshot loads: ${loaded.join(', ')}`);
      assert.deepEqual(errors, []);
    } finally {
      await server.stop();
    }
    await page.close();
  });

  it('holds real, non-blank screenshots of the guest console: at each boot, and at the hang', async () => {
    const hung = results.tests.find((t) => t.id === 'wrlock-reboot/lab-bad/linux')!;
    const shots = results.tests.flatMap((t) => t.attachments.filter((a) => a.path.endsWith('.png')).map((a) => ({ test: t.id, ...a })));
    const missing = results.tests.flatMap((t) => (t.missingEvidence ?? []).map((m) => `${t.id}: ${JSON.stringify(m)}`));
    assert.ok(shots.some((s) => s.test === 'smoke/lab/linux' && / boot$/.test(s.name)), `${shots.map((s) => `${s.test}: ${s.name}`).join(', ')}; missing: ${missing.join('; ')}`);
    assert.ok(hung.attachments.some((a) => / hang$/.test(a.name)), 'a screenshot at the hang');
    assert.deepEqual(missing, []);
    const page = await browser.page();
    const boot = shots.find((s) => s.test === 'smoke/lab/linux')!;
    await page.setContent(`<img src="data:image/png;base64,${readFileSync(boot.path).toString('base64')}">`);
    const look = await page.evaluate(async () => {
      const img = document.querySelector('img')!;
      await img.decode();
      const c = document.createElement('canvas');
      [c.width, c.height] = [img.naturalWidth, img.naturalHeight];
      const ctx = c.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      let lit = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 200) lit++;
      return { width: c.width, height: c.height, lit: lit / (d.length / 4) };
    });
    // VGA text mode is 720x400; text lights 1-20% of it, a blank screen none.
    assert.deepEqual([look.width, look.height], [720, 400]);
    assert.ok(look.lit > 0.005 && look.lit < 0.5, `lit fraction ${look.lit}`);
    await page.close();
  });

  it('lets the VNC password reach no report, log or console output', () => {
    const texts = [runOutput, readFileSync(join(out, 'report.html'), 'utf8'), readFileSync(join(out, 'results.json'), 'utf8'), readFileSync(join(out, 'junit.xml'), 'utf8'),
      ...results.tests.flatMap((t) => t.attachments.filter((a) => !a.path.endsWith('.png')).map((a) => readFileSync(a.path, 'utf8')))];
    for (const text of texts) assert.ok(!text.includes(VNC_PASSWORD));
    assert.ok(results.tests[0].timeline.events.some((e) => e.kind === 'started' && /password=\*{8}/.test(e.detail ?? '')), 'the command line is recorded, the password masked');
  });

  it('shows a console line with <script> and <img onerror> as text, and runs nothing', async () => {
    const dir = join(box.dir, 'hostile');
    mkdirSync(dir);
    const hostile = structuredClone(results);
    const t = hostile.tests.find((x) => x.id === 'wrlock-reboot/lab-bad/linux')!;
    t.consoleTail = `${t.consoleTail}\n${PAYLOAD}\n`;
    t.timeline.events.push({ t: Date.parse(t.startedAt) + 1000, kind: 'iperf3-failed', detail: PAYLOAD });
    t.checks[0].message = PAYLOAD;
    writeFileSync(join(dir, 'results.json'), JSON.stringify(hostile));
    const server = await showReport(box, dir, ['--render']);
    try {
      const page = await browser.page();
      const errors = watchErrors(page);
      await page.goto(server.url);
      await page.waitForSelector('html[data-ready=true]');
      assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined, 'the payload ran');
      assert.equal(await page.locator('img[onerror], img[src=x]').count(), 0, 'no element came from the payload');
      assert.ok((await page.locator('pre.console').first().innerText()).includes(PAYLOAD), 'the console line reads as the guest wrote it');
      assert.ok((await page.locator('table.events').first().innerText()).includes(PAYLOAD));
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await server.stop();
    }
  });

  it('shows a flagged series in the compare view of a gate verdict', async () => {
    // The recorded lab runs, split in halves; the second half's throughput cut by 30%.
    const recorded: RunResult = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../fixtures/recorded/lab-wrlock-iperf.results.json'), 'utf8'));
    const half = recorded.tests.length / 2;
    const base = { ...recorded, tests: recorded.tests.slice(0, half) };
    const cand = { ...recorded, runId: 'worse', tests: recorded.tests.slice(half).map((t) => ({ ...t, metrics: t.metrics!.map((m) => (m.metric === 'throughput' ? { ...m, value: m.value * 0.7 } : m)) })) };
    writeFileSync(join(box.dir, 'base.json'), JSON.stringify(base));
    writeFileSync(join(box.dir, 'cand.json'), JSON.stringify(cand));
    const r = await box.run(['compare', 'base.json', 'cand.json', '--output', 'cmp']);
    assert.equal(r.exitCode, 1, String(r.stderr));
    const page = await browser.page();
    const errors = watchErrors(page);
    await page.goto(`file://${box.dir}/cmp/report.html`);
    await page.waitForSelector('html[data-ready=true]');
    assert.match(await page.innerText('#compare .verdict'), /GATE FAILED/);
    const flagged = page.locator('#compare tr[data-status="regressed"]');
    assert.ok(await flagged.count() >= 1);
    assert.match(await flagged.first().innerText(), /throughput.*-3\d\.\d%/s);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('without a browser, the run still passes and records each screenshot as missing, with the reason', async () => {
    const r = await box.run(['run', 'smoke', '--host', 'lab', '--output', 'nobrowser'], { env: { ...box.env, BSM_VNC_PASSWORD: VNC_PASSWORD, BHYVE_SMOKE_CHROMIUM: '/nonexistent/chromium' } });
    assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
    const run: RunResult = JSON.parse(readFileSync(join(box.dir, 'nobrowser/results.json'), 'utf8'));
    const missing = run.tests[0].missingEvidence ?? [];
    assert.ok(missing.length >= 1);
    assert.match(missing[0].reason, /BHYVE_SMOKE_CHROMIUM=\/nonexistent\/chromium is not an executable/);
    assert.match(readFileSync(join(box.dir, 'nobrowser/report.html'), 'utf8'), /Missing evidence/);
    assert.match(readFileSync(join(box.dir, 'nobrowser/junit.xml'), 'utf8'), /missing evidence: screen 01 boot: BHYVE_SMOKE_CHROMIUM/);
  });
});
