// Shards: `--shard i/n` runs the i-th of n deterministic parts of the plan, so
// n CI jobs cover it exactly once between them. With durations from earlier
// results the parts are balanced by time (longest first, each to the part with
// the least so far); without, every test weighs the same.
import { ConfigError } from '../errors.ts';
import type { RunResult } from '../report/results.ts';

export interface Shard {
  index: number;
  total: number;
}

export function parseShard(value: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(value);
  if (!m) throw new ConfigError(`--shard: expected INDEX/TOTAL such as 1/3, got ${JSON.stringify(value)}`);
  const [index, total] = [Number(m[1]), Number(m[2])];
  if (total < 1) throw new ConfigError(`--shard ${value}: the total must be at least 1`);
  if (index < 1 || index > total) throw new ConfigError(`--shard ${value}: the index must be between 1 and ${total}`);
  return { index, total };
}

/** Mean duration per test id, from earlier runs' results (skipped tests took no time to speak of). */
export function durationsOf(runs: readonly RunResult[]): Map<string, number> {
  const all = new Map<string, number[]>();
  for (const r of runs) for (const t of r.tests) if (t.status !== 'skipped') all.set(t.id, [...(all.get(t.id) ?? []), t.durationMs]);
  return new Map([...all].map(([id, ds]) => [id, ds.reduce((a, b) => a + b, 0) / ds.length]));
}

/**
 * The tests of one shard, in plan order. Deterministic for a given plan and
 * durations: ties are broken by id, unknown tests weigh the median known
 * duration (or 1 when nothing is known).
 */
export function shardOf<T extends { id: string; skip?: string }>(tests: readonly T[], shard: Shard, durations = new Map<string, number>()): T[] {
  const known = [...durations.values()].sort((a, b) => a - b);
  const typical = known.length ? known[Math.floor(known.length / 2)] : 1;
  const weight = (t: T) => (t.skip ? 0 : durations.get(t.id) ?? typical);
  const order = [...tests].sort((a, b) => weight(b) - weight(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const loads = Array.from({ length: shard.total }, () => 0);
  const mine = new Set<string>();
  for (const t of order) {
    let least = 0;
    for (let i = 1; i < loads.length; i++) if (loads[i] < loads[least]) least = i;
    loads[least] += weight(t);
    if (least === shard.index - 1) mine.add(t.id);
  }
  return tests.filter((t) => mine.has(t.id));
}
