// Guest passwords come from the environment variable the config names, never
// from the config itself. The lab guest's, when unset, is the lab's own
// (fixtures/lab/lab.json): a throwaway guest on this machine.
import type { GuestConfig } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import type { FramebufferSettings } from '../platform/types.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_LAB_DIR } from '../platform/lab.ts';

export function resolvePassword(guestName: string, guest: GuestConfig): string {
  if (guest.access === 'ssh') return ''; // a key on the host, no password
  const value = process.env[guest.credentials.passwordEnv ?? ''];
  if (value !== undefined && value !== '') return value;
  if (guest.image.bootrom.startsWith('@lab/')) return labGuestPassword();
  throw new ConfigError(`guests.${guestName}.credentials.passwordEnv: the environment variable ${guest.credentials.passwordEnv} is not set`);
}

/**
 * The lab guest's password as the lab itself reads it (fixtures/lab/lib/config.mjs loadLabConfig()):
 * $BHYVE_LAB_PASSWORD, else lab.json's guest.rootPassword ($BHYVE_LAB_CONFIG or the lab's own), else
 * its default. Read here, not imported: the harness runs no code of the lab host's.
 */
function labGuestPassword(): string {
  if (process.env.BHYVE_LAB_PASSWORD) return process.env.BHYVE_LAB_PASSWORD;
  const file = process.env.BHYVE_LAB_CONFIG ?? join(LOCAL_LAB_DIR, 'lab.json');
  try {
    const raw = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { guest?: { rootPassword?: string } }) : {};
    return raw.guest?.rootPassword ?? 'lab-guest-secret';
  } catch (e) {
    throw new ConfigError(`${file}: cannot read the lab config: ${(e as Error).message}`);
  }
}

/** The guest's framebuffer with its VNC password (from framebuffer.passwordEnv), or undefined without one. */
export function resolveFramebuffer(guestName: string, guest: GuestConfig): FramebufferSettings | undefined {
  const fb = guest.framebuffer;
  if (!fb) return undefined;
  if (!fb.passwordEnv) return { width: fb.width, height: fb.height };
  const password = process.env[fb.passwordEnv];
  if (!password) throw new ConfigError(`guests.${guestName}.framebuffer.passwordEnv: the environment variable ${fb.passwordEnv} is not set`);
  // RFB's VNC authentication (DES) keys on 8 characters: a longer password would be cut without a word.
  if (password.length > 8) throw new ConfigError(`guests.${guestName}.framebuffer.passwordEnv: ${fb.passwordEnv} holds more than 8 characters (VNC authentication takes at most 8)`);
  if (/[,\s]/.test(password)) throw new ConfigError(`guests.${guestName}.framebuffer.passwordEnv: ${fb.passwordEnv} holds a comma or a space, which bhyve's option list cannot carry`);
  return { width: fb.width, height: fb.height, password };
}

