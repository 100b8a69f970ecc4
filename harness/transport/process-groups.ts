// Every long-lived local process the harness starts (ssh, console forwards,
// iperf3) runs in a process group of its own, registered here, so that exit,
// SIGINT and SIGTERM kill whole groups. execa's own cleanup does not cover
// detached children, and a grandchild holding a pipe would outlive a plain kill.

const groups = new Set<number>();

export const registerGroup = (pid: number | undefined): void => {
  if (pid) groups.add(pid);
};
export const unregisterGroup = (pid: number | undefined): void => {
  if (pid) groups.delete(pid);
};

/** Kills one group; quiet when it is already gone. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    /* gone */
  }
  groups.delete(pid);
}

export function killAllGroups(): void {
  for (const pid of [...groups]) killGroup(pid);
}

process.on('exit', killAllGroups);
