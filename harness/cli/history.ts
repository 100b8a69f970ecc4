// bhyve-smoke history PATH...: the runs of a store (run --history DIR) or of
// results.json files and folders, in order; per series its change points
// (E-Divisive's, and a fresh step in the newest runs), per test its
// instability; red when a series regressed within the last runs.
import { join, resolve } from 'node:path';
import { ConfigError, EXIT } from '../errors.ts';
import { DEFAULT_CHANGE_POINT_PARAMETERS, type ChangePointParameters } from '../history/e-divisive.ts';
import { DEFAULT_FRESH_PARAMETERS, type FreshParameters } from '../history/fresh.ts';
import { buildHistoryJunit, describeRun, formatHistory, formatTests, historyCsv } from '../history/output.ts';
import { writeHistoryHtml } from '../history/page.ts';
import { analyzeHistory, recentRegressions } from '../history/series.ts';
import { addToHistory, orderRuns, readHistory, type HistoryRun } from '../history/store.ts';
import { testHistories } from '../history/tests.ts';
import { writeFileAtomic, type RunResult } from '../report/results.ts';
import type { Command } from './command.ts';
import { intOption } from './context.ts';
import { fractionOption } from './gate-options.ts';

export const HISTORY_METHOD_OPTIONS = {
  'p-value': { type: 'string', help: `significance of the two-sided Mann–Whitney (rank) test that keeps an E-Divisive change point (default ${DEFAULT_CHANGE_POINT_PARAMETERS.pValue})` },
  'min-effect': { type: 'string', help: `smallest relative change of the median that counts, for E-Divisive and the fresh check, e.g. 0.05 (default ${DEFAULT_CHANGE_POINT_PARAMETERS.minEffect})` },
  'min-segment': { type: 'string', help: `fewest runs either side of an E-Divisive change point (default ${DEFAULT_CHANGE_POINT_PARAMETERS.minSegment}; a fresh step needs none after it)` },
  fresh: { type: 'string', help: `test the newest 1..K runs against the stable runs before them (since the latest change point, at least ${DEFAULT_FRESH_PARAMETERS.minReference}) for a fresh step in the worse direction, reported as a provisional change point (default ${DEFAULT_FRESH_PARAMETERS.maxRuns}; 0: off)` },
  'fresh-p-value': { type: 'string', help: `significance of the fresh check's one-sided exact Mann–Whitney test, each k of 1..K held to it (default ${DEFAULT_FRESH_PARAMETERS.pValue})` },
  'order-by': { type: 'string', help: 'order runs by start (default) or by the value of a label, numbers as numbers (--label build=… on run or merge); runs without it are left out, and said' },
} as const;

export function methodOf(values: Record<string, string | boolean | undefined>): ChangePointParameters {
  const d = DEFAULT_CHANGE_POINT_PARAMETERS;
  return {
    pValue: fractionOption(values['p-value'] as string | undefined, '--p-value') ?? d.pValue,
    minEffect: fractionOption(values['min-effect'] as string | undefined, '--min-effect') ?? d.minEffect,
    minSegment: intOption(values['min-segment'] as string | undefined, '--min-segment', 2) ?? d.minSegment,
  };
}

/** The fresh check's parameters from --fresh and --fresh-p-value. */
export function freshOf(values: Record<string, string | boolean | undefined>): FreshParameters {
  const d = DEFAULT_FRESH_PARAMETERS;
  return {
    ...d,
    maxRuns: intOption(values.fresh as string | undefined, '--fresh', 0) ?? d.maxRuns,
    pValue: fractionOption(values['fresh-p-value'] as string | undefined, '--fresh-p-value') ?? d.pValue,
  };
}

/** The runs at the paths, in order; what could not be read is said on stderr, never dropped in silence. */
export function loadHistory(paths: readonly string[], orderBy: string | undefined): HistoryRun[] {
  const read = readHistory(paths);
  const ordered = orderRuns(read.runs, orderBy);
  for (const s of [...read.skipped, ...ordered.skipped]) process.stderr.write(`bhyve-smoke history: skipped ${s.path}: ${s.reason}\n`);
  return ordered.runs;
}

export const historyCommand: Command = {
  name: 'history',
  summary: 'trends across runs: change points per series (and a fresh step in the newest runs), flaky and failing tests, a trend page',
  usage: 'bhyve-smoke history PATH... [options]   (a store made by run --history, results.json files or folders)',
  options: {
    ...HISTORY_METHOD_OPTIONS,
    recent: { type: 'string', help: 'exit 1 when the latest change point of a series (E-Divisive\'s or a fresh step) is a regression from one of the last K runs (default 5)' },
    tests: { type: 'boolean', help: 'print the tests ranked by instability (flips between passing and failing, flaky runs) instead of the series; the exit code and the files are the same' },
    csv: { type: 'string', help: 'also write the series to this file as CSV in the layout Apache Otava reads' },
    output: { type: 'string', help: 'folder for history.json, history.junit.xml and history.html (default: reports/history)' },
  },
  async run(values, positionals) {
    if (positionals.length === 0) throw new ConfigError('history: name the store (run --history DIR) or the results.json files or folders to read');
    const parameters = methodOf(values);
    const fresh = freshOf(values);
    const recent = intOption(values.recent as string | undefined, '--recent', 1) ?? 5;
    const runs = loadHistory(positionals, values['order-by'] as string | undefined);
    if (runs.length === 0) throw new ConfigError(`history: no run could be read from ${positionals.join(', ')}`);
    const analysis = analyzeHistory(runs, parameters, fresh);
    const tests = testHistories(runs);
    process.stdout.write(values.tests ? formatTests(tests) : formatHistory(analysis, recent));
    const output = resolve(String(values.output ?? 'reports/history'));
    const written = [join(output, 'history.html'), join(output, 'history.json'), join(output, 'history.junit.xml')];
    writeHistoryHtml(written[0], analysis, tests, recent, output);
    writeFileAtomic(written[1], `${JSON.stringify({ ...analysis, tests }, null, 1)}\n`);
    writeFileAtomic(written[2], buildHistoryJunit(analysis, tests, recent));
    if (values.csv) {
      writeFileAtomic(resolve(String(values.csv)), historyCsv(analysis));
      written.push(resolve(String(values.csv)));
    }
    process.stdout.write(`reports: ${written.join(', ')}\n`);
    return recentRegressions(analysis, recent).length ? EXIT.checkFailed : EXIT.passed;
  },
};

/** run and merge: add the run to a store, with labels to order it by. */
export const RECORD_OPTIONS = {
  history: { type: 'string', help: 'add this run to the history store in DIR (read it with bhyve-smoke history DIR)' },
  label: { type: 'string', help: 'labels kept with the run in results.json and the store, KEY=VALUE[,KEY=VALUE] (e.g. build=1234), to order by with history --order-by KEY (run, merge and gate; the boots of a gate also carry be= and side=)' },
} as const;

export function labelsOf(values: Record<string, string | boolean | undefined>): Record<string, string> | undefined {
  if (values.label === undefined) return undefined;
  const labels: Record<string, string> = {};
  for (const part of String(values.label).split(',')) {
    const m = /^([A-Za-z][\w.-]*)=(.*)$/.exec(part.trim());
    if (!m) throw new ConfigError(`--label: expected KEY=VALUE[,KEY=VALUE], got ${JSON.stringify(part)}`);
    labels[m[1]] = m[2];
  }
  return labels;
}

/** Adds a finished run to the store --history names, and says where. */
export function recordRun(values: Record<string, string | boolean | undefined>, run: Parameters<typeof addToHistory>[1], report?: string): void {
  if (values.history === undefined) return;
  const path = addToHistory(String(values.history), run, report);
  process.stdout.write(`history: added ${run.runId} to ${path}\n`);
}

/**
 * The gate's baseline from a store: its last `last` runs, none from before
 * the latest change point of any series (a baseline from before the host
 * changed would flag the change, not the candidate; a fresh step counts,
 * provisional as it is), nor from before the
 * build last changed (a baseline is one build: series are keyed by host and
 * build). Fewer runs are used as they are, and said.
 */
export function baselineFromHistory(dir: string, last: number): RunResult[] {
  const runs = loadHistory([dir], undefined);
  if (runs.length === 0) throw new ConfigError(`--baseline-from ${dir}: the store holds no run`);
  const analysis = analyzeHistory(runs);
  const changed = Math.max(0, ...analysis.series.flatMap((s) => s.changePoints.map((c) => s.points[c.point].run)));
  const rebuilt = Math.max(0, ...analysis.series.flatMap((s) => s.buildChanges.map((b) => s.points[b.point].run)));
  const since = Math.max(changed, rebuilt);
  const from = Math.max(since, runs.length - last);
  const picked = runs.slice(from);
  const why = since > runs.length - last
    ? `, the runs since ${rebuilt >= changed ? 'the build last changed' : 'the latest change point'} (from ${describeRun(analysis.runs[since])})`
    : '';
  const builds = [...new Set(picked.flatMap((h) => h.run.tests.flatMap((t) => (t.build ? [t.build] : []))))];
  process.stdout.write(`gate: baseline from ${dir}: ${picked.length} run${picked.length === 1 ? '' : 's'}${why}${builds.length ? `; build ${builds.join(', ')}` : ''}\n`);
  return picked.map((h) => h.run);
}
