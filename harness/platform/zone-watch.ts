// Zone brands run bhyve themselves: the brand's init starts it, starts it
// again when the guest reboots (bhyve exits 0), and the zone halts when the
// guest powers off. The harness cannot see bhyve's exit status there, so a
// small watcher in the global zone turns what it can see into the same exit
// log the supervisor writes (supervisor.ts), and the Vm reads either alike:
//   - a new bhyve process, or a new zone instance (a new zone id): a reboot
//     (0). OmniOS's brand makes bhyve the zone's init with restartinit off
//     (omniosorg/pkg5 src/brand/bhyve/init.c, config.xml), SmartOS's zhyve
//     likewise, so a guest reboot ends the init and the zone boots a new one;
//   - no bhyve and the zone out of `running` for GRACE: a poweroff (1; a
//     guest halt looks the same from outside);
//   - bhyve never seen: an error (4).
// It polls twice a second; SmartOS may reboot the whole zone on a guest
// reboot, passing through `installed` for a moment, hence the grace.
import type { Host } from '../host.ts';
import { shQuote } from '../transport/quote.ts';

/** Polls (of 0.5 s) a zone may spend without bhyve before the watcher calls it powered off. */
export const ZONE_DOWN_POLLS = 20;

export const ZONE_WATCH_SH = `#!/bin/sh
# bhyve-smoke zone watcher: usage: zone-watch.sh VMDIR ZONE PROCESS
dir=$1 zone=$2 proc=$3
echo $$ >"$dir/supervisor.pid"
stamp() { date -u +%Y-%m-%dT%H:%M:%SZ; }
last= gone= down=0 status=
while :; do
	pid=$(pgrep -z "$zone" -x "$proc" 2>/dev/null | head -n 1)
	listed=$(zoneadm -z "$zone" list -p 2>/dev/null)
	state=$(echo "$listed" | cut -d: -f3)
	if [ -n "$pid" ]; then
		seen="$(echo "$listed" | cut -d: -f1)/$pid"
		[ -n "$last" ] && [ "$seen" != "$last" ] && echo "\${gone:-$(stamp)} 0" >>"$dir/exits"
		echo "$pid" >"$dir/bhyve.pid"
		last=$seen gone= down=0
	else
		[ -z "$gone" ] && gone=$(stamp)
		case $state in running | ready) down=0 ;; *) down=$((down + 1)) ;; esac
		if [ "$down" -ge ${ZONE_DOWN_POLLS} ]; then
			if [ -n "$last" ]; then status=1; else status=4; fi
			echo "$gone $status" >>"$dir/exits"
			break
		fi
	fi
	sleep 0.5
done
rm -f "$dir/supervisor.pid" "$dir/bhyve.pid"
`;

/** Writes the watcher of a zone's bhyve (named `process`) into the vm's folder and starts it, detached as the platform detaches. */
export async function watchZone(host: Host, vmDir: string, zone: string, process: string): Promise<void> {
  const dir = shQuote(vmDir);
  await host.exec(`cat > ${dir}/zone-watch.sh`, { doing: 'writing the zone watcher', input: ZONE_WATCH_SH });
  await host.exec(host.platform.detach(`sh ${dir}/zone-watch.sh ${dir} ${shQuote(zone)} ${shQuote(process)}`), { doing: `watching zone ${zone}` });
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

export function parseZoneList(output: string): ListedZone[] {
  return output.split('\n').filter((l) => l.trim()).flatMap((line) => {
    // Split on the colons zoneadm did not escape.
    const f = line.trim().split(/(?<!\\):/).map((x) => x.replace(/\\:/g, ':'));
    if (f.length < 7) return [];
    return [{ name: f[1], state: f[2], path: f[3], brand: f[5], ...(/^\d+$/.test(f[7] ?? '') ? { debugId: Number(f[7]) } : {}) }];
  });
}
