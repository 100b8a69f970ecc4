// How the harness reaches each guest: its serial console with the OS's
// console adapter, or its OpenSSH server with the OS's remote-shell adapter.
// Windows is reached over ssh only (the config schema insists).
import type { GuestAdapter } from './adapter.ts';
import { freebsdAdapter } from './freebsd.ts';
import { linuxAdapter } from './linux.ts';
import { posixRemote } from './posix-remote.ts';
import type { GuestSshTarget, RemoteShellAdapter } from './remote-shell.ts';
import { windowsAdapter } from './windows.ts';

export type GuestAccess =
  | { kind: 'serial'; adapter: GuestAdapter }
  | { kind: 'ssh'; adapter: RemoteShellAdapter; target: GuestSshTarget };

const SERIAL: Record<'linux' | 'freebsd', GuestAdapter> = { linux: linuxAdapter, freebsd: freebsdAdapter };

/** What choosing the way in reads of a guest (the config's guests.X is one). */
export interface GuestAccessOptions {
  os: 'linux' | 'freebsd' | 'windows';
  access?: 'serial' | 'ssh';
  ssh?: Omit<GuestSshTarget, 'user'>;
  credentials: { user: string };
}

export function accessFor(guest: GuestAccessOptions): GuestAccess {
  if (guest.access === 'ssh' && guest.ssh) {
    const adapter = guest.os === 'windows' ? windowsAdapter : posixRemote(SERIAL[guest.os]);
    return { kind: 'ssh', adapter, target: { ...guest.ssh, user: guest.credentials.user } };
  }
  if (guest.os === 'windows') throw new Error('unreachable: the config schema requires ssh access for windows guests');
  return { kind: 'serial', adapter: SERIAL[guest.os] };
}
