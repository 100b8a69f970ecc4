// wrlock-dose on the lab: every step of the ladder measured on a clean lab
// (the run passes); under the lab's slow-wrlock fault the knee comes at a
// lower rate; report.html draws the curve from data, one point per step.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { BUILTIN_CONFIG } from '../../../harness/config/defaults.ts';
import { BrowserSession } from '../../../harness/evidence/browser.ts';
import type { RunResult } from '../../../harness/report/results.ts';
import { cliSandbox } from '../../helpers/cli.ts';

const LADDER = [1, 3, 10, 30, 100, 'max'];
const knee = (r: RunResult) => r.tests[0].metrics!.find((m) => m.metric === 'dose-knee')!.value;

describe('wrlock-dose on the lab', { timeout: 600_000 }, () => {
  const box = cliSandbox();
  const browser = new BrowserSession();
  const runs: Record<string, RunResult> = {};

  before(async () => {
    writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), stringify({ ...BUILTIN_CONFIG, stress: { ...BUILTIN_CONFIG.stress, iperfPhase: '3s', doseLadder: LADDER } }));
    for (const [name, faults] of [['clean', ''], ['slow', 'slow-wrlock=50']]) {
      const r = await box.run(['run', 'wrlock-dose', '--output', name], { env: { ...box.env, ...(faults ? { BHYVE_LAB_FAULTS: faults } : {}) } });
      runs[name] = JSON.parse(readFileSync(join(box.dir, name, 'results.json'), 'utf8'));
      if (name === 'clean') assert.equal(r.exitCode, 0, `the clean ladder passes:\n${r.stdout}${r.stderr}`);
    }
  });
  after(async () => {
    await browser.close();
    box.cleanup();
  });

  it('measures every step of the ladder on a clean lab: throughput ratio, cycle rate and latency', () => {
    const t = runs.clean.tests[0];
    for (const dose of ['1/s', '3/s', '10/s', '30/s', '100/s', 'max']) {
      for (const metric of ['throughput-ratio', 'wrlock-cycle-rate', 'wrlock-cycle-p50', 'wrlock-cycle-p99']) {
        const m = t.metrics!.find((x) => x.metric === metric && x.dims.dose === dose);
        assert.ok(m && Number.isFinite(m.value) && m.value > 0, `${metric} at ${dose}: ${m?.value}`);
      }
    }
    const rate = (dose: string) => t.metrics!.find((x) => x.metric === 'wrlock-cycle-rate' && x.dims.dose === dose)!.value;
    assert.ok(rate('1/s') < rate('10/s') && rate('10/s') < rate('max'), 'the ladder climbs');
    assert.ok(Number.isFinite(knee(runs.clean)) && knee(runs.clean) > 0);
    assert.ok(t.checks.some((c) => c.name === 'no step stalls (no long run of zero-throughput intervals)' && c.status === 'passed'));
  });

  it('finds the knee at a lower rate when every cycle holds the vCPUs 50 ms (slow-wrlock)', () => {
    assert.ok(knee(runs.slow) < knee(runs.clean), `knee ${knee(runs.slow).toFixed(1)} cycles/s under slow-wrlock against ${knee(runs.clean).toFixed(1)} clean`);
    const dose = (r: RunResult) => r.tests[0].metrics!.filter((m) => m.metric === 'throughput-ratio').map((m) => `${m.dims.dose} ${(m.value * 100).toFixed(0)}%`).join(', ');
    assert.ok(runs.slow.tests[0].checks.length > 0, `curves: clean ${dose(runs.clean)}; slow ${dose(runs.slow)}`);
  });

  it('draws the curve in report.html from data, one point per step', async () => {
    const page = await browser.page();
    await page.goto(`file://${join(box.dir, 'clean', 'report.html')}`);
    await page.waitForSelector('html[data-ready=true]');
    const curve = page.locator('.dose-curve[data-dose]');
    assert.equal(await curve.count(), 1);
    assert.equal(await curve.getAttribute('data-drawn'), String(LADDER.length));
    assert.ok((await curve.locator('canvas').count()) >= 1);
    const data = JSON.parse(await page.locator('#bsm-data').textContent() ?? '{}').doses[(await curve.getAttribute('data-dose'))!];
    assert.deepEqual(data.dose, ['1/s', '3/s', '10/s', '30/s', '100/s', 'max']);
    assert.ok(data.ratio.every((v: number) => Number.isFinite(v)));
    await page.close();
  });
});
