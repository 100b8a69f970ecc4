// The JUnit XML itself, held to what its consumers read (docs/junit.md cites
// each from its source): the failure's body, <skipped message>, (classname,
// name) unique, relative attachments with the evidence first, `file` on every
// testcase, times everywhere, Surefire's flaky elements; both forms valid
// against their schemas. The consumers that install here read it in
// test/unit/junit-consumers.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { validateXML } from 'xmllint-wasm';
import { buildJunit } from '../../harness/report/junit.ts';
import { plainText } from '../../harness/plain-text.ts';
import { FAILING_RUN, merged40, REPORTS } from '../helpers/junit-runs.ts';

const schema = (name: string) => readFileSync(resolve(import.meta.dirname, '../../fixtures/junit', name), 'utf8');

interface Case { name: string; classname: string; file?: string; time?: string; failure?: Body; error?: Body; skipped?: { message?: string; '#text'?: string }; flakyFailure?: { message: string; type: string; stackTrace: string }; 'system-out'?: string; properties?: { property: Array<{ name: string; value: string }> | { name: string; value: string } } }
type Body = { message: string; type: string; '#text'?: string };

const parse = (xml: string) => new XMLParser({
  ignoreAttributes: false, attributeNamePrefix: '', parseAttributeValue: false, parseTagValue: false,
  isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name),
}).parse(xml).testsuites;
const casesOf = (doc: ReturnType<typeof parse>): Case[] => doc.testsuite.flatMap((s: { testcase: Case[] }) => s.testcase);
const bodyOf = (c: Case) => (c.failure ?? c.error)?.['#text'] ?? '';

describe('JUnit report', () => {
  const xml = buildJunit(FAILING_RUN, { attachmentsBase: '/ci/job' });
  const doc = parse(xml);
  const cases = casesOf(doc);
  const byName = (name: string) => cases.filter((c) => c.name === name);

  it('validates against fixtures/junit/bhyve-smoke.xsd (default form) and junit-10.xsd (strict form)', async () => {
    const check = async (text: string, xsd: string) => {
      const r = await validateXML({ xml: [{ fileName: 'junit.xml', contents: text }], schema: [{ fileName: xsd, contents: schema(xsd) }] });
      assert.equal(r.valid, true, `${xsd}: ${r.rawOutput}`);
    };
    await check(xml, 'bhyve-smoke.xsd');
    await check(buildJunit(FAILING_RUN, { form: 'strict', attachmentsBase: '/ci/job' }), 'junit-10.xsd');
    // The default form is not valid against junit-10.xsd: it is the one with properties in testcases.
    const strictOnDefault = await validateXML({ xml: [{ fileName: 'junit.xml', contents: xml }], schema: [{ fileName: 'junit-10.xsd', contents: schema('junit-10.xsd') }] });
    assert.equal(strictOnDefault.valid, false);
  });

  it('puts the whole story of a failure in its body: the check, measured against threshold, the console tail, the evidence, how to reproduce', () => {
    const [failed] = byName('kernel answers uname [repeat 1]');
    assert.equal(failed.failure!.type, 'CheckFailure');
    assert.equal(failed.failure!.message, 'wanted Linux');
    const body = bodyOf(failed);
    for (const want of [/kernel answers uname: failed/, /measured: +Plan9/, /threshold: matches \/Linux\//, /console tail of bsm-abc12345-2/, /panic: <script>alert\(1\)<\/script> \]\]> red +done/, /reproduce: npx bhyve-smoke run smoke .*--repeat-each 2/]) {
      assert.match(body, want);
    }
    assert.match(body, /evidence:\n {2}reports\/tests\/smoke-lab-linux-1\/pstack\.txt\n {2}reports\/tests\/smoke-lab-linux-1\/console\.log/, 'evidence first, console last');
  });

  it('tells a hang by the watch that fired, its stuck frames, the known issue and the last 20 console lines', () => {
    const [hang] = byName('no hang');
    assert.equal(hang.failure!.type, 'HangDetected');
    assert.match(hang.failure!.message, /^known: illumos#14026 — wrlock-cycle watch: one write-lock cycle has not returned/);
    const body = bodyOf(hang);
    assert.match(body, /stuck:\n {2}vcpu 0 in vm_handle_rendezvous/);
    assert.match(body, /known issue illumos#14026 \(vCPU stuck in rendezvous under the write lock\): matched in kernel-stacks: vm_handle_rendezvous\+0x4f/);
    assert.match(body, /console line 21\n[^]*console line 40/);
    assert.doesNotMatch(body, /console line 20\n/);
    assert.match(body, /kept: bsm-abc12345-3 on lab/);
  });

  it('gives a harness error its body too, and a console tail without a vm no "undefined"', () => {
    const error = cases.find((c) => c.classname === 'smoke.lab/freebsd')!;
    assert.equal(error.error!.type, 'InfraError');
    assert.match(bodyOf(error), /^InfraError: host lab: unreachable\n[^]*console tail \(last 20 lines\):\nno vm was made/);
    assert.doesNotMatch(xml, /undefined/);
  });

  it('writes a skip\'s reason as <skipped message> and its body, system-out left for output, and gives skipped cases a time', () => {
    const skipped = cases.filter((c) => c.skipped !== undefined);
    assert.deepEqual(skipped.map((c) => c.skipped!.message), ['suite smoke does not run on windows guests', 'no windows guest on this host']);
    assert.deepEqual(skipped.map((c) => c.skipped!['#text']), skipped.map((c) => c.skipped!.message), 'the body too: GitLab reads only that');
    assert.ok(skipped.every((c) => c.time === '0' && !/does not run/.test(c['system-out'] ?? '')));
  });

  it('makes every (classname, name) unique: a repeat says which', () => {
    const keys = cases.map((c) => `${c.classname} :: ${c.name}`);
    assert.equal(new Set(keys).size, keys.length, keys.join('\n'));
    assert.deepEqual(byName('boots to a login prompt [repeat 1]').map((c) => c.classname), ['smoke.lab/linux']);
    const m = casesOf(parse(buildJunit(merged40())));
    assert.equal(new Set(m.map((c) => `${c.classname} :: ${c.name}`)).size, m.length);
  });

  it('names classes SUITE.HOST/GUEST (Jenkins: package SUITE, class HOST/GUEST) and gives every testcase its suite\'s file', () => {
    assert.ok(cases.every((c) => /^[^.]+\.[^.]+\/[^.]+$/.test(c.classname)), cases.map((c) => c.classname).join(', '));
    assert.deepEqual([...new Set(cases.map((c) => c.file))].sort(), ['suites/smoke.ts', 'suites/wrlock-iperf.ts', 'suites/wrlock-reboot.ts']);
    const dotted = buildJunit({ ...FAILING_RUN, tests: [{ ...FAILING_RUN.tests[0], host: 'build1.example.com' }] });
    assert.match(dotted, /classname="smoke\.build1_example_com\/linux"/);
  });

  it('writes attachment paths relative to the base, the evidence before the console for a failure', () => {
    const outs = cases.map((c) => c['system-out'] ?? '').join('\n');
    const paths = [...outs.matchAll(/\[\[ATTACHMENT\|([^\]]+)\]\]/g)].map((m) => m[1]);
    assert.ok(paths.length >= 8 && paths.every((p) => !p.startsWith('/') && p.startsWith('reports/')), paths.join('\n'));
    const hang = byName('no hang')[0]['system-out']!;
    const order = [...hang.matchAll(/ATTACHMENT\|[^\]]*\/([^/\]]+)\]\]/g)].map((m) => m[1]);
    assert.deepEqual(order, ['kernel-stacks.txt', 'screen-02-hang.png', 'bhyvectl-stats.txt', 'screen-01-boot.png', 'console.log']);
    assert.ok(REPORTS.startsWith('/ci/job/'));
  });

  it('shows a passing check\'s measured value and threshold in system-out, not only in properties', () => {
    const [boot] = byName('boots to a login prompt');
    assert.match(boot['system-out']!, /^measured: 3\.0s\nthreshold: <= 2\.0m/);
    assert.deepEqual([boot.properties!.property].flat().map((p) => [p.name, p.value]), [['measured', '3.0s'], ['threshold', '<= 2.0m']]);
  });

  it('puts times on <testsuites> and every testcase', () => {
    assert.equal(doc.time, '60');
    assert.ok(cases.every((c) => c.time !== undefined && Number.isFinite(Number(c.time))), 'a time on every testcase');
    const tiny = buildJunit({ ...FAILING_RUN, tests: [{ ...FAILING_RUN.tests[0], durationMs: 0.0001, checks: [{ name: 'x', status: 'passed', durationMs: 1e-7 }] }] });
    assert.doesNotMatch(tiny, /time="[^"]*e/, 'no exponent in a time');
  });

  it('writes a pass on a retry as Surefire does: <flakyFailure> (which Jenkins and mikepenz read) with the first attempt\'s message on a passing case', () => {
    const flaky = cases.filter((c) => c.flakyFailure);
    assert.equal(flaky.length, 1);
    assert.equal(flaky[0].name, 'throughput under the hard dose');
    assert.equal(flaky[0].flakyFailure!.type, 'InfraError');
    assert.match(flaky[0].flakyFailure!.message, /bhyve exited 4 as it started/);
    assert.match(flaky[0].flakyFailure!.stackTrace, /^attempt 1 of 2: error/);
    assert.equal(flaky[0].failure, undefined);
    assert.equal(doc.failures, '2');
    assert.equal(doc.errors, '2');
  });

  it('leaves no part of a terminal escape sequence or control byte in the text', () => {
    assert.equal(plainText('\x1b[31mred\x1b[0m \x1b]0;title\x07ok \x1b(B\x07\x00tab\there\r\nnext'), 'red ok tab\there\nnext');
    assert.doesNotMatch(xml, /\[31m|\[0m/);
  });

  it('orders a merge\'s repeats by number: 0, 1, 2 … 39', () => {
    const suites = parse(buildJunit(merged40())).testsuite.map((s: { name: string }) => s.name);
    assert.equal(suites.length, 40);
    assert.deepEqual(suites.slice(0, 4), ['wrlock-iperf · lab · linux', 'wrlock-iperf · lab · linux · repeat 1', 'wrlock-iperf · lab · linux · repeat 2', 'wrlock-iperf · lab · linux · repeat 3']);
    assert.equal(suites[39], 'wrlock-iperf · lab · linux · repeat 39');
  });
});
