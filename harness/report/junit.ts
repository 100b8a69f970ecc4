// JUnit XML from results.json: one <testsuite> per test (suite × host × guest
// × repeat), one <testcase> per check. What each CI system shows of it decides
// where things go (docs/junit.md has the mapping and the consumers' sources):
//  - a failure's whole story is the element's body (GitLab shows only that,
//    Jenkins calls it the stack trace): the check, measured against threshold,
//    the stuck frames of a hang, the console's last lines, the evidence, the
//    command that reproduces it;
//  - a skip's reason is <skipped message>;
//  - (classname, name) is unique in a file: a repeat carries " [repeat N]";
//  - classname "SUITE.HOST/GUEST" is Jenkins' package SUITE, class HOST/GUEST;
//  - attachments ([[ATTACHMENT|path]]) are relative, the most useful first;
//  - a pass on a retry carries Surefire's <flakyFailure>.
// The default form keeps each check's measured value and threshold as
// testcase properties (Jenkins reads them) and is valid against
// fixtures/junit/bhyve-smoke.xsd; the strict form leaves out what the Jenkins xunit
// plugin's junit-10.xsd forbids and is valid against it.
import { plainText } from '../plain-text.ts';
import { relative } from 'node:path';
import type { TestCase } from 'junit-report-builder';
import type { CheckResult } from '../verdict/checks.ts';
import { extend, newBuilder, type CaseExtras, type Rerun } from './junit-builder.ts';
import type { Attachment, RunResult, TestResult } from './results.ts';
import { wedgedNote, writeFileAtomic } from './results.ts';
import { MISSING_SHARD_SUITE } from './merge.ts';
import { collectSeries } from '../verdict/compare.ts';

export interface JunitOptions {
  /** 'strict': valid against the Jenkins xunit plugin's junit-10.xsd (no testcase properties or file). */
  form: 'default' | 'strict';
  /** Attachment paths are written relative to this folder (default: the working directory, where a CI job starts). */
  attachmentsBase: string;
}

/** How many of the console's last lines a failure's body quotes (all of it is in console.log). */
const TAIL_LINES = 20;

/** JUnit timestamps carry no zone; every one we write is UTC (see the run-level property). */
const utc = (iso: string) => iso.slice(0, 19);
/** Seconds with at most millisecond digits: never an exponent, which SUREFIRE_TIME refuses. */
const seconds = (ms: number) => Math.max(0, Math.round(ms)) / 1000;

const testName = (t: TestResult) => `${t.suite} · ${t.host} · ${t.guest}${t.repeat > 0 ? ` · repeat ${t.repeat}` : ''}`;
/** Jenkins splits a classname at its last dot: package = suite, class = host/guest. A dot inside a name would move that split. */
const classNameOf = (t: TestResult) => `${t.suite.replaceAll('.', '_')}.${t.host.replaceAll('.', '_')}/${t.guest.replaceAll('.', '_')}`;
const suiteFile = (t: TestResult) => `suites/${t.suite}.ts`;


/** Evidence first for a failure: stacks, the screen at the hang, host state; the console (quoted in the body) last. */
function rankAttachment(a: Attachment): number {
  if (/stacks|pstack/.test(a.name)) return 0;
  if (/ (hang|failure)$/.test(a.name)) return 1;
  if (a.name === 'console') return 5;
  if (/^screen /.test(a.name)) return 4;
  return 2;
}

export function buildJunit(run: RunResult, options: Partial<JunitOptions> = {}): string {
  const strict = options.form === 'strict';
  const base = options.attachmentsBase ?? process.cwd();
  const builder = newBuilder(`bhyve-smoke ${run.runId}`, seconds(run.durationMs), strict);
  const taken = new Set<string>();
  /** A name unique in the file for this classname: a check that repeats within a test gets " (2)". */
  const uniqueName = (className: string, name: string) => {
    let candidate = name;
    for (let n = 2; taken.has(`${className}\n${candidate}`); n++) candidate = `${name} (${n})`;
    taken.add(`${className}\n${candidate}`);
    return candidate;
  };
  const attachmentPath = (a: Attachment) => relative(base, a.path) || a.path;

  for (const t of run.tests) {
    const suite = builder.testSuite().name(testName(t)).timestamp(utc(t.startedAt)).time(seconds(t.durationMs));
    const props: Record<string, string | number | undefined> = {
      'bhyve-smoke.run': run.runId,
      'bhyve-smoke.suite': t.suite,
      'bhyve-smoke.host': t.host,
      'bhyve-smoke.guest': t.guest,
      'bhyve-smoke.repeat': t.repeat,
      'bhyve-smoke.status': t.status,
      'bhyve-smoke.attempts': t.attempts.length,
      'bhyve-smoke.vm': t.vm,
      'bhyve-smoke.image': t.image ? `${t.image.image} ${t.image.id}` : undefined,
      'bhyve-smoke.build': t.build,
      'bhyve-smoke.boot': t.boot !== undefined ? bootOf(run, t.boot) : undefined,
      'bhyve-smoke.timezone': 'UTC',
      'bhyve-smoke.reproduce': t.reproduce,
      'bhyve-smoke.kept': t.kept,
      'bhyve-smoke.host-wedged': t.wedged ? `${t.host}: ${wedgedNote(t.wedged)}` : undefined,
      'bhyve-smoke.host-died': t.hostDeath?.summary,
      'bhyve-smoke.known': t.known?.map((k) => k.id).join(', '),
    };
    for (const [k, v] of Object.entries(props)) if (v !== undefined) suite.property(k, plainText(String(v)));
    // The test's metrics, built in or its suite's own, as its samples (a metric recorded more than once: their mean).
    for (const { key, unit, values } of collectSeries([t]).values()) {
      suite.property(`bhyve-smoke.metric.${[key.metric, key.dose, key.direction].filter(Boolean).join('.')}`, plainText(`${Number(values[0].toPrecision(6))} ${unit}`));
    }

    const className = classNameOf(t);
    const repeat = t.repeat > 0 ? ` [repeat ${t.repeat}]` : '';
    const newCase = (name: string, ms: number) => {
      const tc = suite.testCase().className(className).name(uniqueName(className, `${name}${repeat}`)).time(seconds(ms));
      if (!strict && t.suite !== MISSING_SHARD_SUITE) tc.file(suiteFile(t));
      return { tc, extras: extend(tc) };
    };
    // A known issue leads the failure message: what a CI page shows first.
    const known = t.known?.length ? `known: ${t.known.map((k) => k.id).join(', ')} — ` : '';
    const attachments = [...t.attachments].sort((a, b) => (t.status === 'passed' ? 0 : rankAttachment(a) - rankAttachment(b)));
    const story = (headline: string[]) => plainText(failureStory(t, headline, attachments.map(attachmentPath)));

    const cases: Array<{ tc: TestCase; extras: CaseExtras; status: CheckResult['status'] }> = t.checks.map((c) => {
      const { tc, extras } = newCase(c.name, c.durationMs);
      if (!strict && c.measured !== undefined) tc.property('measured', plainText(c.measured));
      if (!strict && c.threshold !== undefined) tc.property('threshold', plainText(c.threshold));
      const message = `${known}${plainText(c.message ?? (c.status === 'error' ? 'harness error' : 'check failed'))}`;
      if (c.status === 'failed') tc.failure(message, c.type ?? 'CheckFailure').stacktrace(story(checkHeadline(c)));
      if (c.status === 'error') tc.error(message, c.type ?? 'InfraError', story(checkHeadline(c)));
      if (c.status === 'skipped') extras.skipped = plainText(c.message ?? t.skipReason ?? '');
      extras.out = measuredLines(c);
      return { tc, extras, status: c.status };
    });
    // What no check holds: a skip, a timeout, an abort, an error between steps.
    if (t.status === 'skipped' && cases.length === 0) {
      const { tc, extras } = newCase('test', 0);
      extras.skipped = plainText(t.skipReason ?? '');
      cases.push({ tc, extras, status: 'skipped' });
    }
    if (t.error && !cases.some((c) => c.status === 'failed' || c.status === 'error')) {
      const { tc, extras } = newCase('test', 0);
      const message = `${known}${plainText(t.error.message)}`;
      const body = story([`${t.error.type}: ${t.error.message}`]);
      if (t.status === 'failed') tc.failure(message, t.error.type).stacktrace(body);
      else tc.error(message, t.error.type, body);
      cases.push({ tc, extras, status: t.status === 'failed' ? 'failed' : 'error' });
    }
    if (cases.length === 0) cases.push({ ...newCase('test', t.durationMs), status: 'passed' });

    // The test's own output and earlier attempts go with its first failing case, or its last passing one.
    const target = cases.find((c) => c.status === 'failed' || c.status === 'error') ?? [...cases].reverse().find((c) => c.status === 'passed') ?? cases[cases.length - 1];
    target.extras.reruns = reruns(t);
    target.extras.out = plainText([target.extras.out, testOutput(t, attachments.map(attachmentPath))].filter(Boolean).join('\n'));
  }
  return builder.build();
}

/** A check's first lines in a failure's body. */
function checkHeadline(c: CheckResult): string[] {
  return [
    `${c.name}: ${c.status === 'error' ? 'could not be checked' : 'failed'}`,
    c.message ? `  ${c.message}` : '',
    c.measured !== undefined ? `  measured:  ${c.measured}` : '',
    c.threshold !== undefined ? `  threshold: ${c.threshold}` : '',
  ].filter(Boolean);
}

/** A check's measured value and threshold, which CI pages show only from system-out. */
const measuredLines = (c: CheckResult) =>
  plainText([c.measured !== undefined ? `measured: ${c.measured}` : '', c.threshold !== undefined ? `threshold: ${c.threshold}` : ''].filter(Boolean).join('\n'));

/** A failure's whole story, for the element's body. */
function failureStory(t: TestResult, headline: string[], attachments: string[]): string {
  const tail = t.consoleTail?.trimEnd().split('\n').slice(-TAIL_LINES).join('\n');
  return [
    ...headline,
    ...(t.known ?? []).map((k) => `known issue ${k.id}${k.summary ? ` (${k.summary})` : ''}: matched in ${k.where}: ${k.line}`),
    t.stuckFrames?.length ? `stuck:\n${t.stuckFrames.map((s) => `  ${s.thread} in ${s.frame}`).join('\n')}` : '',
    t.wedged ? `host ${t.host} ${wedgedNote(t.wedged)}` : '',
    t.hostDeath?.crash?.stack?.length ? `panic stack (${t.hostDeath.crash.record}):\n${t.hostDeath.crash.stack.map((f) => `  ${f}`).join('\n')}` : '',
    tail ? `console tail${t.vm ? ` of ${t.vm}` : ''} (last ${TAIL_LINES} lines):\n${tail}` : '',
    attachments.length ? `evidence:\n${attachments.map((a) => `  ${a}`).join('\n')}` : '',
    ...(t.missingEvidence ?? []).map((m) => `missing evidence: ${m.name}: ${m.reason}`),
    t.kept ? `kept: ${t.kept}` : '',
    `reproduce: ${t.reproduce}`,
  ].filter(Boolean).join('\n');
}

/** The test's output on its target case: what CI pages show of a passing test, and the attachments. */
function testOutput(t: TestResult, attachments: string[]): string {
  return [
    t.attempts.length > 1 ? `${t.status === 'flaky' ? 'flaky: passed' : t.status} on attempt ${t.attempts.length} of ${t.attempts.length}; before: ${t.attempts.slice(0, -1).map((a, i) => `attempt ${i + 1} ${a.status}${a.error ? ` (${a.error})` : ''}`).join('; ')}` : '',
    t.stuckFrames?.length ? `stuck: ${t.stuckFrames.map((s) => `${s.thread} in ${s.frame}`).join('; ')}` : '',
    t.wedged ? `host ${t.host} ${wedgedNote(t.wedged)}` : '',
    t.kept ? `kept: ${t.kept}` : '',
    t.consoleTail ? `console tail${t.vm ? ` of ${t.vm}` : ''}:\n${t.consoleTail}` : '',
    ...attachments.map((a) => `[[ATTACHMENT|${a}]]`),
    ...(t.missingEvidence ?? []).map((m) => `missing evidence: ${m.name}: ${m.reason}`),
    t.status !== 'passed' ? `reproduce: ${t.reproduce}` : '',
  ].filter(Boolean).join('\n');
}

/**
 * The attempts before the last, as Surefire writes them: <flakyFailure> when
 * the last passed, <rerunFailure> when it did not. Only these two: Jenkins
 * reads both, mikepenz/action-junit-report counts only flakyFailure, and
 * neither reads the -Error forms. The type says what the attempt was.
 */
function reruns(t: TestResult): Rerun[] {
  const earlier = t.attempts.slice(0, -1).filter((a) => a.status === 'error' || a.status === 'failed');
  const passed = t.status === 'flaky' || t.status === 'passed';
  return earlier.map((a, i) => ({
    element: passed ? 'flakyFailure' : 'rerunFailure',
    message: plainText(a.error ?? a.status),
    type: a.status === 'failed' ? 'CheckFailure' : 'InfraError',
    stackTrace: plainText(`attempt ${i + 1} of ${t.attempts.length}: ${a.status}\n${a.error ?? ''}`.trim()),
  }));
}

export const writeJunit = (path: string, run: RunResult, options?: Partial<JunitOptions>): void => writeFileAtomic(path, buildJunit(run, options));

/** A test's boot in a gate across boots, in words: its number, boot environment, side and boot id. */
const bootOf = (run: RunResult, index: number) => {
  const b = run.boots?.find((x) => x.index === index);
  return b ? `${b.index + 1} (${b.be}, ${b.side}, boot id ${b.bootId})` : String(index + 1);
};
