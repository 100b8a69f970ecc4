// A kept vm to poke at, on the lab: two runs each keep a failed vm (a suite
// that fails right after boot); the second run leaves the first one's vm be;
// `console` attaches to it, shows the login prompt, takes input and detaches
// on Ctrl-]; `evidence` writes its stacks now; `clean --run` removes only
// that run's vm.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import type { RunResult } from '../../../harness/report/results.ts';
import { CLI, inSandbox } from '../../helpers/cli.ts';
import { labVmNames } from '../../helpers/lab.ts';

const API = resolve(import.meta.dirname, '../../../harness/api.ts');
const FAILS_AFTER_BOOT = `import { bringUp, suite } from ${JSON.stringify(API)};
export default suite({
  name: 'fails-after-boot', description: 'boots, logs in, fails a check', guests: ['linux'], needs: [],
  async run(ctx) {
    await bringUp(ctx);
    ctx.check.that('fails on purpose', false, { measured: 'no', threshold: 'yes' });
  },
});
`;

/** Waits until `out()` matches, or fails naming what it saw. */
async function until(out: () => string, pattern: RegExp, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pattern.test(out())) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms; the console showed:\n${out().slice(-500)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a kept vm to poke at', { timeout: 600_000 }, () => {
  it('keeps two runs\' failed vms, attaches to one\'s console, takes its evidence, and cleans one run only', async () => {
    await inSandbox(async (box) => {
      writeFileSync(join(box.dir, 'fails-after-boot.mts'), FAILS_AFTER_BOOT);
      const kept: Array<{ runId: string; vm: string }> = [];
      for (const out of ['a', 'b']) {
        const r = await box.run(['run', './fails-after-boot.mts', '--keep-on-failure', '--output', out]);
        assert.equal(r.exitCode, 1, `${r.stdout}${r.stderr}`);
        const results: RunResult = JSON.parse(readFileSync(join(box.dir, out, 'results.json'), 'utf8'));
        const vm = results.tests[0].vm!;
        assert.match(String(r.stdout), new RegExp(`Attach: npx bhyve-smoke console ${vm} · evidence now: npx bhyve-smoke evidence ${vm} · remove: npx bhyve-smoke clean --run ${results.runId}`));
        kept.push({ runId: results.runId, vm });
        if (out === 'b') assert.match(String(r.stderr), new RegExp(`run ${kept[0].runId} keeps ${kept[0].vm} on lab for inspection`));
      }
      assert.ok(kept.every((k) => labVmNames().includes(k.vm)), 'the second run left the first one\'s kept vm be');

      // The console: log out of the harness's shell, see the login prompt, type a user, detach.
      const child = execa('node', [CLI, 'console', kept[0].vm], { cwd: box.dir, env: box.env, reject: false, timeout: 60_000 });
      let seen = '';
      child.stdout!.on('data', (d: Buffer) => { seen += d.toString(); });
      child.stdin!.write('\nexit\n');
      await until(() => seen, /login: *$/m, 'login prompt');
      child.stdin!.write('root\n');
      await until(() => seen, /Password: *$/m, 'password prompt');
      child.stdin!.write(Buffer.from([0x1d]));
      const c = await child;
      assert.equal(c.exitCode, 0, `${c.stderr}`);
      assert.match(String(c.stderr), new RegExp(`attached to the console of ${kept[0].vm} on lab; Ctrl-\\] detaches[^]*detached from ${kept[0].vm}`));

      const e = await box.run(['evidence', kept[0].runId, '--output', 'ev']);
      assert.equal(e.exitCode, 0, `${e.stdout}${e.stderr}`);
      assert.match(readFileSync(join(box.dir, 'ev', 'pstack.txt'), 'utf8'), /CPU 0\/TCG|Thread \d+/);
      assert.match(readFileSync(join(box.dir, 'ev', 'bhyvectl-stats.txt'), 'utf8'), /vcpu0/);

      const none = await box.run(['console', 'bsm-nosuch-1']);
      assert.equal(none.exitCode, 2);
      assert.match(String(none.stderr), new RegExp(`bsm-nosuch-1: no kept vm of that name or run \\(kept vms: ${kept[0].vm} \\(run ${kept[0].runId}, fails-after-boot/lab/linux on lab\\), ${kept[1].vm}`));

      const clean = await box.run(['clean', '--run', kept[0].runId]);
      assert.equal(clean.exitCode, 0, `${clean.stdout}${clean.stderr}`);
      assert.match(String(clean.stdout), new RegExp(`run ${kept[0].runId}: destroyed ${kept[0].vm} on lab`));
      assert.ok(!labVmNames().includes(kept[0].vm) && labVmNames().includes(kept[1].vm), 'only that run\'s vm is gone');
      assert.ok(!existsSync(join(box.env.BHYVE_SMOKE_STATE, `${kept[0].runId}.json`)));
      await box.run(['clean']);
      assert.ok(!labVmNames().includes(kept[1].vm));
    });
  });
});
