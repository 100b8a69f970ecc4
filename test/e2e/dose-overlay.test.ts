// A comparison's dose-response overlay in Chromium: baseline and candidate
// curves, one point per step each, with their intervals. The results are
// made here (five wrlock-dose tests a side; the candidate's cycles slower, its
// throughput lower from 10/s on): the overlay is under test, not the lab.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gateSchema } from '../../harness/config/schema.ts';
import { BrowserSession } from '../../harness/evidence/browser.ts';
import { writeReportHtml } from '../../harness/report/html/page.ts';
import type { RunResult, TestResult } from '../../harness/report/results.ts';
import { compareRuns } from '../../harness/verdict/compare.ts';
import type { MetricValue } from '../../harness/verdict/metrics.ts';

const STEPS: Array<[string, number]> = [['1/s', 1], ['3/s', 3], ['10/s', 10], ['30/s', 30], ['100/s', 100], ['max', 140]];

function run(id: string, slow: boolean): RunResult {
  const tests: TestResult[] = Array.from({ length: 5 }, (_, i) => {
    const metrics: MetricValue[] = STEPS.flatMap(([dose, rate]) => {
      const ratio = Math.max(0.05, 1 - (slow && rate >= 10 ? 0.004 : 0.002) * rate) * (1 + 0.02 * (i - 2));
      return [
        { metric: 'throughput-ratio', value: ratio, unit: 'ratio', better: 'higher', dims: { dose, direction: 'host-to-guest' } },
        { metric: 'wrlock-cycle-rate', value: slow ? rate * 0.8 : rate, unit: 'cycles/s', better: 'higher', dims: { dose } },
      ] as MetricValue[];
    });
    return {
      id: `wrlock-dose/lab/linux#${i}`, suite: 'wrlock-dose', host: 'lab', guest: 'linux', repeat: i, status: 'passed', attempt: 0, attempts: [],
      startedAt: '2026-11-29T10:00:00Z', durationMs: 60_000, checks: [], attachments: [], timeline: { samples: [], events: [] }, reproduce: 'x', metrics,
    };
  });
  return { version: 1, runId: id, config: 'built-in', startedAt: '2026-11-29T10:00:00Z', finishedAt: '2026-11-29T10:05:00Z', durationMs: 300_000, hosts: [], tests, exitCode: 0 };
}

describe('the dose-response overlay of a comparison, in Chromium', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'bsm-dose-overlay-'));
  const browser = new BrowserSession();
  after(async () => {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('draws baseline and candidate curves from data, one point per step each, with intervals', async () => {
    const comparison = compareRuns([run('base', false)], [run('cand', true)], { gate: gateSchema.parse({}) });
    writeReportHtml(join(dir, 'report.html'), { comparison: { result: comparison, labels: { base: 'main', cand: 'lock-change' } }, dir });
    const page = await browser.page();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`file://${join(dir, 'report.html')}`);
    await page.waitForSelector('html[data-ready=true]');
    assert.deepEqual(errors, []);
    const overlay = page.locator('.dose-overlay[data-overlay]');
    assert.equal(await overlay.count(), 1);
    assert.equal(await overlay.getAttribute('data-drawn'), '6+6');
    const o = JSON.parse(await page.locator('#bsm-data').textContent() ?? '{}').overlays[0];
    assert.equal(o.title, 'wrlock-dose · linux');
    assert.deepEqual(o.dose, STEPS.map(([d]) => d));
    for (const side of [o.base, o.cand]) {
      assert.equal(side.mean.length, 6);
      side.mean.forEach((m: number, i: number) => assert.ok(side.low[i] < m && m < side.high[i], `interval around step ${i}`));
    }
    assert.ok(o.cand.mean[5] < o.base.mean[5], 'the candidate curve falls lower');
    await page.close();
  });
});
