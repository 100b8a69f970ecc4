// The stress path's figures on the lab: how fast a hang is caught (freeze the
// vm's QEMU with SIGSTOP, time until the hang-detected event), and the wrlock
// hammer's rate through the harness against a bare bhyvectl loop on the host.
import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { BUILTIN_CONFIG } from '../harness/config/defaults.ts';
import { validate } from '../harness/config/load.ts';
import { WrlockHammer } from '../harness/disturbance/wrlock-hammer.ts';
import { createHost } from '../harness/host.ts';
import type { RunResult } from '../harness/report/results.ts';
import { Timeline } from '../harness/timeline.ts';
import { Watchdog } from '../harness/watch/watchdog.ts';
import { LAB_BIN, labRunRoot, startLabVm } from '../test/helpers/lab.ts';
import { waitForRunVm } from '../test/helpers/cli.ts';
import { fmt, median } from './stats.ts';

const CLI = resolve(import.meta.dirname, '../bin/bhyve-smoke.mjs');

async function hangDetectionMs(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bsm-bench-'));
  try {
    writeFileSync(join(dir, 'bhyve-smoke.config.yaml'), stringify({ ...BUILTIN_CONFIG, stress: { reboots: 1, upBetweenReboots: '60s' } }));
    const env = { BHYVE_SMOKE_STATE: join(dir, 'state'), CI: '1' };
    const child = execa('node', [CLI, 'run', 'wrlock-reboot', '--output', 'out', '--reporter', 'json'], { cwd: dir, env, reject: false });
    const { vmDir } = await waitForRunVm(dir, (d) => existsSync(`${d}/console.log`) && readFileSync(`${d}/console.log`, 'latin1').includes('BSM-HB'), 120_000);
    await sleep(500 + Math.random() * 1000); // anywhere in the heartbeat's phase
    process.kill(Number(readFileSync(`${vmDir}/qemu.pid`, 'utf8')), 'SIGSTOP');
    const frozenAt = Date.now();
    await child;
    const run: RunResult = JSON.parse(readFileSync(join(dir, 'out/results.json'), 'utf8'));
    const detected = run.tests[0].timeline.events.find((e) => e.kind === 'hang-detected');
    if (!detected) throw new Error('no hang was detected');
    return detected.t - frozenAt;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function hammerRates(): Promise<{ harness: number; bare: number }> {
  const run = labRunRoot();
  // A link name ends in a number (libdladm dladm_valid_linkname()).
  const vm = startLabVm('benchhammer1', run.env);
  try {
    await vm.waitForConsole(/login: /, 120_000);
    process.env.BHYVE_LAB_RUNDIR = run.root; // the local transport passes it to bhyvectl
    const host = createHost('lab', validate(BUILTIN_CONFIG, 'built-in').hosts.lab);
    const timeline = new Timeline();
    const hammer = new WrlockHammer(host, { vmm: vm.name }, new Watchdog(timeline), timeline, 5_000);
    hammer.start({ rate: 'max' });
    await sleep(10_000);
    const { cycles } = await hammer.stop();
    const n = 500;
    const started = Date.now();
    await execa('sh', ['-c', `i=0; while [ $i -lt ${n} ]; do "$0" --vm="$1" --wrlock-cycle || exit 1; i=$((i+1)); done`, join(LAB_BIN, 'bhyvectl'), vm.name], { env: run.env });
    return { harness: cycles / 10, bare: n / ((Date.now() - started) / 1000) };
  } finally {
    delete process.env.BHYVE_LAB_RUNDIR;
    await vm.bhyvectl('--destroy');
    run.cleanup();
  }
}

/** The harness process's CPU (user+sys, s) from /proc, sampled with its time. */
const cpuSeconds = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
};

/** Harness CPU as a fraction of one core while iperf3 runs (wrlock-iperf, from its first iperf3 start to its last end). */
async function harnessCpuDuringIperf3(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bsm-bench-'));
  try {
    const child = execa('node', [CLI, 'run', 'wrlock-iperf', '--output', 'out', '--reporter', 'json'], { cwd: dir, env: { BHYVE_SMOKE_STATE: join(dir, 'state'), CI: '1' }, reject: false });
    const samples: Array<{ t: number; cpu: number }> = [];
    while (child.exitCode === null) {
      try {
        samples.push({ t: Date.now(), cpu: cpuSeconds(child.pid!) });
      } catch { /* exiting */ }
      await sleep(250);
    }
    await child;
    const run: RunResult = JSON.parse(readFileSync(join(dir, 'out/results.json'), 'utf8'));
    const events = run.tests[0].timeline.events;
    const from = events.find((e) => e.kind === 'iperf3-start')!.t;
    const to = events.filter((e) => e.kind === 'iperf3-end').at(-1)!.t;
    const inside = samples.filter((s) => s.t >= from && s.t <= to);
    return (inside.at(-1)!.cpu - inside[0].cpu) / ((inside.at(-1)!.t - inside[0].t) / 1000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchStress(tries = 5): Promise<void> {
  const latencies: number[] = [];
  for (let i = 0; i < tries; i++) latencies.push(await hangDetectionMs());
  console.log(`hang detection:     median ${fmt(median(latencies))}, max ${fmt(Math.max(...latencies))} from SIGSTOP of the vm to the failed check (n=${tries}: ${latencies.map(fmt).join(', ')}; heartbeat 1 s, gap threshold 3 s)`);
  const { harness, bare } = await hammerRates();
  console.log(`wrlock hammer:      ${harness.toFixed(0)} cycles/s through the harness vs ${bare.toFixed(0)} cycles/s in a bare host loop (ratio ${(harness / bare).toFixed(2)})`);
  const cpu = await harnessCpuDuringIperf3();
  console.log(`harness CPU:        ${(cpu * 100).toFixed(1)}% of one core while iperf3 runs (the harness process, wrlock-iperf, all four phases; the host-side hammer loop and iperf3 client are host work, not counted)`);
}
