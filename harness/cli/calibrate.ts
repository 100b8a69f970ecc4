// bhyve-smoke calibrate: the gate against this host's own noise, A against A.
// Either runs the suites (one build, many repeats) or reads earlier results
// (--from), then reports per series the noise, the change the gate could
// detect, and the false-positive rate of random A/A splits at the configured
// thresholds — so thresholds and ignore lists are chosen from data.
import { join, resolve } from 'node:path';
import { loadConfig } from '../config/load.ts';
import { ConfigError, EXIT } from '../errors.ts';
import { readResults } from '../report/read-results.ts';
import { writeFileAtomic, type RunResult } from '../report/results.ts';
import { pinningNoise, seriesNoise, splitTrials, unitsOf } from '../verdict/calibrate.ts';
import { ignoreRuleFor } from '../verdict/compare.ts';
import type { Command } from './command.ts';
import { CONFIG_OPTION, intOption } from './context.ts';
import { gateWithOptions, GATE_OPTIONS } from './gate-options.ts';
import { runCommand } from './run.ts';
import { gateCommand } from './gate.ts';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export const calibrateCommand: Command = {
  name: 'calibrate',
  summary: 'A against A: per series the noise and the false-positive rate at the gate thresholds',
  usage: 'bhyve-smoke calibrate [SUITE...] [--from RESULTS] [options]',
  options: {
    config: CONFIG_OPTION,
    from: { type: 'string', help: 'results.json (file or folder) of repeated runs of one build: calibrate without running' },
    host: { type: 'string', help: 'run on this configured host or pool (with --be: one configured host)' },
    guest: { type: 'string', help: 'only this configured guest' },
    profile: { type: 'string', help: 'a profile from the config for the tests calibrate runs, as run takes it: its thresholds, stress, timeouts and retries (not its repeatEach: --repeat-each, or --runs-per-boot with --be)' },
    'repeat-each': { type: 'string', help: 'runs per test to collect (default 40: two sides of 20)' },
    'per-side': { type: 'string', help: 'tests on each side of a split, or boots where the tests ran in boots (default: half of them, at most 20)' },
    trials: { type: 'string', help: 'random A/A splits (default 1000)' },
    output: { type: 'string', help: 'report folder: the run\'s reports and calibration.json (default: reports/calibrate)' },
    be: { type: 'string', help: 'calibrate across reboots: boot this boot environment of --host again and again (--boots, --runs-per-boot), splitting by boot' },
    boots: { type: 'string', help: 'with --be: boots in all, at least 4, half a side (default 12; an odd number boots one fewer)' },
    'runs-per-boot': { type: 'string', help: 'with --be: tests of each suite in every boot (default 3)' },
    significance: GATE_OPTIONS.significance,
    'noise-threshold': GATE_OPTIONS['noise-threshold'],
    seed: { type: 'string', help: 'seed of the random splits and of each split\'s permutation test (default: gate.seed)' },
  },
  async run(values, positionals) {
    const output = resolve(String(values.output ?? 'reports/calibrate'));
    const trials = intOption(values.trials as string | undefined, '--trials', 10) ?? 1000;
    const given = (...names: string[]) => names.filter((n) => values[n] !== undefined).map((n) => `--${n}`);
    let runs: RunResult[];
    if (values.from !== undefined) {
      if (positionals.length || values.be !== undefined) throw new ConfigError('calibrate: give suites to run, or --from earlier results, not both');
      const runOnly = given('host', 'guest', 'profile', 'repeat-each', 'boots', 'runs-per-boot');
      if (runOnly.length) throw new ConfigError(`calibrate: ${runOnly.join(', ')} choose${runOnly.length === 1 ? 's' : ''} the tests calibrate runs; --from reads earlier results`);
      runs = readResults([String(values.from)]);
    } else if (values.be !== undefined) {
      if (values['repeat-each'] !== undefined) throw new ConfigError('calibrate: with --be, --runs-per-boot says how many tests every boot runs, not --repeat-each');
      // One boot environment against itself across reboots: the gate's own boot cycle, as an A/A.
      const boots = intOption(values.boots as string | undefined, '--boots', 4) ?? 12;
      const args = { config: values.config, host: values.host, guest: values.guest, profile: values.profile, 'baseline-be': values.be, 'candidate-be': values.be, aa: true, boots: String(Math.max(2, Math.floor(boots / 2))), 'runs-per-boot': values['runs-per-boot'], output };
      const code = await gateCommand.run(args, positionals);
      if (code === EXIT.usage || code === EXIT.infra || code >= 128) return code;
      runs = readResults([output]);
    } else {
      const beOnly = given('boots', 'runs-per-boot');
      if (beOnly.length) throw new ConfigError(`calibrate: ${beOnly.join(' and ')} ${beOnly.length === 1 ? 'goes' : 'go'} with --be (calibrating across reboots)`);
      const repeat = intOption(values['repeat-each'] as string | undefined, '--repeat-each', 4) ?? 40;
      // The profile applies as on run; --repeat-each (given, or calibrate's 40) outranks its repeatEach, as a command line does.
      const args = { config: values.config, host: values.host, guest: values.guest, profile: values.profile, 'repeat-each': String(repeat), output };
      const code = await runCommand.run(args, positionals);
      if (code === EXIT.usage) return code;
      runs = readResults([output]);
    }
    const { config } = await loadConfig(values.config as string | undefined);
    const gate = gateWithOptions(config.gate, values);
    const measured = runs.flatMap((r) => r.tests).filter((t) => t.metrics?.length);
    // Tests with pinned vCPUs and without: their noise side by side, and the gate's calibration on the pinned ones.
    const pinning = pinningNoise(measured);
    const tests = pinning ? measured.filter((t) => t.vcpusPinned) : measured;
    // Tests of a gate across boots are split by boot, the gate's unit.
    const units = unitsOf(tests);
    const unit = units.length < tests.length ? 'boots' : 'tests';
    if (units.length < 4) throw new ConfigError(`calibrate: ${units.length} ${unit} with metrics; A/A splits need at least 4 (${unit === 'boots' ? 'boot more' : 'repeat each test more'})`);
    const perSide = intOption(values['per-side'] as string | undefined, '--per-side', 2) ?? Math.min(20, Math.floor(units.length / 2));
    if (2 * perSide > units.length) throw new ConfigError(`--per-side ${perSide}: only ${units.length} ${unit}, at most ${Math.floor(units.length / 2)} a side`);
    const noise = seriesNoise(tests, gate, perSide);
    const split = splitTrials(runs[0], tests, gate, { trials, perSide, seed: gate.seed });

    const cv = (x?: number) => (x === undefined ? '–' : pct(x)).padStart(11);
    const lines = [
      ...(pinning ? [
        `noise with and without pinned vCPUs: ${pinning.unpinned} tests unpinned, ${pinning.pinned} pinned (${pinning.as.join('; ')})`,
        `${'series'.padEnd(64)} ${'CV unpinned'.padStart(11)} ${'CV pinned'.padStart(11)}`,
        ...pinning.series.map((s) => `${s.id.padEnd(64)} ${cv(s.unpinned)} ${cv(s.pinned)}`),
        '',
      ] : []),
      `calibration: ${tests.length}${pinning ? ' pinned' : ''} tests ${unit === 'boots' ? `in ${units.length} boots ` : ''}of one build, ${trials} random A/A splits of ${perSide} against ${perSide} ${unit}`,
      `gate: p < ${gate.significance}${gate.familyWise === 'holm' ? ' over all tested series (Holm)' : ' per series'}, worse by > ${pct(gate.noiseThreshold)} (per-metric overrides apply)`,
      '',
      `${'series'.padEnd(64)} ${'n'.padStart(3)} ${'mean'.padStart(10)} ${'CV'.padStart(6)} ${'detects'.padStart(8)} ${'false+'.padStart(7)}`,
      ...noise.map((s) => `${s.id.padEnd(64)} ${String(s.n).padStart(3)} ${s.mean.toPrecision(4).padStart(10)} ${pct(s.cv).padStart(6)} ${pct(s.detectable).padStart(8)} ${pct(split.seriesRates.get(s.id) ?? 0).padStart(7)}${s.boots ? `  between boots ${Number.isNaN(s.boots.icc) ? '?' : pct(s.boots.icc)} of the variance` : ''}${ignoreRuleFor(gate, s.key) ? '  (ignored)' : ''}`),
      '',
      `the gate failed ${pct(split.gateRate)} of the A/A splits${split.gateRate > gate.significance ? ` — above ${pct(gate.significance)}: raise noise thresholds or ignore the noisiest series (gate.overrides, gate.ignore)` : ''}`,
      `"detects": the drop one series alone would show 95% of the time at p < ${gate.significance} with this n (normal approximation; Holm's first step is stricter); "false+": share of A/A splits in which the gate flagged the series.`,
      ...(unit === 'boots' ? [`between boots: the share of a series' variance that lies between boots (ICC). Near 0 for every series, boots do not matter here and the gate may take every test as a sample (gate.bootUnit: test); otherwise it keeps a boot's mean as its sample (the default).`] : []),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    const path = join(output, 'calibration.json');
    writeFileAtomic(path, `${JSON.stringify({ version: 1, tests: tests.length, perSide, trials, gate, gateFalsePositiveRate: split.gateRate, series: noise.map((s) => ({ ...s, falsePositiveRate: split.seriesRates.get(s.id) ?? 0 })), ...(pinning ? { pinning } : {}) }, null, 2)}\n`);
    process.stdout.write(`reports: ${path}\n`);
    return EXIT.passed;
  },
};
