// Zone brands run bhyve themselves, as the zone's init: the brand's init
// execs bhyve (OmniOS pkg5 src/brand/bhyve/init.c; SmartOS zhyve,
// illumos-joyent lib/brand/bhyve/zhyve.c), and when the guest reboots (bhyve
// exits 0) the kernel restarts init in place, not the zone: OmniOS's brand
// config.xml sets restartinit0 and restartinitreboot=false ("Just restart
// init, not the whole zone"), SmartOS's boot.c setup_reboot() sets
// ZONE_ATTR_INITRESTART0, and exit.c restart_init() execs the new init over
// the old process. The pid and the zone id stay the same, so neither tells a
// reboot. What does, per brand (the `generation` command):
//   - SmartOS: the zone's `init_restarts` kstat (zones:<zone id>:…, class
//     zone_misc), bumped by restart_init_notify() at each restart; SmartOS's
//     own metadata agent (smartos-live src/vm/lib/metadata/agent.js) reads a
//     change of it as a guest reboot. illumos-gate has no such kstat.
//   - OmniOS: the inode of the vm's console socket: bhyve's socket backend
//     unlinks and binds its path at every start (uart_backend.c init_sock()).
// So the watcher, a small script in the global zone, writes the exit log the
// supervisor writes elsewhere (supervisor.ts), and the Vm reads either alike:
//   - a new generation, bhyve pid or zone instance (older SmartOS rebooted
//     the whole zone, ZONE_ATTR_INITREBOOT): a reboot (0);
//   - no bhyve and the zone out of `running` for GRACE: a poweroff (1; bhyve's
//     non-zero exit halts the zone, and a guest halt looks the same);
//   - bhyve never seen: an error (4).
// It polls twice a second.
import type { Host } from './types.ts';
import { shQuote } from '../transport/quote.ts';
import { readLines, UnexpectedOutput } from './host-output.ts';
import { PIN_LOG, PIN_SCRIPT } from './vcpu-pinning.ts';

/** Polls (of 0.5 s) a zone may spend without bhyve before the watcher calls it powered off. */
export const ZONE_DOWN_POLLS = 20;

/**
 * `sh zone-watch.sh VMDIR ZONE PROCESS GENERATION` (downPolls: how many polls
 * without bhyve make a poweroff; tests shorten it): GENERATION is a shell
 * command, run with the zone id in $zid, printing what changes at every start
 * of bhyve in the zone.
 */
export const zoneWatchScript = (downPolls = ZONE_DOWN_POLLS) => `#!/bin/sh
# bhyve-smoke zone watcher: usage: zone-watch.sh VMDIR ZONE PROCESS GENERATION
dir=$1 zone=$2 proc=$3 generation=$4
echo $$ >"$dir/supervisor.pid"
stamp() { date -u +%Y-%m-%dT%H:%M:%SZ; }
last= gone= down=0 status=
while :; do
	pid=$(pgrep -z "$zone" -x "$proc" 2>/dev/null | head -n 1)
	listed=$(zoneadm -z "$zone" list -p 2>/dev/null)
	zid=$(echo "$listed" | cut -d: -f1)
	state=$(echo "$listed" | cut -d: -f3)
	if [ -n "$pid" ]; then
		seen="$zid/$pid/$(eval "$generation" 2>/dev/null)"
		[ -n "$last" ] && [ "$seen" != "$last" ] && echo "\${gone:-$(stamp)} 0" >>"$dir/exits"
		echo "$pid" >"$dir/bhyve.pid"
		# A new bhyve (or the same one restarted in place) has new vCPU threads: pinned anew (vcpu-pinning.ts).
		[ "$seen" != "$last" ] && [ -f "$dir/${PIN_SCRIPT}" ] && { sh "$dir/${PIN_SCRIPT}" "$pid" >>"$dir/${PIN_LOG}" 2>&1 & }
		last=$seen gone= down=0
	else
		[ -z "$gone" ] && gone=$(stamp)
		case $state in running | ready) down=0 ;; *) down=$((down + 1)) ;; esac
		if [ "$down" -ge ${downPolls} ]; then
			if [ -n "$last" ]; then status=1; else status=4; fi
			echo "$gone $status" >>"$dir/exits"
			break
		fi
	fi
	sleep 0.5
done
rm -f "$dir/supervisor.pid" "$dir/bhyve.pid"
`;

/** SmartOS: the zone's init restarts (kstat -p prints `zones:ID:NAME:init_restarts<TAB>N`). */
export const INIT_RESTARTS = 'kstat -p -m zones -c zone_misc -i "$zid" -s init_restarts | cut -f 2';

/** OmniOS: the inode of a socket bhyve binds anew at every start (ls -i prints `INODE PATH`). */
export const socketInode = (path: string) => `ls -i ${shQuote(path)} | awk '{ print $1 }'`;

/** Writes the watcher of a zone's bhyve (named `process`) into the vm's folder and starts it, detached as the platform detaches. */
export async function watchZone(host: Host, vmDir: string, zone: string, process: string, generation: string): Promise<void> {
  const dir = shQuote(vmDir);
  await host.exec(`cat > ${dir}/zone-watch.sh`, { doing: 'writing the zone watcher', input: zoneWatchScript() });
  await host.exec(host.platform.detach(`sh ${dir}/zone-watch.sh ${dir} ${shQuote(zone)} ${shQuote(process)} ${shQuote(generation)}`), { doing: `watching zone ${zone}` });
}

/** One zone of `zoneadm list -cp`: `zoneid:zonename:state:zonepath:uuid:brand:ip-type:debugid`, a colon in the path escaped with a backslash (zoneadm.c). */
export interface ListedZone {
  name: string;
  state: string;
  path: string;
  brand: string;
  /** The zone's debug id, stable across boots: SmartOS names the vm `SYSbhyve-<debugid>`. */
  debugId?: number;
}

export function parseZoneList(output: string, command = 'zoneadm list -cp'): ListedZone[] {
  const shape = { command, expected: 'one zone a line, `zoneid:zonename:state:zonepath:uuid:brand:ip-type[:debugid]` (zoneadm.c), the zone id a number or -, the state a word, the path absolute' };
  return readLines(output, shape, /^.*$/, (m) => {
    // Split on the colons zoneadm did not escape.
    const f = m[0].trim().split(/(?<!\\):/).map((x) => x.replace(/\\:/g, ':'));
    const fits = (f.length === 7 || f.length === 8) && /^(\d+|-)$/.test(f[0]) && f[1] !== '' && /^[a-z_]+$/.test(f[2]) && f[3].startsWith('/') && /^\d*$/.test(f[7] ?? '');
    if (!fits) throw new UnexpectedOutput(shape, output, `the line ${JSON.stringify(m[0])} is not one (${f.length} fields)`);
    return { name: f[1], state: f[2], path: f[3], brand: f[5], ...(f[7] ? { debugId: Number(f[7]) } : {}) };
  });
}
