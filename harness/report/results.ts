// results.json: the one record of a run that every reporter, merge and compare
// read. Written atomically (temp file + rename), so a reader never sees half.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Sample, TimelineEvent } from '../timeline.ts';
import type { CheckResult } from '../verdict/checks.ts';
import type { MetricValue } from '../verdict/metrics.ts';

/**
 * passed; failed (a check failed or a hang); error (the harness could not do
 * its part); skipped (the host or guest lacks what the suite needs); flaky
 * (passed on a retry after an infrastructure error).
 */
export type TestStatus = 'passed' | 'failed' | 'error' | 'skipped' | 'flaky';

export interface Attachment {
  name: string;
  path: string;
}

export interface TestResult {
  id: string;
  suite: string;
  host: string;
  guest: string;
  repeat: number;
  status: TestStatus;
  /** The attempt that decided the status; earlier ones are in `attempts`. */
  attempt: number;
  attempts: Array<{ status: TestStatus; error?: string }>;
  startedAt: string;
  durationMs: number;
  vm?: string;
  checks: CheckResult[];
  /** What compare and the gate read (absent in results written before metrics existed). */
  metrics?: MetricValue[];
  error?: { type: string; message: string };
  skipReason?: string;
  consoleTail?: string;
  attachments: Attachment[];
  timeline: { samples: Sample[]; events: TimelineEvent[] };
  /** The command that runs this test again. */
  reproduce: string;
  /** Kept for inspection (--keep-on-failure): how to reach it. */
  kept?: string;
}

export interface RunResult {
  version: 1;
  runId: string;
  config: string;
  profile?: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  interrupted?: string;
  hosts: Array<{ name: string; platform: string; transport: string }>;
  tests: TestResult[];
  exitCode: number;
}

export function writeFileAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

export const writeResults = (path: string, run: RunResult): void => writeFileAtomic(path, `${JSON.stringify(run, null, 2)}\n`);

export const summarize = (tests: TestResult[]) => {
  const count = (s: TestStatus) => tests.filter((t) => t.status === s).length;
  return { total: tests.length, passed: count('passed'), failed: count('failed'), error: count('error'), skipped: count('skipped'), flaky: count('flaky') };
};
