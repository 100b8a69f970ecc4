// Two bhyve-smoke processes, one lab host (as two CI shards on two workers,
// or an engineer at the desk during the nightly): the host's capacity holds
// across them — never two vms at once on a host of capacity 1, by the lab's
// own record of when each vm ran — the second waits saying for whom, with
// --no-wait it fails at once naming the holder, and the lease of a run that
// was killed is broken once it has gone stale.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { BUILTIN_CONFIG } from '../../../harness/config/defaults.ts';
import type { RunResult } from '../../../harness/report/results.ts';
import { cliSandbox } from '../../helpers/cli.ts';
import { labRunRoot } from '../../helpers/lab.ts';

/** Two sandboxes (two machines' state), one lab host of capacity 1 (its own run root), leases stale after 15 s: long enough that the killed run's lease is still fresh through the --no-wait run and clean that follow its kill (it was renewed up to a quarter of that before). */
function twoProcessesOneHost() {
  const lab = labRunRoot();
  const boxes = [cliSandbox(), cliSandbox()];
  for (const box of boxes) {
    Object.assign(box.env, lab.env);
    writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), stringify({
      ...BUILTIN_CONFIG,
      hosts: { lab: { ...BUILTIN_CONFIG.hosts.lab, capacity: 1 } },
      thresholds: { ...BUILTIN_CONFIG.thresholds, leaseStale: '15s' },
    }));
  }
  return {
    lab, boxes,
    async cleanup() {
      for (const box of boxes) await box.run(['clean'], { timeout: 120_000 });
      for (const box of boxes) box.cleanup();
      lab.cleanup();
    },
  };
}

/** The lab's record of its vms' lives (fixtures/lab/README.md: vm-runs.log): each vm's [start, end] in ms. */
function vmLives(root: string): Map<string, { start: number; end: number }> {
  const lives = new Map<string, { start: number; end: number }>();
  for (const line of readFileSync(join(root, 'vm-runs.log'), 'utf8').trim().split('\n')) {
    const m = /^(\d+) (start|end) (\S+) \d+$/.exec(line);
    assert.ok(m, `a vm-runs.log line: ${line}`);
    const life = lives.get(m[3]) ?? { start: Infinity, end: -Infinity };
    if (m[2] === 'start') life.start = Math.min(life.start, Number(m[1]));
    else life.end = Math.max(life.end, Number(m[1]));
    lives.set(m[3], life);
  }
  return lives;
}

/** Waits for the run holding the lab host's slot 0 (its lease is taken before its vm exists) and returns its run id. */
async function holderOfSlot0(root: string): Promise<string> {
  const owner = join(root, 'leases/slot-0/owner');
  for (let i = 0; i < 150; i++) {
    const run = existsSync(owner) ? /^run=(\S+)$/m.exec(readFileSync(owner, 'utf8'))?.[1] : undefined;
    if (run) return run;
    await sleep(200);
  }
  throw new Error(`no run took the lab host's slot 0 within 30 s (${owner})`);
}

const resultsOf = (dir: string, out: string): RunResult => JSON.parse(readFileSync(join(dir, out, 'results.json'), 'utf8'));

describe('host leases across processes', { timeout: 400_000 }, () => {
  it('a host of capacity 1 never runs two vms of two processes at once: the second waits, saying for whom', async () => {
    const t = twoProcessesOneHost();
    try {
      const [a, b] = t.boxes;
      const first = a.run(['run', 'smoke', '--repeat-each', '2', '--output', 'out']);
      const holder = await holderOfSlot0(t.lab.root);
      const second = await b.run(['run', 'smoke', '--output', 'out']);
      const firstDone = await first;
      assert.equal(firstDone.exitCode, 0, `${firstDone.stdout}${firstDone.stderr}`);
      assert.equal(second.exitCode, 0, `${second.stdout}${second.stderr}`);
      const runA = resultsOf(a.dir, 'out').runId;
      assert.equal(holder, runA);
      assert.match(String(second.stdout), new RegExp(`^note waiting for host lab, held by run ${runA} \\(\`bhyve-smoke run smoke --repeat-each 2 --output out\`, pid ${first.pid}, on \\S+@\\S+, since \\S+\\), renewed \\d+ s ago$`, 'm'));
      // Three vms in all, one after another.
      const lives = [...vmLives(t.lab.root).entries()].sort((x, y) => x[1].start - y[1].start);
      assert.equal(lives.length, 3, JSON.stringify(lives));
      for (const [name, life] of lives) assert.ok(life.end >= life.start, `${name} ended after it started: ${JSON.stringify(life)}`);
      for (let i = 1; i < lives.length; i++) {
        assert.ok(lives[i][1].start >= lives[i - 1][1].end, `${lives[i][0]} started before ${lives[i - 1][0]} ended: ${JSON.stringify(lives)}`);
      }
    } finally {
      await t.cleanup();
    }
  });

  it('--no-wait fails at once naming the holder; the lease of a run killed outright is broken once stale', async () => {
    const t = twoProcessesOneHost();
    try {
      const [a, b] = t.boxes;
      const killed = a.run(['run', 'smoke', '--output', 'out']);
      // Killed once it holds the host, as a lost CI worker dies: nothing of it lets go.
      const runA = await holderOfSlot0(t.lab.root);
      killed.kill('SIGKILL');
      await killed;

      const busy = await b.run(['run', 'smoke', '--no-wait', '--output', 'busy']);
      assert.equal(busy.exitCode, 3, `${busy.stdout}${busy.stderr}`);
      const refused = resultsOf(b.dir, 'busy');
      assert.match(refused.tests[0].error?.message ?? '', new RegExp(`^host lab is held by another process and --no-wait does not wait: run ${runA} \\(\`bhyve-smoke run smoke --output out\``));
      assert.ok(Date.parse(refused.finishedAt) - Date.parse(refused.startedAt) < 15_000, 'at once, not after a wait');

      // clean on the other machine tells the lease, still fresh, and leaves it.
      const told = await b.run(['clean']);
      assert.match(String(told.stdout), new RegExp(`^host lab: slot 0 leased by run ${runA} \\(\`bhyve-smoke run smoke --output out\`.*\\(live: left as it is\\)$`, 'm'), `${told.stdout}${told.stderr}`);

      const after = await b.run(['run', 'smoke', '--output', 'after']);
      assert.equal(after.exitCode, 0, `${after.stdout}${after.stderr}`);
      assert.match(String(after.stdout), new RegExp(`^note waiting for host lab, held by run ${runA} `, 'm'));
      assert.match(String(after.stdout), new RegExp(`^note host lab: broke a stale lease on slot 0, not renewed for \\d+ s: run ${runA} `, 'm'));
    } finally {
      await t.cleanup();
    }
  });
});
