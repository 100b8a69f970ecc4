// FreeBSD guests on a serial console: getty's login, /bin/sh for root.
import type { GuestAdapter } from './adapter.ts';
import { frameShellCommand, shellHeartbeat } from './posix-shell.ts';

const UPTIME = "echo $(( $(date +%s) - $(sysctl -n kern.boottime | sed 's/.*sec = \\([0-9]*\\).*/\\1/') ))";

export const freebsdAdapter: GuestAdapter = {
  os: 'freebsd',
  loginPrompt: /login: $/m,
  passwordPrompt: /Password:$/m,
  shellPrompt: /[#$] $/,
  shellSetup: "PS1='# '; export PS1\n",
  frame: frameShellCommand,
  rebootCommand: 'shutdown -r now',
  poweroffCommand: 'shutdown -p now',
  heartbeat: shellHeartbeat(UPTIME, '/dev/ttyu0'),
  probes: {
    kernel: 'uname -sr',
    uptimeSeconds: UPTIME,
    interfaces: 'for n in $(ifconfig -l); do [ "$n" = lo0 ] || { ifconfig "$n" | grep -q "status: active" && echo "$n up" || echo "$n down"; }; done',
    diskRead: 'dd if=/dev/vtbd0 bs=4096 count=1 2>/dev/null | wc -c',
    ipv4: "ifconfig | awk '/inet / && $2 != \"127.0.0.1\" { print $2; exit }'",
  },
};
