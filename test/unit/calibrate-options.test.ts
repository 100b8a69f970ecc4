// calibrate's options reach the commands it runs: --profile goes to run (and to
// gate with --be) as run takes it, --repeat-each (given or calibrate's 40)
// outranks the profile's repeatEach; options that choose tests to run are
// refused with --from, and --be's options without --be. run and gate are
// stubbed: each writes recorded results where calibrate reads them.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { calibrateCommand } from '../../harness/cli/calibrate.ts';
import { gateCommand } from '../../harness/cli/gate.ts';
import { runCommand } from '../../harness/cli/run.ts';

const RECORDED = resolve(import.meta.dirname, '../../fixtures/recorded/lab-wrlock-iperf.results.json');
const dir = mkdtempSync(join(tmpdir(), 'bsm-calibrate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Values = Record<string, string | boolean | undefined>;
const original = { run: runCommand.run, gate: gateCommand.run };
afterEach(() => {
  runCommand.run = original.run;
  gateCommand.run = original.gate;
});

/** Stubs `command.run`: it records what it was given and leaves recorded results in its --output. */
function stub(command: typeof runCommand): Array<{ values: Values; positionals: string[] }> {
  const calls: Array<{ values: Values; positionals: string[] }> = [];
  command.run = async (values, positionals) => {
    calls.push({ values, positionals });
    mkdirSync(String(values.output), { recursive: true });
    copyFileSync(RECORDED, join(String(values.output), 'results.json'));
    return 0;
  };
  return calls;
}

/** calibrate with its printing kept out of the test's output. */
async function calibrate(values: Values, positionals: string[] = []): Promise<number> {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await calibrateCommand.run({ trials: '10', ...values }, positionals);
  } finally {
    process.stdout.write = write;
  }
}

describe('calibrate options', () => {
  it('passes --profile to the run it makes, with its own --repeat-each', async () => {
    const calls = stub(runCommand);
    assert.equal(await calibrate({ profile: 'quick', output: join(dir, 'a') }, ['wrlock-iperf']), 0);
    assert.equal(calls.length, 1);
    assert.equal(calls[0].values.profile, 'quick');
    assert.equal(calls[0].values['repeat-each'], '40', "calibrate's default, over the profile's repeatEach");
    assert.deepEqual(calls[0].positionals, ['wrlock-iperf']);
    await calibrate({ profile: 'gate', 'repeat-each': '8', output: join(dir, 'b') });
    assert.equal(calls[1].values.profile, 'gate');
    assert.equal(calls[1].values['repeat-each'], '8');
    await calibrate({ output: join(dir, 'c') });
    assert.equal(calls[2].values.profile, undefined, 'no --profile, none passed on');
  });

  it('passes --profile to the gate across reboots of --be', async () => {
    const calls = stub(gateCommand);
    assert.equal(await calibrate({ be: 'base', host: 'lab', profile: 'quick', boots: '6', 'runs-per-boot': '2', output: join(dir, 'd') }), 0);
    assert.equal(calls.length, 1);
    assert.equal(calls[0].values.profile, 'quick');
    assert.equal(calls[0].values['baseline-be'], 'base');
    assert.equal(calls[0].values['candidate-be'], 'base');
    assert.equal(calls[0].values.aa, true);
    assert.equal(calls[0].values.boots, '3', 'boots in all, half a side');
    assert.equal(calls[0].values['runs-per-boot'], '2');
  });

  it('refuses options that choose tests with --from, and --be\'s options without --be', async () => {
    const calls = [...stub(runCommand), ...stub(gateCommand)];
    await assert.rejects(calibrate({ from: RECORDED, profile: 'quick' }), /calibrate: --profile chooses the tests calibrate runs; --from reads earlier results/);
    await assert.rejects(calibrate({ from: RECORDED, host: 'lab', 'repeat-each': '8' }), /calibrate: --host, --repeat-each choose the tests calibrate runs/);
    await assert.rejects(calibrate({ from: RECORDED }, ['smoke']), /give suites to run, or --from earlier results, not both/);
    await assert.rejects(calibrate({ boots: '6' }), /calibrate: --boots goes with --be \(calibrating across reboots\)/);
    await assert.rejects(calibrate({ be: 'base', host: 'lab', 'repeat-each': '8' }), /with --be, --runs-per-boot says how many tests every boot runs, not --repeat-each/);
    assert.equal(calls.length, 0);
    assert.equal(await calibrate({ from: RECORDED, output: join(dir, 'e') }), 0, '--from alone still calibrates');
  });

  it('offers no --aa: calibration is A against A already', () => {
    assert.equal('aa' in calibrateCommand.options, false);
    assert.ok(calibrateCommand.options.profile);
  });
});
