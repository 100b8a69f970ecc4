// Merging shards: the results of several runs of one plan become one
// results.json (and from it one JUnit), as if one run had done them all. A
// test found in two inputs is a usage error: the merged report would lie about
// what ran. A shard set with a gap (a CI job lost, its artifact never
// uploaded) still makes the night's report: each missing shard is named, as
// an error test of its own, so the merge exits non-zero and JUnit shows it.
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ConfigError } from '../errors.ts';
import { exitCodeOf, type HostSummary, type RunResult, type TestResult } from './results.ts';
import { buildId } from '../host-life/build.ts';

export function mergeRuns(inputs: Array<{ source: string; run: RunResult }>): RunResult {
  if (inputs.length === 0) throw new ConfigError('merge: no results to merge');
  const seen = new Map<string, string>();
  for (const { source, run } of inputs) {
    for (const t of run.tests) {
      const other = seen.get(t.id);
      if (other) throw new ConfigError(`merge: test ${t.id} is in both ${other} and ${source}: these are not shards of one plan (or one was given twice)`);
      seen.set(t.id, source);
    }
  }
  const shards = inputs.filter((i) => i.run.shard);
  let missing: Array<{ index: number; total: number }> = [];
  if (shards.length) {
    const totals = new Set(shards.map((i) => i.run.shard!.total));
    if (totals.size > 1 || shards.length !== inputs.length) {
      throw new ConfigError(`merge: the inputs come from different shardings (${inputs.map((i) => `${i.source}: ${i.run.shard ? `${i.run.shard.index}/${i.run.shard.total}` : 'not sharded'}`).join(', ')})`);
    }
    const total = [...totals][0];
    const indexes = new Set(shards.map((i) => i.run.shard!.index));
    const absent = Array.from({ length: total }, (_, i) => i + 1).filter((i) => !indexes.has(i));
    missing = absent.map((index) => ({ index, total }));
  }
  const runs = inputs.map((i) => i.run);
  const hosts = new Map<string, HostSummary>();
  for (const r of runs) {
    for (const h of r.hosts) {
      const seen = hosts.get(h.name);
      if (!seen) hosts.set(h.name, h);
      else {
        // A host whose build changed between the inputs (the boots of a gate): every build it ran.
        const known = seen.builds ?? (seen.build ? [seen.build] : []);
        if (h.build && !known.some((b) => buildId(b) === buildId(h.build!))) hosts.set(h.name, { ...seen, builds: [...known, h.build] });
      }
    }
  }
  const startedAt = runs.map((r) => r.startedAt).sort()[0];
  const finishedAt = runs.map((r) => r.finishedAt).sort().at(-1)!;
  const interrupted = runs.filter((r) => r.interrupted).map((r) => `${r.runId}: ${r.interrupted}`);
  const tests = [
    ...inputs.flatMap(({ source, run }) => run.tests.map((t) => withAttachmentsAt(t, dirname(source)))).sort(byIdThenRepeat),
    ...missing.map((m) => missingShardResult(m, startedAt)),
  ];
  const interruptedBy = runs.find((r) => r.exitCode === 130 || r.exitCode === 143);
  const configs = [...new Set(runs.map((r) => r.config))];
  const profiles = [...new Set(runs.map((r) => r.profile).filter(Boolean))];
  const failOn = { skip: runs.some((r) => r.failOn?.skip), flaky: runs.some((r) => r.failOn?.flaky) };
  return {
    version: 1,
    runId: runs.map((r) => r.runId).join('+'),
    config: configs.join(', '),
    ...(profiles.length ? { profile: profiles.join(', ') } : {}),
    startedAt,
    finishedAt,
    durationMs: Date.parse(finishedAt) - Date.parse(startedAt),
    ...(interrupted.length ? { interrupted: interrupted.join('; ') } : {}),
    hosts: [...hosts.values()],
    ...(labelsOf(runs) ? { labels: labelsOf(runs) } : {}),
    merged: inputs.map(({ source, run }) => ({ runId: run.runId, source, ...(run.shard ? { shard: run.shard } : {}) })),
    ...(missing.length ? { missingShards: missing } : {}),
    ...(failOn.skip || failOn.flaky ? { failOn } : {}),
    tests,
    exitCode: interruptedBy ? interruptedBy.exitCode : exitCodeOf(tests, undefined, failOn),
  };
}

/** suite/host/guest in order, and its repeats by number: 2 before 10, which a string sort of `id#N` gets wrong. */
function byIdThenRepeat(a: TestResult, b: TestResult): number {
  const [ia, ib] = [a.id.replace(/#\d+$/, ''), b.id.replace(/#\d+$/, '')];
  const repeat = (t: TestResult) => Number(/#(\d+)$/.exec(t.id)?.[1] ?? t.repeat);
  return ia < ib ? -1 : ia > ib ? 1 : repeat(a) - repeat(b);
}

/**
 * A shard's evidence where it is now: a run writes it under OUTPUT/tests/TEST/
 * with absolute paths, and CI moves the folder (artifacts, another machine)
 * before the merge. A path that is gone is looked for at the same place
 * under the folder its results.json was read from.
 */
function withAttachmentsAt(t: TestResult, folder: string): TestResult {
  const moved = (path: string) => {
    if (existsSync(path)) return path;
    const here = join(folder, 'tests', basename(dirname(path)), basename(path));
    return existsSync(here) ? here : path;
  };
  return { ...t, attachments: t.attachments.map((a) => ({ ...a, path: moved(a.path) })) };
}

/** The labels the merged runs agree on (the shards of one nightly build carry the same). */
function labelsOf(runs: RunResult[]): Record<string, string> | undefined {
  const first = runs[0].labels ?? {};
  const agreed = Object.entries(first).filter(([k, v]) => runs.every((r) => r.labels?.[k] === v));
  return agreed.length ? Object.fromEntries(agreed) : undefined;
}

/**
 * A shard that never arrived, as an error test of its own: JUnit shows it, the
 * exit code is an infrastructure error's (3), and nothing pretends its tests passed.
 */
export function missingShardResult(m: { index: number; total: number }, at: string): TestResult {
  const message = `shard ${m.index}/${m.total} missing: no results.json of it among the inputs (its CI job lost, or its artifact never uploaded): its tests are not in this report`;
  return {
    id: `shard ${m.index}/${m.total}`, suite: MISSING_SHARD_SUITE, host: 'all', guest: `shard-${m.index}-of-${m.total}`, repeat: 0,
    status: 'error', attempt: 0, attempts: [], startedAt: at, durationMs: 0,
    checks: [{ name: `shard ${m.index}/${m.total} arrived`, status: 'error', type: 'InfraError', message, durationMs: 0 }],
    attachments: [], timeline: { samples: [], events: [] },
    error: { type: 'InfraError', message },
    reproduce: `npx bhyve-smoke run ... --shard ${m.index}/${m.total} (the shard's own command line)`,
  };
}

/** The suite name of a missing shard's error test: no suite file of its own. */
export const MISSING_SHARD_SUITE = 'merge';
