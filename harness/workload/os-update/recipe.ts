// An OS update recipe: how one update tool is found in a guest, run to
// completion, and read back — and after the reboot, how the updated system is
// recognised. The commands are in the guest's own shell language; each parser
// sits beside the command whose output it reads.

export const UPDATE_METHODS = ['apt', 'dnf', 'zypper', 'freebsd-update', 'windows-update', 'lab-synthetic'] as const;
export type UpdateMethod = (typeof UPDATE_METHODS)[number];

/** What the update tool said it did. */
export interface UpdateOutcome {
  /** The tool ran to its end and reported success. */
  ok: boolean;
  /** Packages or updates installed, when the tool says. */
  installed?: number;
  /** The tool asked for a reboot. */
  rebootRequired?: boolean;
  /** One line for the check: what was done, or why it failed. */
  summary: string;
}

/** After the reboot: is the guest running the updated system, with nothing left pending? */
export interface UpdatedState {
  ok: boolean;
  summary: string;
}

export interface UpdateRecipe {
  method: UpdateMethod;
  /**
   * False for the lab's stand-in: reports name it a synthetic update, so
   * nobody mistakes it for a real one.
   */
  real: boolean;
  /** Exits 0 when the guest has this tool (auto-detection); the synthetic update is never detected. */
  detect?: string;
  /** Runs the update to completion. */
  command: string;
  parse(output: string, status: number): UpdateOutcome;
  /** After the reboot into the updated system. */
  verify: { command: string; parse(output: string, status: number): UpdatedState };
}

/** The last line of `output` that matches `pattern`, with its groups. */
export function lastMatch(output: string, pattern: RegExp): RegExpMatchArray | undefined {
  let last: RegExpMatchArray | undefined;
  for (const line of output.split('\n')) {
    const m = pattern.exec(line.trim());
    if (m) last = m;
  }
  return last;
}

/** The tail of a failed tool's output, for the check's message. */
export const tailOf = (output: string, lines = 5): string =>
  output.trim().split('\n').slice(-lines).map((l) => l.trim()).join(' | ') || '(no output)';
