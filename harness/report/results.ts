// results.json: the one record of a run that every reporter, merge and compare
// read. Written atomically (temp file + rename), so a reader never sees half.
import type { HostCapabilities } from '../platform/capabilities.ts';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { EXIT } from '../errors.ts';
import type { Sample, TimelineEvent } from '../timeline.ts';
import type { CheckResult } from '../verdict/checks.ts';
import type { MetricValue } from '../verdict/metrics.ts';
import type { KnownMatch } from '../verdict/triage.ts';
import type { ImageIdentity } from '../image/disk-image.ts';
import type { BuildIdentity } from '../host-life/build.ts';
import type { HostDeath } from '../host-life/vitals.ts';
import type { CrashReading } from '../platform/types.ts';

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
  /** The pool (or host) the test targeted: the middle of its id. */
  pool?: string;
  /** The host it ran on. */
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
  /** The golden disk the vm was cloned from, and what pins its bits. */
  image?: ImageIdentity;
  /** The build its host ran (host-life/build.ts buildId): what its numbers belong to. */
  build?: string;
  /** The boot of its host it ran in, in a gate across boots: an index into the run's `boots`. */
  boot?: number;
  checks: CheckResult[];
  /** What compare and the gate read (absent in results written before metrics existed). */
  metrics?: MetricValue[];
  error?: { type: string; message: string };
  skipReason?: string;
  consoleTail?: string;
  attachments: Attachment[];
  /** Evidence the harness tried and failed to collect (a screenshot without a browser), with the reason. */
  missingEvidence?: Array<{ name: string; reason: string }>;
  timeline: { samples: Sample[]; events: TimelineEvent[] };
  /** Known issues (config knownIssues) whose signature this failure carries. */
  known?: KnownMatch[];
  /** The command that runs this test again. */
  reproduce: string;
  /** Kept for inspection (--keep-on-failure): how to reach it. */
  kept?: string;
  /** What its teardown could not remove from the host (the run record keeps it for `bhyve-smoke clean`). */
  leftBehind?: string;
  /** Its write lock never returned: the vm was left as it is, and its host is out of the run until rebooted. */
  wedged?: WedgedVm;
  /** Where the hung vm's threads were stuck: each one's innermost frame in the hypervisor's code, from the stack evidence. */
  stuckFrames?: Array<{ thread: string; frame: string }>;
  /** Its host rebooted (a panic) or stopped answering under it: the `host survived` finding, with the crash record. */
  hostDeath?: HostDeathRecord;
  /** What it exposed its host to: what hang and panic rates are counted against (compare, the gate). */
  exposure?: Exposure;
  /** Its vm's vCPUs pinned to host CPUs, as the host applied it (guests.X.pinVcpus): `vcpu 0 cpu 1, …`. calibrate tells pinned from unpinned noise by it. */
  vcpusPinned?: string;
}

/** A test's exposure: write-lock cycles taken, guest reboots (forced resets too), and how long its vm ran. */
export interface Exposure {
  wrlockCycles: number;
  guestReboots: number;
  vmSeconds: number;
}

/** A host's death under a test (host-life/vitals.ts), as results.json keeps it: its crash record read, its files attached. */
export type HostDeathRecord = Omit<HostDeath, 'crash'> & {
  /** The crash record: its id, panic, stack, the first vmm or viona frame, when, the dump; or why there is none. */
  crash?: { record?: string; missing?: string } & Partial<CrashReading>;
};

/**
 * A vm the run left on a wedged host: its write lock never returned, so it
 * was not destroyed (the destroy would block every vm operation on the host)
 * and the host needs a reboot. The record is kept until the host's boot id
 * changes.
 */
export interface WedgedVm {
  vm: string;
  /** What bhyvectl calls it. */
  vmm: string;
  since: string;
  reason: string;
  /** The host's boot id when it wedged (platform bootId); another one later means it was rebooted. */
  bootId: string;
}

/** What a wedged host's vm means for whoever reads about it: in notes, results and reports. */
export const wedgedNote = (w: WedgedVm) =>
  `wedged: the write lock of vm ${w.vm} never returned (${w.reason}); the vm was left as it is and the host needs a reboot`;

export interface HostSummary {
  name: string;
  platform: string;
  transport: string;
  /** What makes two hosts comparable: CPU, memory, OS (compare warns when they differ). */
  fingerprint?: Record<string, string>;
  /** The build it ran: platform build, release, vmm module, DEBUG (host-life/build.ts). */
  build?: BuildIdentity;
  /** Merged results of a host that ran several builds (a gate's boots): each of them. */
  builds?: BuildIdentity[];
  /** What it offered the tests, probed at the start of the run: a test needing what it lacked was skipped. */
  capabilities?: HostCapabilities;
  /** Failed its health check at the start of the run, or wedged during it: its tests went to other hosts of its pool. */
  quarantined?: string;
  /** A vm of the run wedged it: it needs a reboot (`bhyve-smoke clean` reports it until it has one). */
  wedged?: WedgedVm;
}

/** One boot of a host in a gate across boot environments. */
export interface BootRecord {
  index: number;
  host: string;
  /** The boot environment it booted, and the gate's side it stands for. */
  be: string;
  side: 'baseline' | 'candidate';
  bootId: string;
  /** The build it ran (host-life/build.ts buildId). */
  build: string;
  /** From its reboot command to the first sign the old boot was over, and to the new boot's answer. */
  downMs: number;
  upMs: number;
  startedAt: string;
  finishedAt: string;
  /** Its tests' ids. */
  tests: string[];
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
  /** A soak that ended early (--max-failures reached, --duration spent): why, and how many planned tests never started. */
  stopped?: { reason: string; notStarted: number };
  hosts: HostSummary[];
  /** This run was one shard of a plan (`--shard i/n`). */
  shard?: { index: number; total: number };
  /** What the user labelled the run with (`--label build=1234`): `history` can order runs by one. */
  labels?: Record<string, string>;
  /** A gate across boots: each boot of the host, in order (run/boots.ts). */
  boots?: BootRecord[];
  /** This file merges the results of several runs (shards). */
  merged?: Array<{ runId: string; source: string; shard?: { index: number; total: number } }>;
  /** Shards of the plan whose results never reached the merge: each is also an error test (`shard I/N`). */
  missingShards?: Array<{ index: number; total: number }>;
  /** What failed the run besides failed checks: skips, flaky passes (merge applies it to the whole night). */
  failOn?: FailOn;
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

/** What fails a run besides failed checks (--fail-on-skip, --fail-on-flaky-tests, or a profile's failOnSkip, failOnFlakyTests). */
export interface FailOn {
  skip?: boolean;
  flaky?: boolean;
}

/**
 * 0 all passed (flaky counts as passed), 1 a check failed, 2 a test could not
 * run because of the config (a guest its host cannot boot), 3 infrastructure
 * error; 130/143 interrupted. With `failOn`, a skipped or a flaky test is
 * exit 1 too, where nothing worse happened.
 */
export function exitCodeOf(tests: TestResult[], signal?: NodeJS.Signals, failOn: FailOn = {}): number {
  if (signal === 'SIGINT') return 130;
  if (signal === 'SIGTERM') return 143;
  const s = summarize(tests);
  if (s.failed) return EXIT.checkFailed;
  if (tests.some((t) => t.status === 'error' && t.error?.type === 'ConfigError')) return EXIT.usage;
  if (s.error) return EXIT.infra;
  if (failingSkipsAndFlakes(tests, failOn).length) return EXIT.checkFailed;
  return EXIT.passed;
}

/** The tests that fail the run only because of `failOn`: its skips (--fail-on-skip) and flaky passes (--fail-on-flaky-tests). */
export const failingSkipsAndFlakes = (tests: TestResult[], failOn: FailOn = {}): TestResult[] =>
  tests.filter((t) => (failOn.skip && t.status === 'skipped') || (failOn.flaky && t.status === 'flaky'));
