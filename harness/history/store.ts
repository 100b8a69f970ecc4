// The history store: a folder of compact per-run records, one file per run
// (`START-RUNID.json`), each a results.json without what only one night's
// report needs (timelines, console tails, attachments). Adding is one atomic
// rename; a year of nightly runs is ~365 files that `history` reads in a
// second or two (npm run bench -- history); nothing to run, migrate or lock,
// and a record can be copied, deleted or archived by hand. (SQLite would need
// a native module, which cannot be installed here, or Node 22's node:sqlite.)
//
// `history` reads stores and what CI artifacts give alike: results.json files,
// run folders, folders of run folders. A damaged or foreign file is reported
// and skipped, never silently dropped.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import { readResultsFile } from '../report/read-results.ts';
import { writeFileAtomic, type RunResult, type TestResult } from '../report/results.ts';

export interface HistoryRun {
  /** The file it was read from. */
  source: string;
  run: RunResult;
  /** The run's report.html, when one is beside its results. */
  report?: string;
}

export interface Skipped {
  path: string;
  reason: string;
}

/** The record of a run kept in a store: its results, less what only its own report needs. */
export function compactRun(run: RunResult, report?: string): RunResult & { report?: string } {
  const tests = run.tests.map((t): TestResult => {
    const { timeline: _timeline, consoleTail: _tail, attachments: _attachments, ...rest } = t;
    return { ...rest, timeline: { samples: [], events: [] }, attachments: [], checks: t.checks.map(({ name, status, kind, type }) => ({ name, status, durationMs: 0, ...(kind ? { kind } : {}), ...(type ? { type } : {}) })) };
  });
  return { ...run, tests, ...(report ? { report } : {}) };
}

/** Adds a run to the store at `dir` (made if need be); returns the record's path. */
export function addToHistory(dir: string, run: RunResult, report?: string): string {
  const stamp = run.startedAt.replace(/[-:]/g, '').replace(/\.\d+/, '');
  const path = join(resolve(dir), `${stamp}-${run.runId.replace(/[^A-Za-z0-9_+-]/g, '_')}.json`);
  writeFileAtomic(path, `${JSON.stringify(compactRun(run, report))}\n`);
  return path;
}

/** The record files a path names: a results.json or record file, a run folder, a store, a folder of run folders. */
function filesAt(path: string): string[] {
  if (!existsSync(path)) throw new ConfigError(`history: ${path}: no such file or folder`);
  if (!statSync(path).isDirectory()) return [path];
  if (existsSync(join(path, 'results.json'))) return [join(path, 'results.json')];
  const files: string[] = [];
  for (const name of readdirSync(path).sort()) {
    const full = join(path, name);
    if (name.endsWith('.json') && statSync(full).isFile()) files.push(full);
    else if (statSync(full).isDirectory() && existsSync(join(full, 'results.json'))) files.push(join(full, 'results.json'));
  }
  return files;
}

export function readHistory(paths: readonly string[]): { runs: HistoryRun[]; skipped: Skipped[] } {
  const runs: HistoryRun[] = [];
  const skipped: Skipped[] = [];
  const seen = new Set<string>();
  for (const file of paths.flatMap(filesAt)) {
    let run: RunResult & { report?: string };
    try {
      run = readResultsFile(file);
    } catch (e) {
      skipped.push({ path: file, reason: (e as Error).message.replace(`${file}: `, '') });
      continue;
    }
    // One run reached twice (its results.json and its store record) counts once.
    if (seen.has(run.runId)) {
      skipped.push({ path: file, reason: `run ${run.runId} is already in the history` });
      continue;
    }
    seen.add(run.runId);
    const beside = join(dirname(file), 'report.html');
    const report = run.report ?? (basename(file) === 'results.json' && existsSync(beside) ? beside : undefined);
    runs.push({ source: file, run, ...(report ? { report } : {}) });
  }
  return { runs, skipped };
}

/**
 * The runs in order: by start, or by a label's value (numbers as numbers:
 * build 9 before build 10). A run without that label is skipped, and said.
 */
export function orderRuns(runs: HistoryRun[], by: string | undefined): { runs: HistoryRun[]; skipped: Skipped[] } {
  if (!by || by === 'start') return { runs: [...runs].sort((a, b) => a.run.startedAt.localeCompare(b.run.startedAt)), skipped: [] };
  const skipped = runs.filter((r) => r.run.labels?.[by] === undefined).map((r) => ({ path: r.source, reason: `run ${r.run.runId} has no label ${by}` }));
  const labelled = runs.filter((r) => r.run.labels?.[by] !== undefined);
  const collator = new Intl.Collator('en', { numeric: true });
  labelled.sort((a, b) => collator.compare(a.run.labels![by], b.run.labels![by]) || a.run.startedAt.localeCompare(b.run.startedAt));
  return { runs: labelled, skipped };
}
