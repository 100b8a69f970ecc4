// The dose ladder on the lab, end to end through the CLI: its wall time, how
// much of it is measurement (iperf3 running, unstressed, every step and
// recovery) against set-up (boot, login, the hammer's starts and stops,
// teardown), and the curve it found.
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { RunResult } from '../harness/report/results.ts';
import { fmt } from './stats.ts';

const CLI = resolve(import.meta.dirname, '../bin/bhyve-smoke.mjs');

export async function benchDose(): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'bsm-bench-dose-'));
  try {
    const started = Date.now();
    const r = await execa('node', [CLI, 'run', 'wrlock-dose', '--output', out, '--reporter', 'json'], { reject: false, env: { CI: '1' } });
    const wall = Date.now() - started;
    const run: RunResult = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    const t = run.tests[0];
    const phases = t.checks.filter((c) => c.name.startsWith('iperf3 ') && c.durationMs > 0);
    const iperf = phases.reduce((sum, c) => sum + c.durationMs, 0);
    console.log(`wrlock-dose on the lab (default ladder, 10 s phases): exit ${r.exitCode}, wall ${fmt(wall)}, test ${fmt(t.durationMs)}`);
    console.log(`  measurement (iperf3 running, ${phases.length} phases): ${fmt(iperf)} = ${((100 * iperf) / wall).toFixed(0)}% of the wall time; set-up and teardown ${fmt(wall - iperf)}`);
    const m = (metric: string, dose?: string) => t.metrics?.find((x) => x.metric === metric && x.dims.dose === dose)?.value;
    for (const dose of t.metrics!.filter((x) => x.metric === 'wrlock-cycle-rate').map((x) => x.dims.dose!)) {
      console.log(`  ${dose.padEnd(6)} ${m('wrlock-cycle-rate', dose)!.toFixed(1).padStart(6)} cycles/s  throughput ${((m('throughput-ratio', dose) ?? NaN) * 100).toFixed(0).padStart(3)}% of unstressed  cycle p50 ${m('wrlock-cycle-p50', dose)?.toFixed(1)} ms p99 ${m('wrlock-cycle-p99', dose)?.toFixed(1)} ms`);
    }
    console.log(`  knee: ${m('dose-knee')?.toFixed(1)} cycles/s`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
