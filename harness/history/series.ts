// Series across runs: per suite, guest, metric, dose, direction and host (or
// pool), one value per run (the mean of that run's tests, as the gate takes a
// test's), and the change points found in them: E-Divisive's for the past,
// and a fresh step in the newest runs (fresh.ts), provisional until
// E-Divisive confirms it.
import type { Better } from '../verdict/metrics.ts';
import { collectSeries, seriesId, type SeriesKey } from '../verdict/compare.ts';
import { changePoints, DEFAULT_CHANGE_POINT_PARAMETERS, type ChangePointParameters } from './e-divisive.ts';
import { DEFAULT_FRESH_PARAMETERS, freshChange, type FreshParameters } from './fresh.ts';
import type { HistoryRun } from './store.ts';

export interface RunRef {
  runId: string;
  startedAt: string;
  labels?: Record<string, string>;
  report?: string;
}

export interface HistorySeries {
  id: string;
  key: SeriesKey & { host: string };
  unit: string;
  better: Better;
  /** One a run; `build` the build its host ran (the tests' build), where the run knows it. */
  points: Array<{ run: number; value: number; build?: string }>;
  /** Where the build the series ran on changed: the first point on the new build. */
  buildChanges: Array<{ point: number; run: RunRef; from: string; to: string }>;
  changePoints: Array<{
    /** Index into points of the first value after the change. */
    point: number;
    /** The first run after the change. */
    run: RunRef;
    before: number;
    after: number;
    change: number;
    p: number;
    regression: boolean;
    /** The builds on each side of the change: the run before it and the first after (the same build twice: the change is not the build's). */
    builds?: { before: string; after: string };
    /**
     * Found by the fresh check, not E-Divisive: the newest `runs` runs are
     * worse than the stable segment before them (from point `from`, the
     * latest change point E-Divisive found, or the first run). Always the
     * latest change point, always a regression; provisional: E-Divisive
     * confirms it, or not, once enough runs follow. `p` is the one-sided
     * exact rank test's.
     */
    fresh?: { runs: number; from: number };
  }>;
}

export interface HistoryAnalysis {
  runs: RunRef[];
  series: HistorySeries[];
  parameters: ChangePointParameters;
  /** The fresh check's parameters (maxRuns 0: it was off). */
  fresh: FreshParameters;
}

export const runRef = (h: HistoryRun): RunRef => ({
  runId: h.run.runId, startedAt: h.run.startedAt,
  ...(h.run.labels ? { labels: h.run.labels } : {}), ...(h.report ? { report: h.report } : {}),
});

/**
 * A series' change points: E-Divisive's, then a fresh step in its newest runs
 * against the segment since the latest of them, if the fresh check finds one.
 */
export function seriesChangePoints(xs: readonly number[], better: Better, parameters: ChangePointParameters = DEFAULT_CHANGE_POINT_PARAMETERS, fresh: FreshParameters = DEFAULT_FRESH_PARAMETERS) {
  const past = changePoints(xs, parameters).map((c) => ({ ...c, regression: better === 'higher' ? c.change < 0 : c.change > 0 }));
  const f = freshChange(xs, past.at(-1)?.index ?? 0, better, parameters.minEffect, fresh);
  return f ? [...past, { index: f.index, before: f.before, after: f.after, change: f.change, p: f.p, regression: true, fresh: { runs: f.runs, from: f.from } }] : past;
}

/** Every series of the runs (in the order given), and its change points. */
export function analyzeHistory(runs: readonly HistoryRun[], parameters: ChangePointParameters = DEFAULT_CHANGE_POINT_PARAMETERS, fresh: FreshParameters = DEFAULT_FRESH_PARAMETERS): HistoryAnalysis {
  const refs = runs.map(runRef);
  const byId = new Map<string, Omit<HistorySeries, 'changePoints' | 'buildChanges'>>();
  runs.forEach((h, run) => {
    // A series per host: the same suite on two hosts is two histories.
    const hosts = new Map<string, typeof h.run.tests>();
    for (const t of h.run.tests) {
      const host = t.pool ?? t.host;
      hosts.set(host, [...(hosts.get(host) ?? []), t]);
    }
    for (const [host, tests] of hosts) {
      for (const c of collectSeries(tests).values()) {
        const key = { ...c.key, host };
        const id = `${seriesId(c.key)} · ${host}`;
        const s = byId.get(id) ?? { id, key, unit: c.unit, better: c.better, points: [] };
        const build = tests.find((t) => t.build)?.build;
        s.points.push({ run, value: c.values.reduce((a, b) => a + b, 0) / c.values.length, ...(build ? { build } : {}) });
        byId.set(id, s);
      }
    }
  });
  const series = [...byId.values()].sort((a, b) => a.id.localeCompare(b.id)).map((s): HistorySeries => ({
    ...s,
    buildChanges: s.points.flatMap((p, i) => {
      const from = s.points.slice(0, i).reverse().find((q) => q.build)?.build;
      return p.build && from && p.build !== from ? [{ point: i, run: refs[p.run], from, to: p.build }] : [];
    }),
    changePoints: seriesChangePoints(s.points.map((p) => p.value), s.better, parameters, fresh).map((c) => {
      const [before, after] = [s.points[c.index - 1]?.build, s.points[c.index].build];
      return {
        point: c.index, run: refs[s.points[c.index].run], before: c.before, after: c.after, change: c.change, p: c.p,
        regression: c.regression,
        ...(before && after ? { builds: { before, after } } : {}),
        ...('fresh' in c ? { fresh: c.fresh } : {}),
      };
    }),
  }));
  return { runs: refs, series, parameters, fresh };
}

/**
 * Regressions whose first run after the change is among the last `recent`
 * runs: what turns a nightly job red. A fresh step counts as any change point
 * does (its newest `runs` runs: within the last `recent` when runs ≤ recent).
 */
export function recentRegressions(a: HistoryAnalysis, recent: number) {
  const since = a.runs.length - recent;
  return a.series.flatMap((s) => {
    const last = s.changePoints.at(-1);
    return last && last.regression && s.points[last.point].run >= since ? [{ series: s, changePoint: last }] : [];
  });
}

/**
 * Warnings for a baseline older than the latest change point of a series it
 * is compared on: the host moved since, and the baseline no longer says what
 * it does today.
 */
export function staleBaselineWarnings(a: HistoryAnalysis, baseline: readonly { startedAt: string }[], compared: ReadonlySet<string>): string[] {
  const newest = baseline.map((r) => r.startedAt).sort().at(-1);
  if (!newest) return [];
  return a.series.flatMap((s) => {
    const last = s.changePoints.at(-1);
    if (!last || !compared.has(seriesId(s.key)) || last.run.startedAt <= newest) return [];
    return [`the baseline (newest run ${newest}) is older than the latest change point of ${s.id}: ${last.change >= 0 ? '+' : ''}${(last.change * 100).toFixed(1)}% from run ${last.run.runId} (${last.run.startedAt})`];
  });
}
