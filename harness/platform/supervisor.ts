// The host-side supervisor of one vm: a few lines of POSIX sh that run bhyve,
// restart it when the guest reboots (exit 0) and stop on poweroff (1), halt
// (2), triple fault (3) or error (4). It runs detached from the ssh session, so
// a vm survives the harness's connections; every exit is logged with its time.
// Beside each bhyve it starts the vm's pin.sh, if there is one.
import { readLines } from './host-output.ts';
import { PIN_LOG, PIN_SCRIPT } from './vcpu-pinning.ts';

export const SUPERVISOR_SH = `#!/bin/sh
# bhyve-smoke supervisor: usage: supervise.sh VMDIR bhyve ARGS... VMNAME
dir=$1
shift
echo $$ >"$dir/supervisor.pid"
while :; do
	"$@" </dev/null >>"$dir/bhyve.log" 2>&1 &
	pid=$!
	echo $pid >"$dir/bhyve.pid"
	# Each bhyve's vCPU threads are new: pinned anew (platform/vcpu-pinning.ts).
	[ -f "$dir/${PIN_SCRIPT}" ] && { sh "$dir/${PIN_SCRIPT}" $pid >>"$dir/${PIN_LOG}" 2>&1 & }
	wait $pid
	rc=$?
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $rc" >>"$dir/exits"
	[ "$rc" -eq 0 ] || break
done
rm -f "$dir/supervisor.pid" "$dir/bhyve.pid"
`;

/**
 * Parses the supervisor's (or the zone watcher's) exit log: one `ISO-TIME
 * STATUS` line per bhyve exit. A last line not yet ended by its newline is
 * still being written: it is read next time.
 */
export function parseExits(text: string, logPath = 'exits'): Array<{ at: string; status: number }> {
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return readLines(complete, { command: `cat ${logPath}`, expected: 'one bhyve exit a line, `YYYY-MM-DDTHH:MM:SSZ STATUS` (the supervisor\'s and the zone watcher\'s `date -u` and exit status)' },
    /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) (\d{1,3})$/, (m) => ({ at: m[1], status: Number(m[2]) }));
}
