// What pinned vCPUs buy on the lab: wrlock-iperf runs with the guest's vCPU
// unpinned and pinned to the last host CPU, alternating (so a drift of the box
// falls on both alike), then `calibrate --from` both, which prints the CV of
// every series with and without pinning side by side, and the gate's noise on
// the pinned ones. The unit of noise is the run, as the gate's is.
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { BUILTIN_CONFIG } from '../harness/config/defaults.ts';
import type { RunResult } from '../harness/report/results.ts';
import { fmt } from './stats.ts';

const CLI = resolve(import.meta.dirname, '../bin/bhyve-smoke.mjs');
/** Runs a side: enough for a CV, few enough for the bench to take minutes, not an hour. */
const ROUNDS = Number(process.env.BENCH_PINNING_ROUNDS ?? 8);

export async function benchPinning(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bsm-bench-pinning-'));
  const cpu = cpus().length - 1;
  try {
    writeFileSync(join(dir, 'bhyve-smoke.config.yaml'), stringify({
      ...BUILTIN_CONFIG,
      stress: { ...BUILTIN_CONFIG.stress, iperfPhase: '5s' },
      profiles: { ...BUILTIN_CONFIG.profiles, unpinned: { pinVcpus: { linux: false } }, pinned: { pinVcpus: { linux: [cpu] } } },
    }));
    const started = Date.now();
    for (let round = 1; round <= ROUNDS; round++) {
      for (const side of round % 2 ? ['unpinned', 'pinned'] : ['pinned', 'unpinned']) {
        const r = await execa('node', [CLI, 'run', 'wrlock-iperf', '--profile', side, '--output', join(dir, 'runs', `${side}-${round}`), '--reporter', 'json'], { cwd: dir, reject: false, env: { CI: '1' } });
        const run: RunResult = JSON.parse(readFileSync(join(dir, 'runs', `${side}-${round}`, 'results.json'), 'utf8'));
        if (r.exitCode !== 0) console.log(`  round ${round} ${side}: exit ${r.exitCode} (${run.tests.map((t) => t.status).join(', ')})`);
      }
    }
    console.log(`wrlock-iperf on the lab, ${ROUNDS} runs unpinned and ${ROUNDS} with vCPU 0 pinned to host CPU ${cpu}, alternating: ${fmt(Date.now() - started)}`);
    const c = await execa('node', [CLI, 'calibrate', '--from', join(dir, 'runs'), '--trials', '200', '--output', join(dir, 'calibrate')], { cwd: dir, reject: false });
    console.log(c.stdout.split('\n').filter((l) => !l.startsWith('reports:')).join('\n'));
    if (c.exitCode !== 0) console.log(`calibrate: exit ${c.exitCode}\n${c.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
