// docs/examples/ci, run as written (test/helpers/ci-emulators.ts): the nightly
// of each CI system on the lab, with its shards, merge and history, through
// that system's own ways of carrying files — and a night that loses a shard,
// which still makes its report, names the shard and goes red.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { CI_EXAMPLES, ciWorld, runGithubWorkflow, runGitlabPipeline, runJenkinsPipeline, stepOutput, type CiWorld } from '../../helpers/ci-emulators.ts';
import { labRunRoot } from '../../helpers/lab.ts';

async function withWorld(body: (world: CiWorld) => Promise<void>) {
  const root = mkdtempSync(join(tmpdir(), 'bsm-ci-'));
  const lab = labRunRoot();
  try {
    await body(ciWorld(root, { ...lab.env, BHYVE_SMOKE_STATE: join(root, 'state'), CI: '1' }));
  } finally {
    lab.cleanup();
    rmSync(root, { recursive: true, force: true });
  }
}

const only = (steps: ReturnType<typeof stepOutput>) => {
  assert.equal(steps.length, 1, JSON.stringify(steps.map((s) => s.step)));
  return steps[0];
};
/** The merged report a night's missing shard leaves: the shard an error test of its own. */
const assertMissingShardInJunit = (junit: string, shard = 2) =>
  assert.match(readFileSync(junit, 'utf8'), new RegExp(`<testcase classname="merge\\.all/shard-${shard}-of-2" name="shard ${shard}/2 arrived" time="0">\\s*<error message="shard ${shard}/2 missing`));

describe('the CI examples, as written, on the lab', { timeout: 900_000 }, () => {
  it('GitHub Actions: GitHub\'s own parser takes the workflow; night 1 is green, night 2 is balanced by night 1\'s durations from the cache and loses a shard: named, red, its history still drawn', async () => {
    const file = join(CI_EXAMPLES, 'github-nightly.yml');
    const parsed = parseWorkflow({ name: file, content: readFileSync(file, 'utf8') }, new NoOperationTraceWriter());
    assert.deepEqual(parsed.context.errors.getErrors().map((e) => e.message), []);

    await withWorld(async (world) => {
      const night1 = await runGithubWorkflow(world, file, { runId: 101, runNumber: 1 });
      assert.deepEqual(Object.fromEntries(night1), { smoke: [true, true], report: [true] }, world.log.map((s) => `${s.job} ${s.step} → ${s.exitCode}\n${s.output}`).join('\n'));
      for (const shard of stepOutput(world, 'smoke', /^npx bhyve-smoke run /)) assert.match(shard.output, /^shard \d\/2: \d of the plan's 5 tests, each test weighing the same/m);
      assert.match(only(stepOutput(world, 'report', /^npx bhyve-smoke merge /)).output, /^merged 2 result file\(s\), 5 tests: 5 passed, 0 failed/m);
      assert.ok(existsSync(join(world.root, 'cache/nightly-results-main-101/last/results.json')), 'night 1 leaves its results to night 2');

      world.log.length = 0;
      const night2 = await runGithubWorkflow(world, file, { runId: 102, runNumber: 2, lost: (job, cell) => job === 'smoke' && cell.shard === 2 });
      assert.deepEqual(Object.fromEntries(night2), { smoke: [true, false], report: [false] });
      assert.match(only(stepOutput(world, 'smoke', /^npx bhyve-smoke run /)).output, /^shard 1\/2: \d of the plan's 5 tests, balanced by the durations of 5 tests in last$/m);
      const merge = only(stepOutput(world, 'report', /^npx bhyve-smoke merge /));
      assert.equal(merge.exitCode, 3, merge.output);
      assert.match(merge.output, /^MISSING shard 2\/2: no results\.json of it among the inputs/m);
      const history = only(stepOutput(world, 'report', /^npx bhyve-smoke history /));
      assert.equal(history.exitCode, 0, history.output);
      assert.match(history.output, /^2 runs, \d+ series;/m, 'both nights are in the store the cache carried');
      assertMissingShardInJunit(join(world.root, 'artifacts/102/nightly-report/junit.xml'));
    });
  });

  it('GitLab CI: a night whose first parallel job is lost: the report job merges what came, names the shard, draws the history, keeps its artifacts and fails', async () => {
    await withWorld(async (world) => {
      const jobs = await runGitlabPipeline(world, join(CI_EXAMPLES, 'gitlab-ci.yml'), { iid: 7, lost: (job, index) => job === 'nightly' && index === 1 });
      assert.deepEqual(Object.fromEntries(jobs), { nightly: [false, true], report: [false] }, world.log.map((s) => `${s.job} → ${s.exitCode}\n${s.output}`).join('\n'));
      const report = only(stepOutput(world, 'report', /bhyve-smoke merge /));
      assert.equal(report.exitCode, 3, report.output);
      assert.match(report.output, /^MISSING shard 1\/2/m);
      assert.match(report.output, /^1 runs, \d+ series;/m, 'the history is drawn after the failed merge');
      assertMissingShardInJunit(join(world.root, 'artifacts/7/report-1/merged/junit.xml'), 1);
      assert.ok(existsSync(join(world.root, 'cache/bhyve-smoke-history-main/history')), 'the store is cached for the next night');
    });
  });

  it('Jenkins: a night whose first shard\'s agent died: the report stage unstashes what came, merges it naming the shard, and its post always draws the history and publishes JUnit', async () => {
    await withWorld(async (world) => {
      const stages = await runJenkinsPipeline(world, join(CI_EXAMPLES, 'Jenkinsfile'), { number: 12, lost: (stage) => stage === 'shard 1' });
      assert.deepEqual(Object.fromEntries(stages), { 'shard 1': false, 'shard 2': true, report: false }, world.log.map((s) => `${s.job} ${s.step} → ${s.exitCode}\n${s.output}`).join('\n'));
      assert.equal(only(stepOutput(world, 'report', /^unstash shard-1$/)).output, "No such saved stash 'shard-1'");
      const merge = only(stepOutput(world, 'report', /bhyve-smoke merge /));
      assert.equal(merge.exitCode, 3, merge.output);
      assert.match(merge.output, /^MISSING shard 1\/2/m);
      assert.equal(only(stepOutput(world, 'report', /bhyve-smoke history /)).exitCode, 0);
      assert.ok(existsSync(join(world.root, 'home/bhyve-smoke-history')), 'the store on the report agent');
    });
  });
});
