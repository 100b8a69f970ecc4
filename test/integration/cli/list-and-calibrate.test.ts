// `list` shows what a config yields and why a test would be skipped, with
// filters; `calibrate` runs A against A live on the lab and reports noise per
// series from what it measured.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { BUILTIN_CONFIG } from '../../../harness/config/defaults.ts';
import { inSandbox } from '../../helpers/cli.ts';

describe('list and calibrate', { timeout: 600_000 }, () => {
  it('list: every suite × host × guest, a FreeBSD host\'s write-lock suites skipped with the reason, filters by suite and host', async () => {
    await inSandbox(async (box) => {
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), stringify({
        ...BUILTIN_CONFIG,
        hosts: { ...BUILTIN_CONFIG.hosts, bsd1: { transport: 'ssh', ssh: 'root@bsd1', platform: 'freebsd', nic: 'bridge0' } },
      }));
      const all = await box.run(['list']);
      assert.equal(all.exitCode, 0, String(all.stderr));
      const lines = String(all.stdout).trim().split('\n');
      assert.match(lines[0], /^config: .*bhyve-smoke\.config\.yaml$/);
      assert.match(String(all.stdout), /^smoke\/lab\/linux\s+\S/m);
      assert.match(String(all.stdout), /^wrlock-reboot\/bsd1\/linux\s+skip: .*wrlock/m, 'FreeBSD has no write-lock hook: skipped, saying why');
      assert.match(String(all.stdout), /^smoke\/bsd1\/linux\s+(?!skip)\S/m, 'smoke needs no hook: it runs on FreeBSD');
      assert.match(lines.at(-1)!, /^needs wrlock: probed on each host when the run starts/, 'what list cannot know is said');
      const some = await box.run(['list', 'smoke', '--host', 'lab']);
      const [, source, ...tests] = String(some.stdout).trim().split('\n');
      assert.match(source, /^suite smoke +bhyve-smoke's suites\/smoke\.ts$/, 'where the suite comes from');
      assert.deepEqual(tests.map((l) => l.split(/\s+/)[0]), ['smoke/lab/linux']);
    });
  });

  it('calibrate runs A against A on the lab and reports each series\' noise from the tests it ran', async () => {
    await inSandbox(async (box) => {
      const r = await box.run(['calibrate', 'smoke', '--repeat-each', '4', '--per-side', '2', '--trials', '20', '--output', 'cal']);
      assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(String(r.stdout), /^calibration: 4 tests of one build, 20 random A\/A splits of 2 against 2 tests$/m);
      const cal = JSON.parse(readFileSync(join(box.dir, 'cal/calibration.json'), 'utf8')) as { tests: number; series: Array<{ id: string; n: number; mean: number; cv: number }> };
      assert.equal(cal.tests, 4);
      const boot = cal.series.find((s) => s.id === 'smoke · linux · boot-time');
      assert.ok(boot && boot.n === 4, JSON.stringify(cal.series.map((s) => [s.id, s.n])));
      // Measured from the four boots: a real time in ms and a real spread.
      assert.ok(Number.isFinite(boot.mean) && boot.mean > 1_000 && boot.mean < 120_000, `boot-time mean ${boot.mean}`);
      assert.ok(Number.isFinite(boot.cv) && boot.cv > 0 && boot.cv < 1, `boot-time CV ${boot.cv}`);
    });
  });
});
