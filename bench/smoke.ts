// The smoke suite on the lab, end to end through the CLI: wall time, the part
// spent outside the guest's own boot, reboot and shutdown (harness overhead),
// and the harness's CPU seconds (QEMU's are not the harness's: it runs in
// another process tree, started detached by the host-side supervisor).
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { RunResult } from '../harness/report/results.ts';
import { fmt, median } from './stats.ts';

const CLI = resolve(import.meta.dirname, '../bin/bhyve-smoke.mjs');
/** Steps whose time is the guest's own work, not the harness's. */
const GUEST_STEPS = ['boots to a login prompt', 'reboots gracefully and is ready again', 'shuts down'];

export async function benchSmoke(runs = 3): Promise<void> {
  const walls: number[] = [];
  const overheads: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = mkdtempSync(join(tmpdir(), 'bsm-bench-'));
    try {
      // bash's `times` reports the CPU time of the children it waited for: the harness process.
      const started = Date.now();
      const r = await execa('bash', ['-c', 'node "$0" run smoke --output "$1" --reporter json >/dev/null; rc=$?; times; exit $rc', CLI, out], { reject: false, env: { CI: '1' } });
      const wall = Date.now() - started;
      if (r.exitCode !== 0) throw new Error(`smoke run failed (exit ${r.exitCode}):\n${r.stdout}\n${r.stderr}`);
      const run: RunResult = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
      const guestMs = run.tests[0].checks.filter((c) => GUEST_STEPS.includes(c.name)).reduce((sum, c) => sum + c.durationMs, 0);
      const [, children] = String(r.stdout).trim().split('\n');
      const cpu = children.split(/\s+/).map((t) => { const m = /(\d+)m([\d.]+)s/.exec(t)!; return Number(m[1]) * 60 + Number(m[2]); });
      walls.push(wall);
      overheads.push(wall - guestMs);
      cpus.push(cpu[0] + cpu[1]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
  console.log(`smoke wall time:    median ${fmt(median(walls))} (n=${runs}: ${walls.map(fmt).join(', ')})`);
  console.log(`harness overhead:   median ${fmt(median(overheads))} outside the guest's boot, reboot and shutdown (${overheads.map(fmt).join(', ')})`);
  console.log(`harness CPU:        median ${median(cpus).toFixed(2)} s user+sys (${cpus.map((c) => c.toFixed(2)).join(', ')})`);
}
