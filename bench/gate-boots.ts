// The gate across boot environments on the lab, end to end through the CLI,
// with the built-in config (a boot is the unit, p < 0.01 with Holm):
//   1. a clean baseline BE against a candidate whose vmm holds every write-lock
//      cycle 10 ms (slow-wrlock=10): its verdict, its wall time and how that
//      splits (host reboots, guest boots, measuring, the rest);
//   2. the same baseline against a clean candidate of another stamp: a gate
//      that must pass.
// Then, from the 18 clean boots and the 6 slow ones the two gates made: each
// series' variance between boots and within a boot, the A/A false-alarm rate
// of 6-against-6 draws of clean boots, and how often 6 drawn clean boots
// against the 6 slow ones catch the slow write lock — with all three tests of
// each boot, and with one.
//
// The suite is the gate tests' hard-dose (test/suites/hard-dose.mts: iperf3
// 2 s under the hammer flat out), not wrlock-iperf: 36 tests a gate in minutes
// instead of half an hour. BENCH_GATE_BOOTS_FROM=DIR reads the two gates'
// results from DIR (gate-slow/, gate-clean/, as a run leaves them with
// BENCH_KEEP=1) instead of running them.
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BUILTIN_CONFIG } from '../harness/config/defaults.ts';
import { configSchema } from '../harness/config/schema.ts';
import type { RunResult, TestResult } from '../harness/report/results.ts';
import { bootVariance } from '../harness/verdict/boots.ts';
import { splitTrials, unitsOf } from '../harness/verdict/calibrate.ts';
import { collectSeries, compareRuns, ignoreRuleFor } from '../harness/verdict/compare.ts';
import { seededRandom } from '../harness/verdict/statistics.ts';
import { fmt } from './stats.ts';

const CLI = resolve(import.meta.dirname, '../bin/bhyve-smoke.mjs');
const LAB_BIN = resolve(import.meta.dirname, '../fixtures/lab/bin');
const SUITE = resolve(import.meta.dirname, '../test/suites/hard-dose.mts');
const BOOTS = 6;
const PER_BOOT = 3;
const TRIALS = 500;
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

interface Gate {
  name: string;
  exitCode: number | undefined;
  wallMs: number;
  run: RunResult;
  verdictLines: string[];
}

async function runGate(root: string, out: string, name: string, candidate: string): Promise<Gate> {
  const started = Date.now();
  const r = await execa('node', [CLI, 'gate', SUITE, '--host', 'lab', '--baseline-be', 'base', '--candidate-be', candidate, '--boots', String(BOOTS), '--runs-per-boot', String(PER_BOOT), '--output', join(out, name)],
    { reject: false, env: { CI: '1', BHYVE_LAB_RUNDIR: root }, all: true });
  const wallMs = Date.now() - started;
  if (!existsSync(join(out, name, 'results.json'))) throw new Error(`gate ${name}: no results.json (exit ${r.exitCode})\n${r.all}`);
  return gateFrom(out, name, r.exitCode, wallMs, String(r.all));
}

function gateFrom(out: string, name: string, exitCode: number | undefined, wallMs: number, printed: string): Gate {
  const run: RunResult = JSON.parse(readFileSync(join(out, name, 'results.json'), 'utf8'));
  return { name, exitCode, wallMs: wallMs || run.durationMs, run, verdictLines: printed.split('\n').filter((l) => /^(ok|REGRESSED|flagged|ignored|too few)\s.* · /.test(l) || /^verdict:/.test(l)) };
}

/** Where a gate's wall time went. */
function split(g: Gate): string {
  const boots = g.run.boots ?? [];
  const reboots = boots.reduce((s, b) => s + b.upMs, 0);
  const guestBoots = g.run.tests.reduce((s, t) => s + (t.metrics?.find((m) => m.metric === 'boot-time')?.value ?? 0), 0);
  const measuring = g.run.tests.reduce((s, t) => s + t.checks.filter((c) => c.name.startsWith('iperf3 under')).reduce((x, c) => x + c.durationMs, 0), 0);
  const rest = g.wallMs - reboots - guestBoots - measuring;
  const share = (ms: number) => `${fmt(ms)} (${((100 * ms) / g.wallMs).toFixed(0)}%)`;
  return `wall ${fmt(g.wallMs)}: ${boots.length} host reboots ${share(reboots)}, ${g.run.tests.length} guest boots ${share(guestBoots)}, measuring ${share(measuring)}, the rest (logins, hammer, teardown, BE switches) ${share(rest)}`;
}

/** Each boot's tests as its own unit, its boot renumbered so two gates' boots never share a number. */
const bootsOf = (g: Gate, side: 'baseline' | 'candidate', offset: number): TestResult[][] => {
  const indices = new Set((g.run.boots ?? []).filter((b) => b.side === side).map((b) => b.index));
  return unitsOf(g.run.tests.filter((t) => t.boot !== undefined && indices.has(t.boot))).map((u) => u.map((t) => ({ ...t, boot: t.boot! + offset })));
};

const shuffle = <T>(xs: readonly T[], random: () => number): T[] => {
  const s = [...xs];
  for (let i = s.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [s[i], s[j]] = [s[j], s[i]];
  }
  return s;
};

export async function benchGateBoots(): Promise<void> {
  const from = process.env.BENCH_GATE_BOOTS_FROM;
  const out = from ?? mkdtempSync(join(tmpdir(), 'bsm-bench-gate-boots-'));
  const root = mkdtempSync(join(tmpdir(), 'bsm-bench-gate-boots-lab-'));
  const env = { ...process.env, BHYVE_LAB_RUNDIR: root };
  const beadm = (...args: string[]) => execFileSync(join(LAB_BIN, 'beadm'), args, { env, encoding: 'utf8' });
  try {
    let gates: Gate[];
    if (from) {
      gates = ['gate-slow', 'gate-clean'].map((name) => gateFrom(from, name, undefined, 0, ''));
    } else {
      beadm('create', '-o', 'bhyve-lab:stamp=lab-bench.1', 'base');
      beadm('create', '-o', 'bhyve-lab:stamp=lab-bench.2', '-o', 'bhyve-lab:faults=slow-wrlock=10', 'slow');
      beadm('create', '-o', 'bhyve-lab:stamp=lab-bench.3', 'clean');
      gates = [await runGate(root, out, 'gate-slow', 'slow'), await runGate(root, out, 'gate-clean', 'clean')];
    }
    console.log(`hard-dose on the lab, ${BOOTS} boots a side of ${PER_BOOT} tests, the built-in gate (a boot is the unit, p < 0.01, Holm)`);
    for (const g of gates) {
      console.log(`${g.name === 'gate-slow' ? 'base against slow (slow-wrlock=10)' : 'base against clean (another stamp)'}: exit ${g.exitCode ?? '(read back)'}`);
      console.log(`  ${split(g)}`);
      for (const l of g.verdictLines) console.log(`  ${l}`);
    }

    const [slowGate, cleanGate] = gates;
    const clean = [...bootsOf(slowGate, 'baseline', 0), ...bootsOf(cleanGate, 'baseline', 100), ...bootsOf(cleanGate, 'candidate', 100)];
    const slow = bootsOf(slowGate, 'candidate', 0);
    const gate = configSchema.parse(BUILTIN_CONFIG).gate;
    const run = slowGate.run;

    console.log(`between and within boots, over the ${clean.length} clean boots (sd as % of the mean; ICC = between / (between + within)):`);
    for (const [id, s] of collectSeries(clean.flat())) {
      const v = bootVariance(s.values, s.boots as number[]);
      const m = s.values.reduce((a, b) => a + b, 0) / s.values.length;
      const ignored = ignoreRuleFor(gate, s.key) ? '  (ignored by the lab gate)' : '';
      console.log(`  between ${pct(Math.sqrt(v.between) / m).padStart(6)}  within ${pct(Math.sqrt(v.within) / m).padStart(6)}  ICC ${v.icc.toFixed(2)}  ${id}${ignored}`);
    }

    const aa = splitTrials(run, clean.flat(), gate, { trials: TRIALS, perSide: BOOTS, seed: 20261205 });
    console.log(`A/A: ${TRIALS} draws of ${BOOTS} against ${BOOTS} of the ${clean.length} clean boots: the gate failed ${pct(aa.gateRate)}`);
    for (const [id, rate] of aa.seriesRates) console.log(`  flagged ${pct(rate).padStart(6)}  ${id}`);

    const random = seededRandom(20261206);
    for (const perBoot of [PER_BOOT, 1]) {
      const take = (units: TestResult[][]) => units.map((u) => u.slice(0, perBoot)).flat();
      let caught = 0;
      const hits = new Map<string, number>();
      for (let trial = 0; trial < TRIALS; trial++) {
        const base = take(shuffle(clean, random).slice(0, BOOTS));
        const c = compareRuns([{ ...run, tests: base }], [{ ...run, tests: take(slow) }], { gate: { ...gate, seed: gate.seed + trial }, intervals: false, aa: true });
        if (c.regressed) caught++;
        for (const v of c.flagged) hits.set(v.id, (hits.get(v.id) ?? 0) + 1);
      }
      console.log(`slow-wrlock=10: ${TRIALS} draws of ${BOOTS} clean boots against the ${slow.length} slow ones, ${perBoot} test(s) a boot: REGRESSED ${pct(caught / TRIALS)}`);
      for (const [id, n] of hits) console.log(`  flagged ${pct(n / TRIALS).padStart(6)}  ${id}`);
    }
  } finally {
    if (!from) {
      execFileSync(join(LAB_BIN, 'lab-host-reset'), { env });
      if (process.env.BENCH_KEEP) console.log(`kept: ${out} (BENCH_GATE_BOOTS_FROM=${out} reads it again)`);
      else rmSync(out, { recursive: true, force: true });
    }
    rmSync(root, { recursive: true, force: true });
  }
}
