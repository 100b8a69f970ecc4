// Linux and FreeBSD guests over ssh: the same probes and commands as on their
// serial consoles, each script run by `sh -c` so the login shell's own
// language (csh for FreeBSD's root, say) does not matter.
import type { GuestAdapter } from './adapter.ts';
import type { RemoteShellAdapter } from './remote-shell.ts';
import { shQuote } from '../transport/quote.ts';
import { heartbeatLoop } from './posix-shell.ts';

export const posixRemote = (serial: GuestAdapter): RemoteShellAdapter => ({
  os: serial.os,
  remoteCommand: (script) => `sh -c ${shQuote(script)}`,
  rebootCommand: serial.rebootCommand,
  poweroffCommand: serial.poweroffCommand,
  heartbeat: (seconds) => heartbeatLoop(serial.probes.uptimeSeconds, seconds),
  probes: serial.probes,
});
