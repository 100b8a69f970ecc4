// bhyve-smoke history over stores made from the recorded lab runs: a recent
// regression turns it red and names the first run after it, a clean history
// passes, a damaged file is said and skipped, runs order by a label, the
// JUnit validates, the CSV has Otava's layout; the gate's baseline from a
// store skips runs from before a change point, and compare warns of one.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { validateXML } from 'xmllint-wasm';
import { baselineFromHistory } from '../../../harness/cli/history.ts';
import { writeResults } from '../../../harness/report/results.ts';
import { inSandbox } from '../../helpers/cli.ts';
import { nightlyRuns, recordedNights, writeNightlyStore } from '../../helpers/history-store.ts';
import { addToHistory } from '../../../harness/history/store.ts';

const HARD = 'wrlock-iperf · linux · throughput · hard · host-to-guest · lab';

describe('bhyve-smoke history', () => {
  it('goes red on a recent regression, names the first run after it, and reads back what it wrote', async () => {
    await inSandbox(async (box) => {
      writeNightlyStore(join(box.dir, 'store'), { from: 34, drop: 0.25 });
      writeFileSync(join(box.dir, 'store', 'damaged.json'), '{"version": 1, "runId": ');
      const r = await box.run(['history', 'store', '--recent', '6', '--csv', 'series.csv', '--output', 'out']);
      assert.equal(r.exitCode, 1, `${r.stdout}${r.stderr}`);
      assert.match(String(r.stdout), new RegExp(`${HARD} +\\(40 runs\\)\\n +REGRESSION +[\\d.]+ → [\\d.]+ Mbit/s \\(-2\\d\\.\\d%\\), p=[<\\d.]+, from run night34 \\(2026-02-04, build=134\\)`));
      assert.match(String(r.stdout), /verdict: FAIL — \d series regressed within the last 6 runs/);
      assert.match(String(r.stderr), /skipped .*store\/damaged\.json: not a readable results\.json/);
      const h = JSON.parse(readFileSync(join(box.dir, 'out/history.json'), 'utf8'));
      assert.equal(h.runs.length, 40);
      const hard = h.series.find((s: { id: string }) => s.id === HARD);
      assert.deepEqual(hard.changePoints.map((c: { run: { runId: string }; regression: boolean }) => [c.run.runId, c.regression]), [['night34', true]]);
      const xml = readFileSync(join(box.dir, 'out/history.junit.xml'), 'utf8');
      const v = await validateXML({ xml: [{ fileName: 'history.junit.xml', contents: xml }], schema: [{ fileName: 'junit.xsd', contents: readFileSync(resolve(import.meta.dirname, '../../../fixtures/junit/bhyve-smoke.xsd'), 'utf8') }] });
      assert.equal(v.valid, true, v.rawOutput);
      assert.match(xml, /<failure message="regressed within the last 6 runs: [^"]+from run night34/);
      const [header, first] = readFileSync(join(box.dir, 'series.csv'), 'utf8').split('\n');
      assert.match(header, /^time,run,build,wrlock-iperf\.linux\.boot-time\.lab,/);
      assert.match(first, /^2026-01-01T02:00:00\.000Z,night00,100,\d+/);
      // The same store, the drop long ago: no regression among the last 5 runs.
      const old = await box.run(['history', 'store', '--output', 'out2']);
      assert.equal(old.exitCode, 0, `${old.stdout}${old.stderr}`);
      assert.match(String(old.stdout), /verdict: pass — no regression within the last 5 runs/);
    });
  });

  it('finds the real step in recorded lab nights: slow-wrlock switched on at night 16', async () => {
    await inSandbox(async (box) => {
      for (const run of recordedNights()) addToHistory(join(box.dir, 'store'), run);
      const r = await box.run(['history', 'store', '--recent', '15', '--output', 'out']);
      assert.equal(r.exitCode, 1, `${r.stdout}${r.stderr}`);
      const h = JSON.parse(readFileSync(join(box.dir, 'out/history.json'), 'utf8'));
      const at = (id: string) => h.series.find((s: { id: string }) => s.id === `wrlock-iperf · linux · ${id} · lab`).changePoints.map((c: { run: { runId: string }; regression: boolean }) => [c.run.runId, c.regression]);
      assert.deepEqual(at('throughput · hard · host-to-guest'), [['rec15', true]]);
      assert.deepEqual(at('throughput-ratio · hard · host-to-guest'), [['rec15', true]]);
      assert.deepEqual(at('wrlock-cycle-p50'), [['rec15', true]]);
      for (const quiet of ['boot-time', 'throughput · unstressed · host-to-guest', 'throughput · recovery · host-to-guest']) assert.deepEqual(at(quiet), [], quiet);
    });
  });

  it('passes a clean history, and refuses bad input with exit 2', async () => {
    await inSandbox(async (box) => {
      writeNightlyStore(join(box.dir, 'store'));
      const r = await box.run(['history', 'store', '--output', 'out']);
      assert.equal(r.exitCode, 0, `${r.stdout}${r.stderr}`);
      assert.match(String(r.stdout), /^40 runs, 9 series; [^\n]*\nno change point in any series\nverdict: pass/);
      for (const [args, message] of [
        [['history'], /history: name the store/],
        [['history', 'nowhere'], /history: nowhere: no such file or folder/],
        [['history', 'store', '--p-value', '2'], /--p-value: expected a fraction between 0 and 1, got "2"/],
        [['history', 'store', '--min-segment', '1'], /--min-segment: expected a whole number >= 2, got "1"/],
        [['run', 'smoke', '--label', 'nokey'], /--label: expected KEY=VALUE\[,KEY=VALUE\], got "nokey"/],
        [['run', 'smoke', '--last', '3'], /--last counts the runs of --baseline-from/],
      ] as Array<[string[], RegExp]>) {
        const bad = await box.run(args);
        assert.equal(bad.exitCode, 2, `${args.join(' ')}: ${bad.stdout}${bad.stderr}`);
        assert.match(String(bad.stderr), message, args.join(' '));
      }
    });
  });

  it('orders runs by a label as numbers (build 9 before build 10), and says which runs have no such label', async () => {
    await inSandbox(async (box) => {
      // Build numbers running backwards against the dates, from 139 down to 100; the drop is in the last 6 builds by number.
      const runs = nightlyRuns({ from: 34, drop: 0.25, label: (i) => String(139 - i) });
      runs.forEach((run, i) => writeResults(join(box.dir, 'artifacts', `build-${i}`, 'results.json'), run));
      const unlabelled = { ...runs[0], runId: 'nolabel', labels: undefined };
      writeResults(join(box.dir, 'artifacts', 'other', 'results.json'), unlabelled);
      writeResults(join(box.dir, 'artifacts', 'zz-again', 'results.json'), runs[0]);
      const byStart = await box.run(['history', 'artifacts', '--recent', '6', '--output', 'a']);
      assert.equal(byStart.exitCode, 1, 'by date the drop is recent');
      const byBuild = await box.run(['history', 'artifacts', '--order-by', 'build', '--recent', '6', '--output', 'b']);
      assert.equal(byBuild.exitCode, 0, `by build number the drop came first:\n${byBuild.stdout}`);
      assert.match(String(byBuild.stdout), /improvement +[\d.]+ → [\d.]+ Mbit\/s \(\+\d+\.\d%\), p=[<\d.]+, from run night33 \(2026-02-03, build=106\)/);
      assert.match(String(byBuild.stderr), /skipped .*other\/results\.json: run nolabel has no label build/);
      assert.match(String(byStart.stderr), /skipped .*zz-again\/results\.json: run night00 is already in the history/, 'one run counted once');
    });
  });

  it('marks where the build changed and names the builds on each side of a change point; a baseline from history is the newest build\'s runs', async () => {
    await inSandbox(async (box) => {
      const build = (i: number) => (i < 20 ? 'omnios-r151054-a1 · vmm 0123456789ab' : 'omnios-r151054-b2 · vmm fedcba987654');
      writeNightlyStore(join(box.dir, 'store'), { from: 20, drop: 0.3, build });
      const r = await box.run(['history', 'store', '--recent', '25', '--output', 'out']);
      assert.equal(r.exitCode, 1, `${r.stdout}${r.stderr}`);
      assert.match(String(r.stdout), new RegExp(`${HARD} +\\(40 runs\\)\\n +REGRESSION +[\\d.]+ → [\\d.]+ Mbit/s \\(-[23]\\d\\.\\d%\\), p=[<\\d.]+, from run night20 \\(2026-01-21, build=120\\); build omnios-r151054-a1 · vmm 0123456789ab → omnios-r151054-b2 · vmm fedcba987654`));
      assert.match(String(r.stdout), /^build changed on lab at run night20 \(2026-01-21, build=120\): omnios-r151054-a1 · vmm 0123456789ab → omnios-r151054-b2 · vmm fedcba987654$/m);
      const h = JSON.parse(readFileSync(join(box.dir, 'out/history.json'), 'utf8'));
      const hard = h.series.find((s: { id: string }) => s.id === HARD);
      assert.deepEqual(hard.buildChanges.map((b: { run: { runId: string } }) => b.run.runId), ['night20']);
      assert.deepEqual(hard.changePoints[0].builds, { before: build(19), after: build(20) });
      // A baseline from the store is one build: the runs since it changed.
      assert.deepEqual(baselineFromHistory(join(box.dir, 'store'), 30).map((x) => x.runId), Array.from({ length: 20 }, (_, i) => `night${20 + i}`));
    });
  });

  it('takes the gate\'s baseline from the runs since the latest change point, and compare warns of an older one', async () => {
    await inSandbox(async (box) => {
      const store = join(box.dir, 'store');
      writeNightlyStore(store, { from: 30, drop: 0.25 });
      const picked = baselineFromHistory(store, 20);
      assert.deepEqual(picked.map((r) => r.runId), Array.from({ length: 10 }, (_, i) => `night${30 + i}`), 'only the 10 runs since the drop');
      assert.equal(baselineFromHistory(store, 4).length, 4);
      const runs = nightlyRuns({ from: 30, drop: 0.25 });
      writeResults(join(box.dir, 'old', 'results.json'), { ...runs[5], tests: runs.slice(0, 20).flatMap((r) => r.tests).map((t, i) => ({ ...t, id: `${t.id}#${i}`, repeat: i })) });
      writeResults(join(box.dir, 'new', 'results.json'), { ...runs[39], tests: runs.slice(20).flatMap((r) => r.tests).map((t, i) => ({ ...t, id: `${t.id}#${i}`, repeat: i })) });
      const r = await box.run(['compare', 'old', 'new', '--history', 'store', '--output', 'cmp']);
      assert.match(String(r.stdout), /warning: the baseline \(newest run 2026-01-06T02:00:00\.000Z\) is older than the latest change point of wrlock-iperf · linux · throughput · hard · host-to-guest · lab: -2\d\.\d% from run night30/);
    });
  });
});
