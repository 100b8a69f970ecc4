// What `history` writes: a table for people, history.json, JUnit (a testcase
// per series, a recent regression a <failure>; a testcase per test, a
// failing streak a <failure>), and CSV in the layout Apache Otava reads.
import { extend, newBuilder } from '../report/junit-builder.ts';
import { num } from '../report/comparison.ts';
import { pct } from '../verdict/compare.ts';
import { recentRegressions, type HistoryAnalysis, type HistorySeries, type RunRef } from './series.ts';
import type { TestHistory } from './tests.ts';

export const describeRun = (r: RunRef) => `${r.runId} (${r.startedAt.slice(0, 10)}${r.labels ? `, ${Object.entries(r.labels).map(([k, v]) => `${k}=${v}`).join(', ')}` : ''})`;

/** The builds on each side of a change point, in words: a change of build, or none (the change is not the build's). */
const describeBuilds = (b?: { before: string; after: string }) => (!b ? '' : b.before === b.after ? `; on one build (${b.before})` : `; build ${b.before} → ${b.after}`);

const describeP = (p: number) => (p < 0.0001 ? '<0.0001' : p.toFixed(4));

/**
 * A change point in a line: size, significance, the first run after it, the
 * builds on each side; a fresh one says so first, against how many runs, and
 * that it is provisional.
 */
export const describeChange = (s: HistorySeries, c: HistorySeries['changePoints'][number]) => c.fresh
  ? `fresh: the last ${c.fresh.runs} run${c.fresh.runs === 1 ? '' : 's'} against the ${c.point - c.fresh.from} before them, ${num(c.before)} → ${num(c.after)} ${s.unit} (${pct(c.change)}), one-sided p=${c.p < 0.0001 ? c.p.toExponential(1) : c.p.toFixed(4)}, from run ${describeRun(c.run)}${describeBuilds(c.builds)}; provisional until E-Divisive confirms it`
  : `${num(c.before)} → ${num(c.after)} ${s.unit} (${pct(c.change)}), p=${describeP(c.p)}, from run ${describeRun(c.run)}${describeBuilds(c.builds)}`;

/** The methods in words, for the first line of the output and the trend page. */
export const describeMethod = (a: HistoryAnalysis) =>
  `change points by E-Divisive means (Mann–Whitney p < ${a.parameters.pValue}, change ≥ ${(a.parameters.minEffect * 100).toFixed(0)}%, ≥ ${a.parameters.minSegment} runs a side)${a.fresh.maxRuns > 0
    ? `; a fresh step: the newest 1–${a.fresh.maxRuns} runs against the ≥ ${a.fresh.minReference} stable runs before them (one-sided exact Mann–Whitney p < ${a.fresh.pValue})`
    : '; no fresh check'}`;

export function formatHistory(a: HistoryAnalysis, recent: number): string {
  const out = [`${a.runs.length} runs, ${a.series.length} series; ${describeMethod(a)}`];
  const changed = a.series.filter((s) => s.changePoints.length);
  for (const s of changed) {
    out.push(`${s.id}  (${s.points.length} runs)`);
    for (const c of s.changePoints) out.push(`  ${c.regression ? 'REGRESSION ' : 'improvement'}  ${describeChange(s, c)}`);
  }
  if (!changed.length) out.push('no change point in any series');
  // Where the build changed: once per host, it is the same run for every series of the host.
  const builds = new Map<string, string>();
  for (const s of a.series) for (const b of s.buildChanges) builds.set(`${s.key.host} ${b.run.runId}`, `build changed on ${s.key.host} at run ${describeRun(b.run)}: ${b.from} → ${b.to}`);
  out.push(...builds.values());
  const red = recentRegressions(a, recent);
  const fresh = red.filter((r) => r.changePoint.fresh).length;
  out.push(red.length
    ? `verdict: FAIL — ${red.length} series regressed within the last ${recent} runs${fresh ? ` (${fresh} a fresh step, provisional)` : ''}`
    : `verdict: pass — no regression within the last ${recent} runs`);
  return `${out.join('\n')}\n`;
}

export function formatTests(tests: TestHistory[], limit = 20): string {
  const rows = tests.slice(0, limit).map((t) => [
    t.test, t.outcomes.map((o) => (o === null ? ' ' : o === 'passed' ? '.' : o === 'flaky' ? 'f' : o === 'skipped' ? 's' : o === 'error' ? 'E' : 'F')).join(''),
    `${t.failed}/${t.runs}`, String(t.flaky), t.flipRate.toFixed(2), t.failingSince ? describeRun(t.failingSince) : '', t.known.join(', '),
  ]);
  const head = ['test', 'runs (. pass, F fail, E error, f flaky, s skip)', 'failed', 'flaky', 'flip rate', 'failing since', 'known'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}

export function buildHistoryJunit(a: HistoryAnalysis, tests: TestHistory[], recent: number): string {
  const builder = newBuilder('bhyve-smoke history', 0, false);
  const red = new Set(recentRegressions(a, recent).map((r) => r.series.id));
  const series = builder.testSuite().name('history: series').time(0);
  for (const s of a.series) {
    const tc = series.testCase().className(`history.${s.key.suite}`).name(s.id).time(0);
    const lines = s.changePoints.map((c) => `${c.regression ? 'regression' : 'improvement'}: ${describeChange(s, c)}`);
    extend(tc).out = [`${s.points.length} runs`, ...lines].join('\n');
    if (red.has(s.id)) {
      const last = s.changePoints.at(-1)!;
      tc.failure(`regressed within the last ${recent} runs: ${describeChange(s, last)}`, 'PerfRegression').stacktrace(lines.join('\n'));
    }
  }
  const suite = builder.testSuite().name('history: tests').time(0);
  for (const t of tests) {
    const tc = suite.testCase().className('history.tests').name(t.test).time(0);
    extend(tc).out = `failed ${t.failed} of ${t.runs} runs, flaky ${t.flaky}, flip rate ${t.flipRate.toFixed(2)}${t.known.length ? `, known: ${t.known.join(', ')}` : ''}`;
    if (t.failingSince) tc.failure(`failing since run ${describeRun(t.failingSince)}`, 'CheckFailure').stacktrace(`outcomes, oldest first: ${t.outcomes.map((o) => o ?? '-').join(' ')}`);
  }
  return builder.build();
}

/** A column name Otava's config can list: the series id's parts, dotted. */
const column = (s: HistorySeries) => [s.key.suite, s.key.guest, s.key.metric, s.key.dose, s.key.direction, s.key.host].filter(Boolean).join('.');
const cell = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/**
 * The series as one CSV in Otava's layout (a time column, a column per
 * metric, attribute columns): time, run and one column per label, then one
 * column per series, a row per run. Otava's csv data source is pointed at it
 * with `time_column: time` and the series columns as metrics.
 */
export function historyCsv(a: HistoryAnalysis): string {
  const labels = [...new Set(a.runs.flatMap((r) => Object.keys(r.labels ?? {})))].sort();
  const cols = a.series.map(column);
  const rows = a.runs.map((r) => [r.startedAt, r.runId, ...labels.map((l) => r.labels?.[l] ?? ''), ...a.series.map(() => '')]);
  a.series.forEach((s, j) => {
    for (const p of s.points) rows[p.run][2 + labels.length + j] = String(p.value);
  });
  return `${[['time', 'run', ...labels, ...cols], ...rows].map((r) => r.map(cell).join(',')).join('\n')}\n`;
}
