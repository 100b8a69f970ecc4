// What the README promises of `run`'s options and signals, on the lab: a retry
// turns an infrastructure error into a flaky pass and never retries a finding;
// a teardown that leaves something behind says what and keeps it for clean;
// --keep-on-failure leaves the vm and says how to reach it; SIGTERM is 143
// with the reports written; a second Ctrl-C leaves at once, and the next run
// reaps what it left.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { BUILTIN_CONFIG } from '../../../harness/config/defaults.ts';
import type { RunResult } from '../../../harness/report/results.ts';
import { inSandbox, runIdsIn, waitForRunVm } from '../../helpers/cli.ts';
import { labVmNames } from '../../helpers/lab.ts';

const results = (dir: string): RunResult => JSON.parse(readFileSync(join(dir, 'out/results.json'), 'utf8'));
const withFault = (env: Record<string, string>, fault: string) => ({ env: { ...env, BHYVE_LAB_FAULTS: fault } });
/** A boot that never reaches its login prompt fails its ready check in 8 s (the lab's boot-hang fault). */
const quickBootCheck = (dir: string) => writeFileSync(join(dir, 'bhyve-smoke.config.yaml'), stringify({ ...BUILTIN_CONFIG, thresholds: { ...BUILTIN_CONFIG.thresholds, bootReady: '8s' } }));

describe('run options and signals on the lab', { timeout: 600_000 }, () => {
  it('--retries: an infrastructure error that passes on the retry is flaky (exit 0); a failed check is never retried', async () => {
    await inSandbox(async (box) => {
      // The first bhyve started with this token fails to start (exit 4); the retry's starts.
      const once = await box.run(['run', 'smoke', '--retries', '1', '--output', 'out'], withFault(box.env, `start-error-once=${randomBytes(4).toString('hex')}`));
      assert.equal(once.exitCode, 0, `${once.stdout}\n${once.stderr}`);
      const t = results(box.dir).tests[0];
      assert.equal(t.status, 'flaky');
      assert.deepEqual(t.attempts.map((a) => a.status), ['error', 'passed']);
      assert.match(t.attempts[0].error ?? '', /bhyve exited 4 as it started:[\s\S]*Device emulation initialization error: Input\/output error \(lab fault start-error-once\)/);
      assert.match(String(once.stdout), /^FLKY smoke\/lab\/linux/m);

      quickBootCheck(box.dir);
      const hang = await box.run(['run', 'smoke', '--retries', '2', '--output', 'out'], withFault(box.env, 'boot-hang'));
      assert.equal(hang.exitCode, 1, `${hang.stdout}\n${hang.stderr}`);
      const failed = results(box.dir).tests[0];
      assert.deepEqual([failed.status, failed.attempts.length], ['failed', 1], 'a failed check is a finding: never retried');
    });
  });

  it('a teardown that leaves the vm behind fails the test naming it; the run record keeps it, and clean reaps it', async () => {
    await inSandbox(async (box) => {
      // bhyvectl --destroy exits 0 whatever happens (vm_destroy() is void): the first destroy of this vm does nothing.
      const r = await box.run(['run', 'smoke', '--output', 'out'], withFault(box.env, 'destroy-leaks-once'));
      assert.equal(r.exitCode, 3, `${r.stdout}\n${r.stderr}`);
      const t = results(box.dir).tests[0];
      assert.equal(t.status, 'error');
      assert.match(t.error?.message ?? '', new RegExp(`^teardown failed: ${t.vm} on lab: teardown left vm ${t.vm} \\(still in \`if \\[ -e "[^"]*/vmm" \\]; then ls `));
      assert.ok(labVmNames().includes(t.vm!), 'the vm is still there, as the error says');
      assert.deepEqual(runIdsIn(box.dir), [results(box.dir).runId], 'the run record keeps it');
      const clean = await box.run(['clean']);
      assert.equal(clean.exitCode, 0, `${clean.stdout}${clean.stderr}`);
      assert.match(String(clean.stdout), new RegExp(`destroyed ${t.vm} on lab`));
      assert.ok(!labVmNames().includes(t.vm!), 'clean reaped it');
    });
  });

  it('--keep-on-failure leaves the failed vm running, prints and records how to reach it, and clean removes it', async () => {
    await inSandbox(async (box) => {
      quickBootCheck(box.dir);
      const r = await box.run(['run', 'smoke', '--keep-on-failure', '--output', 'out'], withFault(box.env, 'boot-hang'));
      assert.equal(r.exitCode, 1, `${r.stdout}\n${r.stderr}`);
      const t = results(box.dir).tests[0];
      const reach = new RegExp(`^${t.vm} on lab \\(local; its console is the unix socket \\S+/${t.vm}/com1\\.sock \\(e\\.g\\. socat - UNIX-CONNECT:\\S+\\)\\)\\. Attach: npx bhyve-smoke console ${t.vm} · evidence now: npx bhyve-smoke evidence ${t.vm} · remove: npx bhyve-smoke clean --run ${results(box.dir).runId}$`);
      assert.match(t.kept ?? '', reach);
      assert.match(String(r.stdout), new RegExp(`^ {5}kept: ${t.vm} on lab`, 'm'));
      assert.ok(labVmNames().includes(t.vm!), 'the vm is left running');
      assert.ok(!t.timeline.events.some((e) => e.kind === 'destroyed'));
      const clean = await box.run(['clean']);
      assert.match(String(clean.stdout), new RegExp(`destroyed ${t.vm} on lab`));
      assert.ok(!labVmNames().includes(t.vm!));
    });
  });

  it('SIGTERM stops the run with 143 and its reports; a second Ctrl-C leaves at once, and the next run reaps what it left', async () => {
    await inSandbox(async (box) => {
      const term = box.run(['run', 'smoke', '--output', 'out']);
      await waitForRunVm(box.dir, (d) => existsSync(`${d}/qemu.pid`));
      term.kill('SIGTERM');
      const t = await term;
      assert.equal(t.exitCode, 143, String(t.stderr));
      assert.match(results(box.dir).interrupted ?? '', /SIGTERM/);
      assert.match(readFileSync(join(box.dir, 'out/junit.xml'), 'utf8'), /<error message="interrupted by SIGTERM" type="Aborted"/);

      const twice = box.run(['run', 'smoke', '--output', 'out2']);
      const { runId, vm } = await waitForRunVm(box.dir, (d) => existsSync(`${d}/qemu.pid`));
      twice.kill('SIGINT');
      await sleep(50);
      const at = Date.now();
      twice.kill('SIGINT');
      const r = await twice;
      assert.equal(r.exitCode, 130);
      assert.ok(Date.now() - at < 2_000, `the second Ctrl-C took ${Date.now() - at} ms`);
      await sleep(1_000);
      assert.ok(labVmNames().includes(vm) && runIdsIn(box.dir).includes(runId), 'left at once: the vm and its run record stay');

      const next = await box.run(['run', 'smoke', '--output', 'out3']);
      assert.equal(next.exitCode, 0, `${next.stdout}\n${next.stderr}`);
      assert.match(String(next.stderr), new RegExp(`^bhyve-smoke: reaped dead run ${runId}: ${vm} on lab`, 'm'));
      assert.ok(!labVmNames().includes(vm), 'the next run reaped it');
      assert.ok(!runIdsIn(box.dir).includes(runId));
    });
  });
});
