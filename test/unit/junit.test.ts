// JUnit from results.json: valid against fixtures/junit.xsd, failures and
// errors kept apart, measured values and thresholds as properties.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { validateXML } from 'xmllint-wasm';
import { buildJunit } from '../../harness/report/junit.ts';
import type { RunResult, TestResult } from '../../harness/report/results.ts';

const xsd = readFileSync(resolve(import.meta.dirname, '../../fixtures/junit.xsd'), 'utf8');

const test = (over: Partial<TestResult>): TestResult => ({
  id: 'smoke/lab/linux', suite: 'smoke', host: 'lab', guest: 'linux', repeat: 0, status: 'passed', attempt: 0, attempts: [],
  startedAt: '2026-11-25T10:00:00.123Z', durationMs: 1500, checks: [], attachments: [], timeline: { samples: [], events: [] },
  reproduce: 'npx bhyve-smoke run smoke --host lab --guest linux', ...over,
});

const run: RunResult = {
  version: 1, runId: 'abc12345', config: 'built-in', startedAt: '2026-11-25T10:00:00Z', finishedAt: '2026-11-25T10:01:00Z',
  durationMs: 60_000, hosts: [], exitCode: 1,
  tests: [
    test({ checks: [{ name: 'boots to a login prompt', status: 'passed', durationMs: 3000, measured: '3.0s', threshold: '<= 2.0m' }], consoleTail: 'login: ' }),
    test({
      id: 'smoke/lab/linux#1', repeat: 1, status: 'failed',
      checks: [
        { name: 'kernel answers uname', status: 'failed', durationMs: 0, measured: 'Plan9', threshold: 'matches /Linux/', message: 'wanted Linux' },
        { name: 'shuts down', status: 'passed', durationMs: 10 },
      ],
      // Console output is data: markup, CDATA terminators and control bytes must survive as text.
      consoleTail: 'panic: <script>alert(1)</script> ]]> \x07 done',
      attachments: [{ name: 'pstack', path: '/r/tests/x/pstack.txt' }],
    }),
    test({ id: 'smoke/lab/freebsd', guest: 'freebsd', status: 'error', error: { type: 'InfraError', message: 'host lab: unreachable' } }),
    test({ id: 'smoke/lab/windows', guest: 'windows', status: 'skipped', skipReason: 'suite smoke does not run on windows guests' }),
    test({ id: 'smoke/lab/aborted', status: 'error', error: { type: 'Aborted', message: 'interrupted by SIGINT' } }),
  ],
};

describe('JUnit report', () => {
  const xml = buildJunit(run);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
  const suites = doc.testsuites.testsuite;

  it('validates against fixtures/junit.xsd', async () => {
    const r = await validateXML({ xml: [{ fileName: 'junit.xml', contents: xml }], schema: [{ fileName: 'junit.xsd', contents: xsd }] });
    assert.equal(r.valid, true, r.rawOutput);
  });

  it('has one testsuite per test and one testcase per check', () => {
    assert.equal(suites.length, 5);
    assert.equal(suites[0].name, 'smoke · lab · linux');
    assert.equal(suites[1].name, 'smoke · lab · linux · repeat 1');
    assert.equal(suites[1].testcase.length, 2);
  });

  it('keeps a failed check (<failure>) apart from a harness error (<error>)', () => {
    assert.equal(doc.testsuites.failures, '1');
    assert.equal(doc.testsuites.errors, '2');
    assert.equal(suites[1].testcase[0].failure.type, 'CheckFailure');
    assert.equal(suites[2].testcase.error.type, 'InfraError');
    assert.equal(suites[4].testcase.error.message, 'interrupted by SIGINT');
    assert.equal(suites[3].testcase.skipped, '');
  });

  it('puts measured value and threshold in testcase properties and UTC timestamps on testsuites', () => {
    const props = suites[0].testcase.properties.property;
    assert.deepEqual(props.map((p: { name: string }) => p.name), ['measured', 'threshold']);
    assert.equal(props[1].value, '<= 2.0m');
    assert.equal(suites[0].timestamp, '2026-11-25T10:00:00');
  });

  it('carries the console tail as text, attachments and the reproduction command in system-out', () => {
    const out = suites[1].testcase[0]['system-out'];
    assert.match(out, /panic: <script>alert\(1\)<\/script> \]\]> +done/);
    assert.match(out, /\[\[ATTACHMENT\|\/r\/tests\/x\/pstack\.txt\]\]/);
    assert.match(out, /reproduce: npx bhyve-smoke run smoke/);
  });
});
