// Reading results.json back (compare, merge, --durations, calibrate): a file,
// or a folder holding results.json (a run's output) or folders that do (the
// shards of one run). Anything else is a usage error naming the file and what
// is wrong with it, never a stack trace.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import type { RunResult } from './results.ts';

// What the readers rely on; the rest of a results file passes through untouched.
const testShape = z.looseObject({
  id: z.string(),
  suite: z.string(),
  host: z.string(),
  guest: z.string(),
  repeat: z.number().int().min(0),
  status: z.enum(['passed', 'failed', 'error', 'skipped', 'flaky']),
  durationMs: z.number().min(0),
  checks: z.array(z.looseObject({ name: z.string(), status: z.string() })),
  metrics: z.array(z.looseObject({ metric: z.string(), value: z.number(), unit: z.string(), better: z.enum(['higher', 'lower']), dims: z.record(z.string(), z.string()) })).optional(),
});
const runShape = z.looseObject({
  version: z.literal(1),
  runId: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  hosts: z.array(z.looseObject({ name: z.string(), platform: z.string() })),
  tests: z.array(testShape),
  exitCode: z.number().int(),
});

export function readResultsFile(path: string): RunResult {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${path}: not a readable results.json (${(e as Error).message})`);
  }
  const parsed = runShape.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`${path}: not a bhyve-smoke results.json: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return parsed.data as unknown as RunResult;
}

/** The results files a path names: the file itself, FOLDER/results.json, or FOLDER/∗/results.json. */
export function resultsFilesAt(path: string): string[] {
  if (!existsSync(path)) throw new ConfigError(`${path}: no such file or folder`);
  if (!statSync(path).isDirectory()) return [path];
  if (existsSync(join(path, 'results.json'))) return [join(path, 'results.json')];
  const nested = readdirSync(path).sort().map((d) => join(path, d, 'results.json')).filter((f) => existsSync(f));
  if (nested.length === 0) throw new ConfigError(`${path}: holds no results.json (nor do its sub-folders)`);
  return nested;
}

export const readResults = (paths: readonly string[]): RunResult[] => paths.flatMap(resultsFilesAt).map(readResultsFile);
