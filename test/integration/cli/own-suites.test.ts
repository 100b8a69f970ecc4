// A user's own suites, as docs/writing-suites.md tells it: its example files,
// copied to a folder outside the package that has bhyve-smoke installed (a
// node_modules link to this checkout), named by the config's `suites` and on
// the command line; list shows where each comes from; the suite runs on the
// lab. A name defined twice, or a file that holds no suite, is exit 2.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import type { RunResult } from '../../../harness/report/results.ts';
import { inSandbox } from '../../helpers/cli.ts';

const EXAMPLES = resolve(import.meta.dirname, '../../../docs/examples');
const PACKAGE = resolve(import.meta.dirname, '../../..');

/** The documentation's example in a project folder of the sandbox, bhyve-smoke installed in it. */
function project(dir: string): string {
  const root = join(dir, 'my-suites');
  cpSync(EXAMPLES, root, { recursive: true, filter: (src) => !/\/node_modules(\/|$)/.test(src) });
  mkdirSync(join(root, 'node_modules'));
  symlinkSync(PACKAGE, join(root, 'node_modules', 'bhyve-smoke'));
  return root;
}

describe('suites of your own', { timeout: 600_000 }, () => {
  it('refuses a suite name defined twice, naming both files, and a suite file that holds no suite', async () => {
    await inSandbox(async (box) => {
      const root = project(box.dir);
      writeFileSync(join(root, 'suites', 'smoke-again.ts'), "import { suite } from 'bhyve-smoke/suite';\nexport default suite({ name: 'smoke', description: 'x', guests: ['linux'], needs: [], async run() {} });\n");
      const twice = await box.run(['list'], { cwd: root });
      assert.equal(twice.exitCode, 2, `${twice.stdout}${twice.stderr}`);
      assert.match(String(twice.stderr), /suite "smoke" is defined twice: in .*\/suites\/smoke\.ts and in .*my-suites\/suites\/smoke-again\.ts \(.*bhyve-smoke\.config\.yaml: suites\); rename one/);
      rmSync(join(root, 'suites', 'smoke-again.ts'));
      writeFileSync(join(root, 'not-a-suite.ts'), 'export const x = 1;\n');
      const none = await box.run(['list', 'not-a-suite.ts', '--config', 'bhyve-smoke.config.yaml'], { cwd: root });
      assert.equal(none.exitCode, 2);
      assert.match(String(none.stderr), /not-a-suite\.ts: its default export is not a suite/);
    });
  });

  it('runs the documentation\'s example suite from a folder outside the package, found through the config, on the lab', async () => {
    await inSandbox(async (box) => {
      const root = project(box.dir);
      const list = await box.run(['list'], { cwd: root });
      assert.equal(list.exitCode, 0, `${list.stdout}${list.stderr}`);
      assert.match(String(list.stdout), /^suite reboot-twice +.*\/my-suites\/suites\/reboot-twice\.ts$/m);
      assert.match(String(list.stdout), /^suite smoke +bhyve-smoke's suites\/smoke\.ts$/m);
      assert.match(String(list.stdout), /^reboot-twice\/lab\/linux +boot, reboot twice, shut down/m);
      const byFile = await box.run(['list', './suites/reboot-twice.ts'], { cwd: root });
      assert.match(String(byFile.stdout), /^reboot-twice\/lab\/linux/m);
      assert.doesNotMatch(String(byFile.stdout), /^smoke\/lab\/linux/m, 'a file on the command line selects its suite');

      const r = await box.run(['run', 'reboot-twice', '--output', 'out'], { cwd: root });
      assert.equal(r.exitCode, 0, `${r.stdout}${r.stderr}`);
      const results: RunResult = JSON.parse(readFileSync(join(root, 'out', 'results.json'), 'utf8'));
      const t = results.tests[0];
      assert.equal(t.id, 'reboot-twice/lab/linux');
      assert.deepEqual(t.checks.filter((c) => /reboot \d is ready again|the guest runs a kernel we know|bhyve reports a poweroff/.test(c.name)).map((c) => [c.name, c.status]), [
        ['the guest runs a kernel we know', 'passed'], ['reboot 1 is ready again', 'passed'], ['reboot 2 is ready again', 'passed'], ['bhyve reports a poweroff', 'passed'],
      ]);
      assert.equal(t.metrics!.filter((m) => m.metric === 'reboot-time').length, 2);
      const hostKernel = t.attachments.find((a) => a.name === 'host-kernel.txt');
      assert.ok(hostKernel, 'the attachment is kept');
      assert.match(readFileSync(hostKernel.path, 'utf8'), /^Linux \d/);

      // The suite's own metric, recorded as the suite declared it, its value a real time.
      const own = t.metrics!.filter((m) => m.metric === 'login-after-reboot');
      assert.equal(own.length, 2, 'one a reboot');
      for (const m of own) assert.ok(m.unit === 'ms' && m.better === 'lower' && Number.isFinite(m.value) && m.value > 0 && m.value < 120_000, JSON.stringify(m));
      const junit = readFileSync(join(root, 'out', 'junit.xml'), 'utf8');
      assert.match(junit, /<property name="bhyve-smoke\.metric\.login-after-reboot" value="\d+(\.\d+)? ms"\/>/, 'JUnit carries it as it carries the built-in ones');
      assert.match(junit, /<property name="bhyve-smoke\.metric\.reboot-time" value="\d+(\.\d+)? ms"\/>/);

      // Two recorded nights of six tests each from this run, the candidate's login 20% slower: compare flags it.
      const night = (runId: string, factor: number): RunResult => ({
        ...results, runId,
        tests: Array.from({ length: 6 }, (_, i) => ({
          ...t, id: `${t.id}#${i}`, repeat: i,
          metrics: t.metrics!.map((m) => ({ ...m, value: m.value * (m.metric === 'login-after-reboot' ? factor : 1) * (1 + (i - 2.5) / 100) })),
        })),
      });
      writeFileSync(join(root, 'base.json'), JSON.stringify(night('base0001', 1)));
      writeFileSync(join(root, 'cand.json'), JSON.stringify(night('cand0001', 1.2)));
      const compared = await box.run(['compare', 'base.json', 'cand.json', '--output', 'cmp'], { cwd: root });
      assert.equal(compared.exitCode, 1, `${compared.stdout}${compared.stderr}`);
      assert.match(String(compared.stdout), /^REGRESSED\s+reboot-twice · linux · login-after-reboot\s/m);
      assert.match(String(compared.stdout), /^ok\s+reboot-twice · linux · reboot-time\s/m, 'and only it');

      // The config may name it (the example's gate override does); a name no suite declares is a usage error.
      writeFileSync(join(root, 'bhyve-smoke.config.yaml'), readFileSync(join(root, 'bhyve-smoke.config.yaml'), 'utf8').replace('login-after-reboot: {', 'login-after-reboots: {'));
      const misspelt = await box.run(['compare', 'base.json', 'cand.json', '--output', 'cmp'], { cwd: root });
      assert.equal(misspelt.exitCode, 2, `${misspelt.stdout}${misspelt.stderr}`);
      assert.match(String(misspelt.stderr), /bhyve-smoke\.config\.yaml: gate\.overrides\.login-after-reboots: unknown metric "login-after-reboots" \(known: throughput, .*login-after-reboot/);
    });
  });

  it('refuses a suite that records a metric it did not declare, naming the suite and the metric, and a declaration without a unit', async () => {
    await inSandbox(async (box) => {
      const root = project(box.dir);
      writeFileSync(join(root, 'suites', 'undeclared.ts'), "import { suite } from 'bhyve-smoke/suite';\nexport default suite({ name: 'undeclared', description: 'x', guests: ['linux'], needs: [], async run({ metrics }) { metrics.record('guest-mood', 1); } });\n");
      const r = await box.run(['run', 'undeclared', '--output', 'out'], { cwd: root });
      assert.equal(r.exitCode, 2, `${r.stdout}${r.stderr}`);
      const results: RunResult = JSON.parse(readFileSync(join(root, 'out', 'results.json'), 'utf8'));
      assert.match(results.tests[0].error?.message ?? '', /^suite undeclared: metric guest-mood is neither built in nor declared by the suite \(its metrics: none; built in: throughput, /);
      writeFileSync(join(root, 'suites', 'undeclared.ts'), "import { suite } from 'bhyve-smoke/suite';\nexport default suite({ name: 'undeclared', description: 'x', guests: ['linux'], needs: [], metrics: { 'guest-mood': { better: 'higher', description: 'how it feels' } }, async run() {} });\n");
      const list = await box.run(['list'], { cwd: root });
      assert.equal(list.exitCode, 2);
      assert.match(String(list.stderr), /undeclared\.ts: suite undeclared: metrics\.guest-mood\.unit: a unit is required/);
    });
  });
});
