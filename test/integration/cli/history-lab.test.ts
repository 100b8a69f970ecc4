// History from real lab runs: two nights of the smoke suite on two lab hosts,
// each added to a store with its build label; on the second night one host
// fails a vm's first start (the lab's start-error-once fault) and the retry
// passes. history --tests ranks that test first, flaky once in two nights.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { BUILTIN_CONFIG } from '../../../harness/config/defaults.ts';
import type { RunResult } from '../../../harness/report/results.ts';
import { inSandbox } from '../../helpers/cli.ts';

const twoHosts = (faults?: string) => stringify({
  ...BUILTIN_CONFIG,
  hosts: { lab: { transport: 'local', platform: 'lab', capacity: 1 }, 'lab-2': { transport: 'local', platform: 'lab', capacity: 1, ...(faults ? { labFaults: faults } : {}) } },
});

describe('history of real lab runs', { timeout: 600_000 }, () => {
  it('adds each run to the store with its label, and ranks the test that passed only on a retry first', async () => {
    await inSandbox(async (box) => {
      for (const [build, faults] of [['41', undefined], ['42', `start-error-once=${randomBytes(4).toString('hex')}`]] as const) {
        writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), twoHosts(faults));
        const r = await box.run(['run', 'smoke', '--retries', '1', '--output', `night-${build}`, '--history', 'store', '--label', `build=${build},branch=main`]);
        assert.equal(r.exitCode, 0, `${r.stdout}${r.stderr}`);
        assert.match(String(r.stdout), /history: added \w+ to .*store\/\d{8}T\d{6}Z-\w+\.json/);
        const results: RunResult = JSON.parse(readFileSync(join(box.dir, `night-${build}`, 'results.json'), 'utf8'));
        assert.deepEqual(results.labels, { build, branch: 'main' });
      }
      assert.equal(readdirSync(join(box.dir, 'store')).length, 2);
      const h = await box.run(['history', 'store', '--tests', '--order-by', 'build', '--output', 'trend']);
      assert.equal(h.exitCode, 0, `${h.stdout}${h.stderr}`);
      const rows = String(h.stdout).split('\n').slice(1).filter(Boolean);
      assert.match(rows[0], /^smoke\/lab-2\/linux +\.f +0\/2 +1 +0\.00/, String(h.stdout));
      assert.match(rows[1], /^smoke\/lab\/linux +\.\. +0\/2 +0 +0\.00/, String(h.stdout));
      const json = JSON.parse(readFileSync(join(box.dir, 'trend/history.json'), 'utf8'));
      assert.deepEqual(json.runs.map((r: { labels: { build: string } }) => r.labels.build), ['41', '42']);
      assert.ok(json.series.some((s: { id: string; points: unknown[] }) => s.id.startsWith('smoke · linux · ') && s.id.endsWith(' · lab-2') && s.points.length === 2), json.series.map((s: { id: string }) => s.id).join(', '));
      assert.ok(json.runs.every((r: { report?: string }) => r.report?.endsWith('report.html')), 'each record knows its report');
    });
  });
});
