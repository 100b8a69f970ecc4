// The adapter for each guest OS. Windows guests are reached over OpenSSH, not
// the serial console; that access path is not built yet, so asking for one is
// a config error rather than a silent skip.
import { ConfigError } from '../errors.ts';
import type { GuestAdapter, GuestOs } from './adapter.ts';
import { freebsdAdapter } from './freebsd.ts';
import { linuxAdapter } from './linux.ts';

export function adapterFor(os: GuestOs, guestName: string): GuestAdapter {
  switch (os) {
    case 'linux': return linuxAdapter;
    case 'freebsd': return freebsdAdapter;
    case 'windows':
      throw new ConfigError(`guests.${guestName}: windows guests need access over the guest's OpenSSH server, which this version of bhyve-smoke does not have yet`);
  }
}
