// The host-side supervisor of one vm: a few lines of POSIX sh that run bhyve,
// restart it when the guest reboots (exit 0) and stop on poweroff (1), halt
// (2), triple fault (3) or error (4). It runs detached from the ssh session, so
// a vm survives the harness's connections; every exit is logged with its time.
export const SUPERVISOR_SH = `#!/bin/sh
# bhyve-smoke supervisor: usage: supervise.sh VMDIR bhyve ARGS... VMNAME
dir=$1
shift
echo $$ >"$dir/supervisor.pid"
while :; do
	"$@" </dev/null >>"$dir/bhyve.log" 2>&1 &
	echo $! >"$dir/bhyve.pid"
	wait $!
	rc=$?
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $rc" >>"$dir/exits"
	[ "$rc" -eq 0 ] || break
done
rm -f "$dir/supervisor.pid" "$dir/bhyve.pid"
`;

/** Parses the supervisor's exit log: one `ISO-TIME STATUS` line per bhyve exit. */
export function parseExits(text: string): Array<{ at: string; status: number }> {
  return text
    .split('\n')
    .map((line) => /^(\S+) (\d+)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ at: m[1], status: Number(m[2]) }));
}
