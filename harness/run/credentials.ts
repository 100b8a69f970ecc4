// Guest passwords come from the environment variable the config names, never
// from the config itself. The lab guest's, when unset, is the lab's own
// (fixtures/lab/lab.json): a throwaway guest on this machine.
import type { GuestConfig } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import type { FramebufferSettings } from '../platform/types.ts';
import { loadLabConfig } from '../../fixtures/lab/lib/config.mjs';

export function resolvePassword(guestName: string, guest: GuestConfig): string {
  if (guest.access === 'ssh') return ''; // a key on the host, no password
  const value = process.env[guest.credentials.passwordEnv ?? ''];
  if (value !== undefined && value !== '') return value;
  if (guest.image.bootrom.startsWith('@lab/')) return loadLabConfig().guest.rootPassword;
  throw new ConfigError(`guests.${guestName}.credentials.passwordEnv: the environment variable ${guest.credentials.passwordEnv} is not set`);
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

/**
 * The secrets one vm handles (its guest and VNC passwords), masked in all the
 * harness writes down. A guest can echo its password: a login that reads it
 * before turning the terminal's echo off puts it on the serial console.
 */
export class Secrets {
  static readonly MASK = '********';
  private readonly values: string[];

  constructor(values: Iterable<string | undefined>) {
    const found = new Set<string>();
    for (const value of values) {
      if (!value) continue;
      found.add(value);
      // The console is read as latin1: a password outside ASCII shows there as its UTF-8 bytes.
      found.add(Buffer.from(value, 'utf8').toString('latin1'));
    }
    // Longest first: a password that contains another is masked whole.
    this.values = [...found].sort((a, b) => b.length - a.length);
  }

  /** The longest secret's length: how far a cut of text can reach into one. */
  get longest(): number {
    return this.values[0]?.length ?? 0;
  }

  mask(text: string): string {
    let masked = text;
    for (const value of this.values) masked = masked.replaceAll(value, Secrets.MASK);
    return masked;
  }

  /** A copy of a plain value (a result, say) with every string in it masked. */
  maskDeep<T>(value: T): T {
    if (this.values.length === 0) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.mask(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
      return v;
    };
    return walk(value) as T;
  }
}
