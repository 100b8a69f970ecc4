// history.html: the trend page, offline like report.html (uPlot and its own
// script inlined, pinned by hash in a Content-Security-Policy, every string
// from a run escaped or carried as JSON data). Series with a change point
// first (a fresh step among them, marked fresh), each a chart of its runs
// with the change points and the segments' means; the rest folded, drawn
// when opened. Then the unstable tests, and links to each run's report where
// its folder has one.
import { join, relative } from 'node:path';
import { num } from '../report/comparison.ts';
import { htmlDocument } from '../report/html/document.ts';
import { html, trusted as raw } from '../report/html/escape.ts';
import { writeFileAtomic } from '../report/results.ts';
import { pct } from '../verdict/compare.ts';
import { describeChange, describeMethod, describeRun } from './output.ts';
import { recentRegressions, type HistoryAnalysis, type HistorySeries } from './series.ts';
import type { TestHistory } from './tests.ts';

/** A chart's data: x = run number, y = value, and the segments' means between change points. */
function chartData(s: HistorySeries) {
  const bounds = [0, ...s.changePoints.map((c) => c.point), s.points.length];
  const segments = bounds.slice(0, -1).map((from, i) => {
    const part = s.points.slice(from, bounds[i + 1]);
    return { from: part[0].run, to: part[part.length - 1].run, mean: part.reduce((a, p) => a + p.value, 0) / part.length };
  });
  return {
    title: s.id, unit: s.unit, x: s.points.map((p) => p.run + 1), y: s.points.map((p) => p.value),
    changes: s.changePoints.map((c) => ({ run: s.points[c.point].run + 1, regression: c.regression, label: `${pct(c.change)}${c.fresh ? ' fresh' : ''}`, ...(c.fresh ? { fresh: c.fresh.runs } : {}) })),
    segments: segments.map((g) => ({ from: g.from + 1, to: g.to + 1, mean: g.mean })),
  };
}

export function buildHistoryHtml(a: HistoryAnalysis, tests: TestHistory[], recent: number, dir: string): string {
  const ordered = [...a.series].sort((x, y) => Number(y.changePoints.length > 0) - Number(x.changePoints.length > 0));
  const charts = Object.fromEntries(ordered.map((s, i) => [`s${i}`, chartData(s)]));
  const red = recentRegressions(a, recent);
  const fresh = red.filter((r) => r.changePoint.fresh).length;
  const unstable = tests.filter((t) => t.instability > 0 || t.failed > 0);
  return htmlDocument({
    title: 'bhyve-smoke history',
    client: join(import.meta.dirname, 'trend-client.js'),
    imgSrc: 'data:',
    data: { charts },
    body: html`<header><h1>bhyve-smoke history</h1><p class="muted">${a.runs.length} runs from ${a.runs[0] ? describeRun(a.runs[0]) : '-'} to ${a.runs.at(-1) ? describeRun(a.runs.at(-1)!) : '-'}; ${a.series.length} series; ${describeMethod(a)}</p></header>
<div class="verdict ${red.length ? 'failed' : 'passed'}" data-verdict="${red.length ? 'failed' : 'passed'}"><strong>${red.length ? 'REGRESSED' : 'STEADY'}</strong><span>${red.length ? `${red.length} series regressed within the last ${recent} runs${fresh ? ` (${fresh} a fresh step, provisional)` : ''}` : `no regression within the last ${recent} runs`}</span></div>
<h2>Series</h2>
${ordered.map((s, i) => html`<details class="series" ${s.changePoints.length ? raw('open') : ''} data-series="${s.id}">
<summary><strong>${s.id}</strong> <span class="muted">${s.points.length} runs, last ${num(s.points.at(-1)!.value)} ${s.unit}</span>${s.changePoints.map((c) => html` <span class="badge ${c.regression ? 'regressed' : 'ok'}"${c.fresh ? raw(' data-fresh') : ''}>${c.regression ? 'regression' : 'improvement'} ${pct(c.change)}${c.fresh ? ' (fresh)' : ''}</span>`)}</summary>
${s.changePoints.length || s.buildChanges.length ? html`<ul>${s.changePoints.map((c) => html`<li${c.fresh ? raw(' data-fresh') : ''}>${c.regression ? 'regression' : 'improvement'}: ${describeChange(s, c)}</li>`)}${s.buildChanges.map((b) => html`<li data-build-change="${b.run.runId}">build changed at run ${describeRun(b.run)}: ${b.from} → ${b.to}</li>`)}</ul>` : ''}
<div class="trend" data-chart="s${i}"></div>
</details>`)}
<h2>Unstable and failing tests</h2>
${unstable.length ? html`<table class="tests"><thead><tr><th>test</th><th>runs, oldest first</th><th>failed</th><th>flaky</th><th>flip rate</th><th>failing since</th><th>known</th></tr></thead><tbody>
${unstable.map((t) => html`<tr data-test="${t.test}"><td>${t.test}</td><td class="mono">${t.outcomes.map((o) => (o === null ? '·' : o === 'passed' ? '✔' : o === 'flaky' ? '~' : o === 'skipped' ? '-' : '✘'))}</td><td class="num">${t.failed}/${t.runs}</td><td class="num">${t.flaky}</td><td class="num">${t.flipRate.toFixed(2)}</td><td>${t.failingSince ? describeRun(t.failingSince) : ''}</td><td>${t.known.join(', ')}</td></tr>`)}
</tbody></table>` : html`<p class="muted">Every test passed in every run.</p>`}
<h2>Runs</h2>
<ol class="runs">${a.runs.map((r) => html`<li>${r.report ? html`<a href="${relative(dir, r.report).split('/').map(encodeURIComponent).join('/')}">${describeRun(r)}</a>` : describeRun(r)}</li>`)}</ol>
<footer class="muted"><p>Written by <code>bhyve-smoke history</code>.</p></footer>`,
  });
}

export const writeHistoryHtml = (path: string, a: HistoryAnalysis, tests: TestHistory[], recent: number, dir: string): void =>
  writeFileAtomic(path, buildHistoryHtml(a, tests, recent, dir));
