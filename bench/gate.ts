// The gate's power and false alarms, from recorded lab samples (not a timed
// test): the tests of fixtures/recorded (one A/A population of wrlock-iperf
// runs on the lab, see SOURCES.md there) are split at random into a 20-test
// baseline and a 20-test candidate, 1000 times, and each split goes through the
// gate's comparison with the built-in config's gate section. A/A splits give
// the false-positive rate; the same splits with a drop injected into the
// candidate give the detection rate. Whole runs are resampled, never
// intervals: the run is the unit of noise (docs/noise.md).
import { BUILTIN_CONFIG } from '../harness/config/defaults.ts';
import { configSchema } from '../harness/config/schema.ts';
import { readResultsFile } from '../harness/report/read-results.ts';
import { seriesNoise, splitTrials, type InjectedDrop } from '../harness/verdict/calibrate.ts';
import { ignoreRuleFor } from '../harness/verdict/compare.ts';

export const GATE_SAMPLES = new URL('../fixtures/recorded/lab-wrlock-iperf.results.json', import.meta.url).pathname;
const TRIALS = 1000;
const PER_SIDE = 20;
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Where a lock regression shows: the dosed phases' throughput, and so their ratio to unstressed. */
const dosedThroughput = (fraction: number): InjectedDrop => ({
  fraction,
  applies: (metric, dims) => (metric === 'throughput' || metric === 'throughput-ratio') && (dims.dose === 'light' || dims.dose === 'hard'),
});

export async function benchGate(): Promise<void> {
  const run = readResultsFile(GATE_SAMPLES);
  const tests = run.tests.filter((t) => t.metrics?.length);
  if (tests.length < 2 * PER_SIDE) throw new Error(`${GATE_SAMPLES}: ${tests.length} tests with metrics, need ${2 * PER_SIDE}`);
  const gate = configSchema.parse(BUILTIN_CONFIG).gate;
  console.log(`samples: ${tests.length} wrlock-iperf tests on the lab (fixtures/recorded/lab-wrlock-iperf.results.json)`);
  for (const s of seriesNoise(tests, gate, PER_SIDE)) {
    const ignored = ignoreRuleFor(gate, s.key);
    console.log(`  between-run CV ${pct(s.cv).padStart(6)}  95% detectable ${pct(s.detectable).padStart(6)}  ${s.id}${ignored ? `  (ignored: ${ignored.reason})` : ''}`);
  }
  console.log(`gate: one-sided permutation p < ${gate.significance}${gate.familyWise === 'holm' ? ' over all tested series (Holm)' : ' per series'} (${gate.resamples} resamples) and worse by > ${pct(gate.noiseThreshold)}; ${TRIALS} random ${PER_SIDE}/${PER_SIDE} splits`);
  for (const fraction of [0, 0.05, 0.1]) {
    const started = Date.now();
    const r = splitTrials(run, tests, gate, { trials: TRIALS, perSide: PER_SIDE, seed: 20261125, ...(fraction ? { drop: dosedThroughput(fraction) } : {}) });
    const what = fraction === 0 ? 'A/A: false positives' : `${pct(fraction)} drop in the dosed phases: detection`;
    console.log(`${what} — the gate failed ${pct(r.gateRate)} of ${TRIALS} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    for (const s of seriesNoise(tests, gate, PER_SIDE)) {
      if (!ignoreRuleFor(gate, s.key) && (fraction === 0 || dosedThroughput(fraction).applies(s.key.metric, s.key))) console.log(`  flagged ${pct(r.seriesRates.get(s.id) ?? 0).padStart(6)}  ${s.id}`);
    }
  }
}
