// The harness's typed errors. Each maps to one exit code and one JUnit element:
// a failed check is a <failure>, everything the harness could not do is an <error>.

/**
 * Exit codes, documented in the README, docs/running.md and `bhyve-smoke --help`. noVerdict: a
 * comparison (`compare`, a gate run: run --baseline/--ab, `gate`) was made, but its data cannot decide
 * (too few tests a side, no series in common, both sides on one build without --aa); its reports are written.
 */
export const EXIT = { passed: 0, checkFailed: 1, usage: 2, infra: 3, noVerdict: 4 } as const;

/** Bad command line or config: nothing was started. Exit 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The harness could not do its part: host unreachable, ssh exit 255, image missing, a tool failed. Exit 3. */
export class InfraError extends Error {
  override name = 'InfraError';
  constructor(message: string, readonly details: { command?: string; output?: string; doing?: string } = {}, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A check did not hold. Exit 1, JUnit <failure>. */
export class CheckFailure extends Error {
  override name = 'CheckFailure';
}

/** The vm stopped making progress: never retried, evidence collected. Exit 1, JUnit <failure>. */
export class HangDetected extends Error {
  override name = 'HangDetected';
}

/** The host rebooted (a panic) or stopped answering under the test: never retried, its crash record as evidence. Exit 1, JUnit <failure>. */
export class HostDied extends Error {
  override name = 'HostDied';
}

/** The run was interrupted (SIGINT/SIGTERM): unfinished tests are reported as aborted errors. */
export class Aborted extends Error {
  override name = 'Aborted';
  /** The signal that interrupted the run, if one did (not for the global timeout). */
  constructor(message: string, readonly signal?: NodeJS.Signals) {
    super(message);
  }
}

export const exitCodeFor = (e: unknown): number =>
  e instanceof ConfigError ? EXIT.usage : e instanceof CheckFailure || e instanceof HangDetected || e instanceof HostDied ? EXIT.checkFailed : EXIT.infra;

export const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
