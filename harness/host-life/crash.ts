// A crash's record, read with the platform's own tools once the host is back
// (platform crash: FMA and savecore on illumos, /var/crash on FreeBSD). The
// records on the host when the run began are known; one that appears after a
// death is that death's. Savecore may still be saving the dump when the host
// answers again (and fmd solves the case only after it), so the record is
// waited for, within a bound.
import { setTimeout as sleep } from 'node:timers/promises';
import { InfraError, messageOf } from '../errors.ts';
import type { Host } from '../host.ts';
import type { CrashReading } from '../platform/types.ts';

export interface CrashEvidence {
  /** The record's id (the FMA case uuid, FreeBSD's N) and what it says, when one was found and read. */
  record?: string;
  reading?: CrashReading;
  /** The raw outputs, each an evidence file. */
  files: Array<{ name: string; content: string }>;
  /** Why there is no reading: no record appeared, or it could not be read. */
  missing?: string;
}

const TIMEOUT_MS = 120_000;

/** The ids of the crash records on the host now; an InfraError when the listing fails (never an empty list). */
export async function crashRecords(host: Host): Promise<string[]> {
  const recipe = host.platform.crash;
  if (!recipe) return [];
  const r = await host.exec(recipe.records.command, { doing: `listing the crash records on ${host.name}`, timeoutMs: TIMEOUT_MS });
  return recipe.records.parse(r.stdout);
}

/**
 * The record a death left: the first one not among `known`, waited for up to
 * `waitMs` (polling every `everyMs`), then read. Never throws for what the
 * host says: a record that cannot be found or read is `missing`, with why.
 */
export async function readCrash(host: Host, known: readonly string[], o: { waitMs: number; everyMs?: number }): Promise<CrashEvidence> {
  const recipe = host.platform.crash;
  if (!recipe) return { files: [], missing: `the ${host.platform.kind} platform has no crash records to read` };
  const until = Date.now() + o.waitMs;
  let id: string | undefined;
  let lastProblem = '';
  for (;;) {
    try {
      id = (await crashRecords(host)).find((r) => !known.includes(r));
      lastProblem = '';
    } catch (e) {
      lastProblem = messageOf(e).split('\n')[0];
    }
    if (id || Date.now() >= until) break;
    await sleep(Math.min(o.everyMs ?? 5_000, Math.max(0, until - Date.now())));
  }
  if (!id) {
    return { files: [], missing: lastProblem ? `the crash records could not be listed: ${lastProblem}` : `no new crash record in ${recipe.source} within ${Math.round(o.waitMs / 1000)} s (a reset or power cycle leaves none; savecore may still be saving the dump)` };
  }
  const how = recipe.read(id);
  const files: CrashEvidence['files'] = [];
  const run = async (f: { name: string; command: string }) => {
    try {
      const r = await host.exec(f.command, { doing: `reading crash record ${id} on ${host.name}`, timeoutMs: TIMEOUT_MS });
      files.push({ name: f.name, content: r.stdout });
      return r.stdout;
    } catch (e) {
      files.push({ name: f.name, content: `${messageOf(e)}\n${e instanceof InfraError && e.details.output ? e.details.output : ''}` });
      throw e;
    }
  };
  let reading: CrashReading;
  try {
    reading = how.parse(await Promise.all(how.files.map(run)));
  } catch (e) {
    return { record: id, files, missing: `crash record ${id} could not be read: ${messageOf(e).split('\n')[0]}` };
  }
  // mdb on a saved dump: evidence, but its failure takes nothing from the record.
  for (const f of how.more?.(reading) ?? []) await run(f).catch(() => {});
  return { record: id, reading, files };
}

/** The crash in one line: the panic and the first vmm or viona frame. */
export const crashLine = (r: CrashReading): string =>
  `${r.panic ? `panic: ${r.panic}` : 'a crash record without a panic string'}${r.frame ? ` — in ${r.frame}` : r.stack.length ? ` — no vmm or viona frame in its stack (top: ${r.stack[0]})` : ''}`;
