// Rebooting a host and waiting for it: the platform's reboot, started
// detached (the host goes down under the command, and the ssh session with
// it); then the host must stop being the boot it was — its boot id
// unreadable, or another — and answer again with a new boot id, each within
// a bound. The wait says where it is on a status line as it goes.
import { setTimeout as sleep } from 'node:timers/promises';
import { InfraError } from '../errors.ts';
import { formatDuration } from '../duration.ts';
import type { Host } from '../host.ts';
import { readBootId, tryBootId } from './boot-id.ts';

/** How often the boot id is asked for while the host is away. */
const POLL_MS = 1_000;

export interface RebootBounds {
  /** The reboot must have taken the host down (or given it a new boot) within this. */
  downWithinMs: number;
  /** ... and the host must answer with a new boot id within this, counted from the reboot. */
  upWithinMs: number;
}

export interface Rebooted {
  before: string;
  after: string;
  /** From the reboot command to the first sign the boot was over; to the new boot's answer. */
  downMs: number;
  upMs: number;
}

/** Reboots the host and waits for its next boot to answer; an InfraError saying what it saw when it does not. */
export async function rebootHost(host: Host, bounds: RebootBounds, status: (line: string) => void = () => {}): Promise<Rebooted> {
  const before = await readBootId(host, `reading the boot id of ${host.name} before its reboot`);
  const started = Date.now();
  // The command returns at once (it starts the reboot detached); a session cut by the reboot under it is no failure either.
  await host.exec(host.platform.reboot, { doing: `rebooting ${host.name}`, timeoutMs: 30_000, check: false }).catch(() => {});
  let downMs: number | undefined;
  let last = `boot id ${before}, at ${new Date(started).toISOString()}`;
  for (;;) {
    const elapsed = Date.now() - started;
    const now = await tryBootId(host, `waiting for ${host.name} to come back`);
    if ('id' in now && now.id !== before) {
      status(`host ${host.name} is back, a new boot (${formatDuration(Date.now() - started)} after the reboot)`);
      return { before, after: now.id, downMs: downMs ?? Date.now() - started, upMs: Date.now() - started };
    }
    if ('id' in now) last = `boot id ${now.id} (the old boot), at ${new Date().toISOString()}`;
    if ('problem' in now && downMs === undefined) downMs = elapsed;
    if (downMs === undefined && elapsed > bounds.downWithinMs) {
      throw new InfraError(`host ${host.name} did not go down within ${formatDuration(bounds.downWithinMs)} of \`${host.platform.reboot}\`: it still answers with boot id ${before}`);
    }
    if (elapsed > bounds.upWithinMs) {
      throw new InfraError(`host ${host.name} did not come back within ${formatDuration(bounds.upWithinMs)} of its reboot; the last it answered: ${last}${'problem' in now ? `; now: ${now.problem}` : ''}`);
    }
    status(`host ${host.name} rebooting: ${downMs === undefined ? 'still up' : `down since ${formatDuration(downMs)}`}, ${formatDuration(elapsed)} of at most ${formatDuration(bounds.upWithinMs)}`);
    await sleep(POLL_MS);
  }
}

/**
 * Waits until the host answers with a boot id (a host still booting after a
 * failed wait, or after a panic): the id, or an InfraError naming the last it
 * answered.
 */
export async function waitUntilUp(host: Host, withinMs: number, status: (line: string) => void = () => {}): Promise<string> {
  const started = Date.now();
  for (;;) {
    const now = await tryBootId(host, `waiting for ${host.name} to answer`);
    if ('id' in now) return now.id;
    if (Date.now() - started > withinMs) throw new InfraError(`host ${host.name} has not answered for ${formatDuration(Date.now() - started)}: ${now.problem}`);
    status(`waiting for host ${host.name} to answer: ${formatDuration(Date.now() - started)} of at most ${formatDuration(withinMs)}`);
    await sleep(POLL_MS);
  }
}
