// junit-report-builder (pinned 5.1.2) writes the JUnit tree; this adds, around
// its objects, the four things it cannot write and CI pages need:
//  - <skipped message="…">…</skipped>: its skipped() takes no reason; Jenkins
//    reads the attribute, GitLab only the body;
//  - Surefire's <flakyFailure>/<rerunFailure> (with <stackTrace>), for a test
//    that passed, or failed, on a retry;
//  - system-out before the reruns (its own would come after its result, where
//    xunit-viewer takes an unknown first child for the case's status), and
//  - `time` on <testsuites>, and (strict form) no `skipped` there, which the
//    Jenkins xunit plugin's junit-10.xsd does not allow.
// Only the builder's public objects are touched, except the root <testsuites>,
// which 5.1.2 keeps private; a change of version is caught by the JUnit tests.
import { createRequire } from 'node:module';
import type { Builder, TestCase } from 'junit-report-builder';
import type { XMLElement } from 'xmlbuilder';

// The package is CommonJS whose typings declare a default export; require it.
const junit: Builder = createRequire(import.meta.url)('junit-report-builder');

/** An earlier attempt of a test, written as Surefire does (maven-surefire StatelessXmlReporter). */
export interface Rerun {
  element: 'flakyFailure' | 'rerunFailure';
  message: string;
  type: string;
  stackTrace: string;
}

/** What a testcase carries beyond the builder's own calls. */
export interface CaseExtras {
  skipped?: string;
  reruns: Rerun[];
  out?: string;
}

/** Takes over a testcase's skipped element, reruns and system-out; returns them to fill in. */
export function extend(tc: TestCase): CaseExtras {
  const extras: CaseExtras = { reruns: [] };
  const build = tc.build.bind(tc);
  tc.getSkippedCount = () => (extras.skipped !== undefined ? 1 : 0);
  tc.build = (parent: XMLElement) => {
    const el = build(parent);
    if (extras.skipped !== undefined) el.ele('skipped', { message: extras.skipped }, extras.skipped || undefined);
    if (extras.out) el.ele('system-out').cdata(extras.out);
    for (const r of extras.reruns) el.ele(r.element, { message: r.message, type: r.type }).ele('stackTrace').cdata(r.stackTrace);
    return el;
  };
  return extras;
}

interface Root {
  time(seconds: number): unknown;
  build(parent?: XMLElement): XMLElement;
}

/** A builder whose <testsuites> carries the run's time, and in the strict form no `skipped`. */
export function newBuilder(name: string, seconds: number, strict: boolean): Builder {
  const builder = junit.newBuilder().name(name);
  const root = (builder as unknown as { _rootTestSuites?: Root })._rootTestSuites;
  if (!root || typeof root.time !== 'function') throw new Error('junit-report-builder: no root <testsuites> (has its version changed from 5.1.2?)');
  root.time(seconds);
  if (strict) {
    const build = root.build.bind(root);
    root.build = (parent) => build(parent).removeAttribute('skipped');
  }
  return builder;
}
