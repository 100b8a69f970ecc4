// Linux guests on a serial console: getty's login, a POSIX shell.
import type { GuestAdapter } from './adapter.ts';
import { frameShellCommand, shellHeartbeat } from './posix-shell.ts';

const UPTIME = "cut -d' ' -f1 /proc/uptime";

export const linuxAdapter: GuestAdapter = {
  os: 'linux',
  loginPrompt: /login: $/m,
  passwordPrompt: /[Pp]assword: ?$/m,
  // busybox ash follows its prompt with a cursor-position query (ESC [6n).
  shellPrompt: /[#$] (\x1b\[6n)?$/,
  // No line editing surprises: a plain prompt, no history, wide lines.
  shellSetup: "PS1='# '; export PS1; stty cols 500 2>/dev/null; unset HISTFILE\n",
  frame: frameShellCommand,
  rebootCommand: 'reboot',
  poweroffCommand: 'poweroff',
  heartbeat: shellHeartbeat(UPTIME, '/dev/ttyS0'),
  probes: {
    kernel: 'uname -sr',
    uptimeSeconds: UPTIME,
    interfaces: 'for i in /sys/class/net/*; do n=${i##*/}; [ "$n" = lo ] || echo "$n $(cat "$i/operstate")"; done',
    diskRead: 'dd if=/dev/vda bs=4096 count=1 2>/dev/null | wc -c',
    ipv4: "ip -o -4 addr show scope global | awk '{ split($4, a, \"/\"); print a[1]; exit }'",
  },
};
