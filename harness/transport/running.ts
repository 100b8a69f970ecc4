// A started command with its deadline: past it, `kill` ends the command's
// process group (locally, or on the host); the result says it timed out.
import type { Result, ResultPromise } from 'execa';
import { registerGroup, unregisterGroup } from './process-groups.ts';
import type { RunningCommand } from './types.ts';

export function watchCommand(o: {
  child: ResultPromise;
  command: string;
  timeoutMs: number;
  kill: () => unknown;
  /** The command's exit status and stderr from the process result; may throw (ssh's own failures). */
  outcome: (r: Result, timedOut: boolean) => { exitCode: number; stderr: string };
}): RunningCommand {
  const started = Date.now();
  registerGroup(o.child.pid);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void o.kill();
  }, o.timeoutMs);
  const done = o.child.then((r) => {
    clearTimeout(timer);
    unregisterGroup(o.child.pid);
    return { command: o.command, ...o.outcome(r, timedOut), stdout: String(r.stdout ?? ''), durationMs: Date.now() - started, timedOut };
  });
  return {
    stdout: o.child.stdout!,
    stderr: o.child.stderr!,
    done,
    kill: async () => {
      await o.kill();
      await done.catch(() => {});
    },
  };
}
