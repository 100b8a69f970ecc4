// Run records: a file per live run, written before its first vm exists, naming
// the hosts it uses. A run killed with SIGKILL cannot clean up after itself;
// its record lets `clean` and the next `run` find and reap exactly its vms —
// and only its vms: ownership is the prefix plus a run id that has a record.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { HostConfig } from '../config/schema.ts';
import type { ConsoleAttach, HostOptions } from '../platform/types.ts';
import { ConfigError } from '../errors.ts';
import { writeFileAtomic, type WedgedVm } from '../report/results.ts';

export { wedgedNote, type WedgedVm } from '../report/results.ts';

export interface RunRecord {
  runId: string;
  pid: number;
  startedAt: string;
  prefix: string;
  hosts: Record<string, { config: HostConfig; runDir: string }>;
  /** Hosts the run left wedged, by name. */
  wedged?: Record<string, WedgedVm>;
  /** Vms the run kept for inspection (--keep-on-failure): a later run leaves them be; `clean` removes them. */
  kept?: KeptVm[];
}

/** A vm kept on failure, with what `console` and `evidence` need to reach it again. */
export interface KeptVm {
  vm: string;
  host: string;
  test: string;
  /** The name bhyvectl knows it by, what the host's tools call it, and its folder on the host. */
  vmm: string;
  id: string;
  dir: string;
  console: ConsoleAttach;
}

export const recordsDir = () =>
  process.env.BHYVE_SMOKE_STATE ?? join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'bhyve-smoke', 'runs');

/** 8 lower-case characters: short enough for every platform's vm-name limit. */
export const newRunId = (): string => (Date.now().toString(36).slice(-5) + randomBytes(2).toString('hex')).slice(0, 8);

export const vmNamePrefix = (prefix: string, runId: string) => `${prefix}-${runId}-`;

export function writeRecord(record: RunRecord): void {
  mkdirSync(recordsDir(), { recursive: true });
  writeFileAtomic(join(recordsDir(), `${record.runId}.json`), `${JSON.stringify(record, null, 2)}\n`);
}

export function removeRecord(runId: string): void {
  rmSync(join(recordsDir(), `${runId}.json`), { force: true });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** A record that cannot be read, kept aside (`<run>.json.corrupt`) so it is neither lost nor read again. */
export interface CorruptRecord {
  file: string;
  keptAs: string;
  problem: string;
}

/** Every readable run record there is; one that cannot be read is set aside and reported, never dropped in silence. */
function readRecords(): { records: RunRecord[]; corrupt: CorruptRecord[] } {
  const records: RunRecord[] = [];
  const corrupt: CorruptRecord[] = [];
  if (!existsSync(recordsDir())) return { records, corrupt };
  // Set aside before: still reported, until a person has found its vms and removes it.
  for (const f of readdirSync(recordsDir()).filter((name) => name.endsWith('.json.corrupt'))) {
    const keptAs = join(recordsDir(), f);
    corrupt.push({ file: keptAs.replace(/\.corrupt$/, ''), keptAs, problem: 'set aside when it was found unreadable' });
  }
  for (const f of readdirSync(recordsDir()).filter((name) => name.endsWith('.json'))) {
    const file = join(recordsDir(), f);
    try {
      const r = JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
      if (typeof r?.runId !== 'string' || typeof r.pid !== 'number' || typeof r.prefix !== 'string' || typeof r.hosts !== 'object' || r.hosts === null) {
        throw new Error('not a run record (runId, pid, prefix and hosts expected)');
      }
      records.push(r);
    } catch (e) {
      const keptAs = `${file}.corrupt`;
      renameSync(file, keptAs);
      corrupt.push({ file, keptAs, problem: (e as Error).message });
    }
  }
  return { records, corrupt };
}

/** Records of runs whose process is gone (what they left behind is ours to reap), and those that could not be read. */
export function deadRuns(): { records: RunRecord[]; corrupt: CorruptRecord[] } {
  const { records, corrupt } = readRecords();
  return { records: records.filter((r) => !alive(r.pid)), corrupt };
}

/** A kept vm by its run id or its name, with its run's record; a usage error naming what there is when none matches. */
export function findKept(runOrVm: string): { record: RunRecord; kept: KeptVm } {
  const { records } = readRecords();
  const all = records.flatMap((record) => (record.kept ?? []).map((kept) => ({ record, kept })));
  const matches = all.filter(({ record, kept }) => kept.vm === runOrVm || record.runId === runOrVm);
  if (matches.length === 1) return matches[0];
  const known = all.map(({ record, kept }) => `${kept.vm} (run ${record.runId}, ${kept.test} on ${kept.host})`).join(', ') || 'none';
  throw new ConfigError(matches.length
    ? `${runOrVm}: run ${runOrVm} kept ${matches.length} vms (${matches.map((m) => m.kept.vm).join(', ')}): name one`
    : `${runOrVm}: no kept vm of that name or run (kept vms: ${known}; a run keeps a failed vm with --keep-on-failure)`);
}

/** The record of a run by its id, or a usage error naming the runs there are. */
export function recordOf(runId: string): RunRecord {
  const { records } = readRecords();
  const r = records.find((x) => x.runId === runId);
  if (!r) throw new ConfigError(`--run ${runId}: no record of such a run in ${recordsDir()} (runs with records: ${records.map((x) => x.runId).join(', ') || 'none'})`);
  if (alive(r.pid)) throw new ConfigError(`--run ${runId}: the run is still going (pid ${r.pid}); it cleans up after itself`);
  return r;
}

/** Where a host is, whatever the config calls it: two configs naming the same machine share its wedges. */
export const hostAddress = (c: HostOptions) => `${c.transport}:${c.ssh ?? ''}:${c.platform}:${c.labDir ?? ''}`;

/** A folder on a host, by the host's address: the same path on two machines is two folders. */
export const folderAt = (c: HostOptions, path: string) => `${hostAddress(c)}:${path}`;

/** The vms earlier runs left wedged on a host (at the same address), with the run that did. */
export function wedgedOn(host: string, config: HostOptions): Array<WedgedVm & { runId: string }> {
  return readRecords().records.flatMap((r) => {
    const w = r.wedged?.[host];
    const recorded = r.hosts[host]?.config;
    return w && recorded && hostAddress(recorded) === hostAddress(config) ? [{ ...w, runId: r.runId }] : [];
  });
}
