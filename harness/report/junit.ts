// JUnit XML from results.json, through junit-report-builder: one <testsuite>
// per test (suite × host × guest × repeat), one <testcase> per check with the
// measured value and threshold as properties. A failed check is a <failure>,
// anything the harness could not do an <error>. Valid against fixtures/junit.xsd.
import { createRequire } from 'node:module';
import type { Builder } from 'junit-report-builder';
import type { RunResult, TestResult } from './results.ts';
import { wedgedNote, writeFileAtomic } from './results.ts';

// The package is CommonJS whose typings declare a default export; require it.
const junit: Builder = createRequire(import.meta.url)('junit-report-builder');

/** JUnit timestamps carry no zone; every one we write is UTC (see the run-level property). */
const utc = (iso: string) => iso.slice(0, 19);

const testName = (t: TestResult) => `${t.suite} · ${t.host} · ${t.guest}${t.repeat > 0 ? ` · repeat ${t.repeat}` : ''}`;

export function buildJunit(run: RunResult): string {
  const builder = junit.newBuilder().name(`bhyve-smoke ${run.runId}`);
  for (const t of run.tests) {
    const suite = builder.testSuite().name(testName(t)).timestamp(utc(t.startedAt)).time(t.durationMs / 1000);
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
      'bhyve-smoke.timezone': 'UTC',
      'bhyve-smoke.reproduce': t.reproduce,
      'bhyve-smoke.kept': t.kept,
      'bhyve-smoke.host-wedged': t.wedged ? `${t.host}: ${wedgedNote(t.wedged)}` : undefined,
      'bhyve-smoke.known': t.known?.map((k) => k.id).join(', '),
    };
    for (const [k, v] of Object.entries(props)) if (v !== undefined) suite.property(k, String(v));

    const className = `${t.suite}.${t.host}.${t.guest}`;
    // A known issue leads the failure message: what a CI page shows first.
    const known = t.known?.length ? `known: ${t.known.map((k) => k.id).join(', ')} — ` : '';
    const cases = t.checks.map((c) => {
      const tc = suite.testCase().className(className).name(c.name).time(c.durationMs / 1000);
      if (c.measured !== undefined) tc.property('measured', c.measured);
      if (c.threshold !== undefined) tc.property('threshold', c.threshold);
      if (c.status === 'failed') tc.failure(`${known}${c.message ?? 'check failed'}`, c.type ?? 'CheckFailure');
      if (c.status === 'error') tc.error(`${known}${c.message ?? 'harness error'}`, c.type ?? 'InfraError');
      if (c.status === 'skipped') tc.skipped();
      return { tc, status: c.status };
    });
    // What no check holds: a skip, a timeout, an abort, an error between steps.
    if (t.status === 'skipped' && cases.length === 0) {
      cases.push({ tc: suite.testCase().className(className).name('test').skipped().standardOutput(t.skipReason ?? ''), status: 'skipped' });
    }
    if (t.error && !cases.some((c) => c.status === 'failed' || c.status === 'error')) {
      const tc = suite.testCase().className(className).name('test').time(0);
      if (t.status === 'failed') tc.failure(`${known}${t.error.message}`, t.error.type);
      else tc.error(`${known}${t.error.message}`, t.error.type);
      cases.push({ tc, status: t.status === 'failed' ? 'failed' : 'error' });
    }
    // The console tail and attachments (Jenkins' [[ATTACHMENT|path]]) go with the
    // first failing case, or the last case when all passed.
    const target = cases.find((c) => c.status === 'failed' || c.status === 'error') ?? cases[cases.length - 1];
    if (target) {
      const out = [
        t.stuckFrames?.length ? `stuck: ${t.stuckFrames.map((s) => `${s.thread} in ${s.frame}`).join('; ')}` : '',
        t.wedged ? `host ${t.host} ${wedgedNote(t.wedged)}` : '',
        t.consoleTail ? `console tail of ${t.vm}:\n${t.consoleTail}` : '',
        ...t.attachments.map((a) => `[[ATTACHMENT|${a.path}]]`),
        ...(t.missingEvidence ?? []).map((m) => `missing evidence: ${m.name}: ${m.reason}`),
        t.status !== 'passed' ? `reproduce: ${t.reproduce}` : '',
      ].filter(Boolean).join('\n');
      if (out) target.tc.standardOutput(out);
    }
  }
  return builder.build();
}

export const writeJunit = (path: string, run: RunResult): void => writeFileAtomic(path, buildJunit(run));
