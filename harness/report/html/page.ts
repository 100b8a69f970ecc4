// report.html: one self-contained page per run (and per merge or compare),
// verdict first. It opens offline from disk; its scripts are inlined and
// pinned by hash in a Content-Security-Policy, so even markup that slipped
// past escaping could not run.
import { formatDuration } from '../../duration.ts';
import { buildId } from '../../host-life/build.ts';
import type { Comparison } from '../../verdict/compare.ts';
import { summarize, writeFileAtomic, type RunResult, type TestResult } from '../results.ts';
import { compareSection } from './compare-section.ts';
import { bootsSection } from './boots-section.ts';
import { doseCurveOf, doseOverlays, type DoseCurve } from './dose-curve.ts';
import { htmlDocument } from './document.ts';
import { html, type Html } from './escape.ts';
import { STATUS_WORD, testName, testSection } from './test-section.ts';
import { chartOf, type TimelineChart } from './timeline-chart.ts';

export interface ReportInput {
  /** The run (or merged runs); absent for a comparison of two stored sets of results. */
  run?: RunResult;
  comparison?: { result: Comparison; labels: { base: string; cand: string } };
  /** The folder report.html goes in: links to evidence are relative to it. */
  dir: string;
}

/** Failing first, then as the run ordered them. */
const RANK: Record<TestResult['status'], number> = { failed: 0, error: 1, flaky: 2, passed: 3, skipped: 4 };

export function buildReportHtml({ run, comparison, dir }: ReportInput): string {
  const tests = [...(run?.tests ?? [])].map((t, i) => ({ t, anchor: `test-${i + 1}` })).sort((a, b) => RANK[a.t.status] - RANK[b.t.status]);
  const charts: Record<string, TimelineChart> = {};
  const doses: Record<string, DoseCurve> = {};
  for (const { t, anchor } of tests) {
    const c = chartOf({ startedAt: t.startedAt, durationMs: t.durationMs, timeline: t.timeline ?? { samples: [], events: [] } });
    if (c) charts[anchor] = c;
    const d = doseCurveOf(t);
    if (d) doses[anchor] = d;
  }
  const overlays = comparison ? doseOverlays(comparison.result.series) : [];
  const title = run ? `bhyve-smoke ${run.runId}` : `bhyve-smoke compare: ${comparison?.labels.cand} against ${comparison?.labels.base}`;
  return htmlDocument({
    title,
    imgSrc: "'self' data: file:",
    data: { charts, doses, overlays },
    body: html`<header><h1>${title}</h1></header>
${run ? runSummary(run, tests.map((x) => x.t), tests.map((x) => x.anchor)) : ''}
${comparison ? compareSection(comparison.result, comparison.labels, overlays) : ''}
${run ? bootsSection(run) : ''}
${run ? html`<h2>Tests</h2>${tests.map(({ t, anchor }) => testSection(t, anchor, charts[anchor], dir, doses[anchor]))}` : ''}
<footer class="muted"><p>Written by bhyve-smoke from results.json; re-render or serve it with <code>bhyve-smoke show-report</code>.</p></footer>`,
  });
}

export const writeReportHtml = (path: string, input: ReportInput): void => writeFileAtomic(path, buildReportHtml(input));

function runSummary(run: RunResult, tests: TestResult[], anchors: string[]): Html {
  const s = summarize(run.tests);
  const verdict = run.interrupted ? 'interrupted' : s.failed ? 'failed' : s.error ? 'error' : 'passed';
  const headline = { interrupted: '■ INTERRUPTED', failed: '✗ FAILED', error: '! INFRASTRUCTURE ERROR', passed: '✓ PASSED' }[verdict];
  const counts = [`${s.passed} passed`, s.failed && `${s.failed} failed`, s.error && `${s.error} errors`, s.flaky && `${s.flaky} flaky`, s.skipped && `${s.skipped} skipped`].filter(Boolean).join(' · ');
  return html`
  <div class="verdict ${verdict}" role="status" data-verdict="${verdict}"><strong>${headline}</strong><span>${s.total} tests: ${counts} · exit ${run.exitCode}${run.interrupted ? ` · ${run.interrupted}` : ''}${run.stopped ? ` · stopped: ${run.stopped.reason}, ${run.stopped.notStarted} planned tests not started` : ''}</span></div>
  <dl class="meta">
    <dt>run</dt><dd class="mono">${run.runId}${run.shard ? ` (shard ${run.shard.index}/${run.shard.total})` : ''}</dd>
    <dt>when</dt><dd>${run.startedAt} → ${run.finishedAt} (${formatDuration(run.durationMs)})</dd>
    <dt>config</dt><dd>${run.config}${run.profile ? ` · profile ${run.profile}` : ''}</dd>
    ${run.merged ? html`<dt>merged from</dt><dd>${run.merged.map((m) => `${m.source}${m.shard ? ` (shard ${m.shard.index}/${m.shard.total})` : ''}`).join(', ')}</dd>` : ''}
  </dl>
  <table class="tests">
    <thead><tr><th>verdict</th><th>test</th><th>host</th><th>guest</th><th>took</th><th>what failed</th></tr></thead>
    <tbody>${tests.map((t, i) => html`
      <tr class="${t.status}"><td><span class="badge ${t.status}">${STATUS_WORD[t.status]}</span></td>
        <td><a href="#${anchors[i]}">${testName(t)}</a></td><td>${t.host}</td><td>${t.guest}</td><td class="num">${formatDuration(t.durationMs)}</td>
        <td>${t.checks.filter((c) => c.status === 'failed' || c.status === 'error').map((c) => c.name).join('; ') || (t.status === 'failed' || t.status === 'error' ? t.error?.message.split('\n')[0] : '') || t.skipReason || ''}
          ${(t.known ?? []).map((k) => html` <span class="badge known">known: ${k.id}</span>`)}</td></tr>`)}
    </tbody>
  </table>
  <h2>Hosts</h2>
  <table class="hosts">
    <thead><tr><th>host</th><th>platform</th><th>transport</th><th>build</th><th>capabilities</th><th>fingerprint</th></tr></thead>
    <tbody>${run.hosts.map((h) => html`
      <tr class="${h.quarantined ? 'failed' : ''}"><td>${h.name}${h.quarantined ? html`<div class="missing">quarantined: ${h.quarantined}</div>` : ''}${h.wedged ? html`<div class="missing" data-wedged="${h.wedged.vm}">host wedged: needs a reboot (vm ${h.wedged.vm})</div>` : ''}</td><td>${h.platform}</td><td>${h.transport}</td>
        <td>${(h.builds ?? (h.build ? [h.build] : [])).map((b) => html`<div data-build="${buildId(b)}"><div class="mono">${b.platform}</div><div>vmm ${b.vmm.sha256.slice(0, 12)}${b.vmm.loaded ? '' : ' (not loaded)'}${b.debug ? ' · DEBUG' : ''}${b.faults ? ` · faults ${b.faults}` : ''}</div><div title="release">${b.release}</div></div>`)}${h.build ? '' : '–'}</td>
        <td>${h.capabilities ? Object.entries(h.capabilities).map(([c, f]) => html`<div class="${f.present ? '' : 'missing'}" data-capability="${c}" title="${f.detail}">${f.present ? c : html`no ${c}: ${f.detail}`}</div>`) : '–'}</td>
        <td>${h.fingerprint ? html`<details><summary>${Object.keys(h.fingerprint).length} keys</summary><table>${Object.entries(h.fingerprint).map(([k, v]) => html`<tr><td class="mono">${k}</td><td>${v}</td></tr>`)}</table></details>` : '–'}</td></tr>`)}
    </tbody>
  </table>`;
}
