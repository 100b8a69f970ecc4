// The JUnit read by consumers that install here: xmllint against the real
// schemas (Debian libxml2-utils), Python's junitparser (Debian
// python3-junitparser) and xunit-viewer's own parser (npm). Each must count
// right, and show every failure's measured value and threshold and every
// skip's reason. The consumers that cannot run here (Jenkins, GitLab, the
// GitHub reporters) are held in test/unit/junit.test.ts to what their source
// reads (docs/junit.md).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
// xunit-viewer's parser, the one its page and terminal view are drawn from.
import parseXunit from 'xunit-viewer/src/cli/parse.js';
import { buildJunit } from '../../harness/report/junit.ts';
import type { RunResult } from '../../harness/report/results.ts';
import { FAILING_RUN, merged40 } from '../helpers/junit-runs.ts';

const SCHEMAS = resolve(import.meta.dirname, '../../fixtures/junit');
const dir = mkdtempSync(join(tmpdir(), 'bsm-junit-'));

/** What every consumer must count: a test per check, or one per test that has none. */
function expected(run: RunResult) {
  const counts = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  for (const t of run.tests) {
    const statuses = t.checks.map((c) => c.status);
    if (t.status === 'skipped' && !statuses.length) statuses.push('skipped');
    if (t.error && !statuses.some((s) => s === 'failed' || s === 'error')) statuses.push(t.status === 'failed' ? 'failed' : 'error');
    if (!statuses.length) statuses.push('passed');
    counts.tests += statuses.length;
    counts.failures += statuses.filter((s) => s === 'failed').length;
    counts.errors += statuses.filter((s) => s === 'error').length;
    counts.skipped += statuses.filter((s) => s === 'skipped').length;
  }
  return counts;
}

const CASES = [
  { name: 'a failing run (failures, errors, skips, a hang, a flaky pass, a known issue, hostile console text)', run: FAILING_RUN },
  { name: 'the recorded 40 wrlock-iperf runs, merged', run: merged40() },
];
const FORMS = ['default', 'strict'] as const;

const written = (run: RunResult, form: (typeof FORMS)[number]) => {
  const file = join(dir, `${run.runId.slice(0, 12)}-${form}.xml`);
  writeFileSync(file, buildJunit(run, { form, attachmentsBase: '/ci/job' }));
  return file;
};

/** Python junitparser's view: totals and, per case, its result's message, type and text. */
function junitparser(file: string) {
  const script = `
import json, sys
from junitparser import JUnitXml, Failure, Error, Skipped
xml = JUnitXml.fromfile(sys.argv[1])
cases = []
for suite in xml:
    for case in suite:
        r = case.result[0] if case.result else None
        kind = 'failure' if isinstance(r, Failure) else 'error' if isinstance(r, Error) else 'skipped' if isinstance(r, Skipped) else 'passed'
        cases.append({'classname': case.classname, 'name': case.name, 'time': case.time, 'kind': kind,
                      'message': r.message if r is not None else None, 'text': r.text if r is not None else None})
print(json.dumps({'tests': xml.tests, 'failures': xml.failures, 'errors': xml.errors, 'skipped': xml.skipped, 'cases': cases}))
`;
  // Debian's python3, where python3-junitparser is installed (a pyenv python3 on PATH would not have it).
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, file], { encoding: 'utf8' })) as {
    tests: number; failures: number; errors: number; skipped: number;
    cases: Array<{ classname: string; name: string; time: number; kind: string; message: string | null; text: string | null }>;
  };
}

describe('JUnit read by real consumers', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const { name, run } of CASES) {
    const want = expected(run);
    describe(name, () => {
      it('xmllint: the default form is valid against bhyve-smoke.xsd, the strict form against the Jenkins xunit plugin\'s junit-10.xsd', () => {
        for (const [form, xsd] of [['default', 'bhyve-smoke.xsd'], ['strict', 'junit-10.xsd']] as const) {
          const out = execFileSync('xmllint', ['--noout', '--schema', join(SCHEMAS, xsd), written(run, form)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
          assert.equal(out, '', `${form} against ${xsd}`);
        }
        assert.throws(() => execFileSync('xmllint', ['--noout', '--schema', join(SCHEMAS, 'junit-10.xsd'), written(run, 'default')], { stdio: 'pipe' }),
          /fails to validate/, 'junit-10.xsd refuses testcase properties: the check can fail');
      });

      for (const form of FORMS) {
        it(`junitparser (${form} form): counts right; each failure's text holds measured and threshold, each skip its reason`, () => {
          const got = junitparser(written(run, form));
          assert.deepEqual({ tests: got.tests, failures: got.failures, errors: got.errors, skipped: got.skipped }, want);
          assert.equal(got.cases.length, want.tests);
          assert.equal(new Set(got.cases.map((c) => `${c.classname} :: ${c.name}`)).size, got.cases.length, 'no two cases share (classname, name)');
          for (const c of got.cases) {
            assert.ok(typeof c.time === 'number' && Number.isFinite(c.time), `${c.name}: time ${c.time}`);
            if (c.kind === 'failure' || c.kind === 'error') {
              assert.ok(c.message && c.text, `${c.name}: message and body`);
              assert.match(c.text!, /reproduce: npx bhyve-smoke run /, c.name);
            }
            if (c.kind === 'failure' && c.name !== 'test') assert.match(c.text!, /threshold: /, c.name);
            if (c.kind === 'skipped') assert.ok(c.message && c.message.length > 5, `${c.name}: a skip reason`);
          }
        });
      }

      it('xunit-viewer: counts right, and shows the failure body and the skip reason among a case\'s messages', async () => {
        const { readFileSync } = await import('node:fs');
        const parsed = await parseXunit(readFileSync(written(run, 'default'), 'utf8'));
        const tests = Object.values(parsed.suites).flatMap((s) => Object.values(s.tests));
        const count = (status: string) => tests.filter((t) => t.status === status).length;
        assert.deepEqual({ tests: tests.length, failures: count('failure'), errors: count('error'), skipped: count('skipped') }, want);
        assert.equal(count('passed'), want.tests - want.failures - want.errors - want.skipped, `every other case passed: ${[...new Set(tests.map((t) => t.status))].join(', ')}`);
        for (const t of tests.filter((x) => x.status === 'failure' && x.name !== 'test')) assert.ok(t.messages.some((m) => /measured|threshold/.test(m)), t.name);
        for (const t of tests.filter((x) => x.status === 'skipped')) assert.ok(t.messages.some((m) => m.length > 5), t.name);
      });
    });
  }
});
