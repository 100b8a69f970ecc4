// Guest passwords come from the environment variable the config names, never
// from the config itself. The lab guest's, when unset, is the lab's own
// (fixtures/lab/lab.json): a throwaway guest on this machine.
import type { GuestConfig } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import { loadLabConfig } from '../../fixtures/lab/lib/config.mjs';

export function resolvePassword(guestName: string, guest: GuestConfig): string {
  if (guest.access === 'ssh') return ''; // a key on the host, no password
  const value = process.env[guest.credentials.passwordEnv ?? ''];
  if (value !== undefined && value !== '') return value;
  if (guest.image.bootrom.startsWith('@lab/')) return loadLabConfig().guest.rootPassword;
  throw new ConfigError(`guests.${guestName}.credentials.passwordEnv: the environment variable ${guest.credentials.passwordEnv} is not set`);
}
