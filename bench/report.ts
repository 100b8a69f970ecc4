// The HTML report of a real three-test lab run (test/helpers/report-run.ts:
// one test hangs, the guest has a framebuffer): how big it is, how fast it is
// written and opened in Chromium, and what the screenshots cost.
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { BrowserSession } from '../harness/evidence/browser.ts';
import { buildReportHtml } from '../harness/report/html/page.ts';
import type { RunResult } from '../harness/report/results.ts';
import { REPORT_RUN_ARGS, REPORT_RUN_CLEANUP, REPORT_RUN_CONFIG, REPORT_RUN_VNC_PASSWORD } from '../test/helpers/report-run.ts';
import { fmt, median } from './stats.ts';

const CLI = resolve(import.meta.dirname, '../bin/bhyve-smoke.mjs');
const OPENS = 7;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;

export async function benchReport(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bsm-bench-report-'));
  try {
    writeFileSync(join(dir, 'bhyve-smoke.config.yaml'), stringify(REPORT_RUN_CONFIG));
    const env = { CI: '1', BSM_VNC_PASSWORD: REPORT_RUN_VNC_PASSWORD, BHYVE_SMOKE_STATE: join(dir, 'state') };
    const r = await execa('node', [CLI, ...REPORT_RUN_ARGS, '--output', 'out', '--reporter', 'junit,json,html'], { cwd: dir, reject: false, env });
    await execa('node', [CLI, ...REPORT_RUN_CLEANUP], { cwd: dir, reject: false, env });
    if (r.exitCode !== 1) throw new Error(`the report run should fail on its hang (exit 1), got ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);
    const out = join(dir, 'out');
    const run: RunResult = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    const shots = run.tests.flatMap((t) => t.attachments.filter((a) => a.path.endsWith('.png')));
    const captureMs = run.tests.flatMap((t) => t.timeline.events.filter((e) => e.kind === 'screenshot').map((e) => Number(/in (\d+) ms/.exec(e.detail ?? '')?.[1])));

    const renders: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      buildReportHtml({ run, dir: out });
      renders.push(performance.now() - started);
    }

    const browser = new BrowserSession();
    await (await browser.page()).close(); // started before the clock runs
    const opens: number[] = [];
    try {
      for (let i = 0; i < OPENS; i++) {
        const page = await browser.page();
        const started = performance.now();
        await page.goto(`file://${out}/report.html`);
        await page.waitForSelector('html[data-ready=true]');
        opens.push(performance.now() - started);
        await page.close();
      }
    } finally {
      await browser.close();
    }

    console.log(`report of ${run.tests.length} tests (${run.tests.map((t) => `${t.id} ${t.status}`).join(', ')})`);
    console.log(`report.html:        ${kb(statSync(join(out, 'report.html')).size)} (results.json ${kb(statSync(join(out, 'results.json')).size)}; screenshots beside it: ${shots.length}, ${kb(shots.reduce((n, a) => n + statSync(a.path).size, 0))})`);
    console.log(`written in:         median ${fmt(median(renders))} (n=5)`);
    console.log(`opened in Chromium: median ${fmt(median(opens))}, max ${fmt(Math.max(...opens))} from file:// to charts drawn (n=${OPENS}, first one with a cold browser)`);
    console.log(`screenshot:         median ${fmt(median(captureMs))}, max ${fmt(Math.max(...captureMs))} a capture through noVNC (n=${captureMs.length}; the first starts Chromium)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
