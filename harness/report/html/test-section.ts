// One test in the report: verdict and what ran where, the checks with what was
// measured against the threshold, the timeline chart, the events, evidence,
// and the command that runs it again.
import { formatDuration } from '../../duration.ts';
import { wedgedNote, type TestResult } from '../results.ts';
import { html, type Html } from './escape.ts';
import { evidenceSection } from './evidence.ts';
import type { DoseCurve } from './dose-curve.ts';
import type { TimelineChart } from './timeline-chart.ts';

export const STATUS_WORD: Record<TestResult['status'], string> = {
  passed: '✓ passed', failed: '✗ failed', error: '! error', skipped: '– skipped', flaky: '~ flaky',
};

/** What the vertical lines on the charts mean (client.js draws them in these styles). */
const EVENT_KEY = html`<p class="event-key muted"><span class="ev hang">hang detected</span><span class="ev reboot">reboot requested / rebooted</span><span class="ev ready">ready</span><span class="ev hammer">hammer start / stop</span></p>`;

export const testName = (t: TestResult) => `${t.suite} · ${t.host} · ${t.guest}${t.repeat > 0 ? ` · repeat ${t.repeat}` : ''}`;

export function testSection(t: TestResult, anchor: string, chart: TimelineChart | undefined, dir: string, dose?: DoseCurve): Html {
  const t0 = Date.parse(t.startedAt);
  const events = t.timeline?.events ?? [];
  return html`
  <section class="test ${t.status}" id="${anchor}" data-test="${t.id}">
    <h3><span class="badge ${t.status}">${STATUS_WORD[t.status]}</span> ${testName(t)}
      ${(t.known ?? []).map((k) => html`<span class="badge known" title="${k.summary ?? ''}">known: ${k.id}</span>`)}</h3>
    <dl class="meta">
      <dt>test</dt><dd class="mono">${t.id}</dd>
      <dt>vm</dt><dd class="mono">${t.vm ?? '–'} on ${t.host}${t.pool && t.pool !== t.host ? ` (pool ${t.pool})` : ''}</dd>
      ${t.image ? html`<dt>image</dt><dd class="mono">${t.image.image} · ${t.image.id}</dd>` : ''}
      <dt>started</dt><dd>${t.startedAt} · took ${formatDuration(t.durationMs)}${t.attempts?.length > 1 ? ` · ${t.attempts.length} attempts` : ''}</dd>
      ${t.skipReason ? html`<dt>skipped</dt><dd>${t.skipReason}</dd>` : ''}
      ${t.error ? html`<dt>${t.error.type}</dt><dd class="missing">${t.error.message}</dd>` : ''}
      ${t.kept ? html`<dt>kept</dt><dd>${t.kept}</dd>` : ''}
      ${t.stuckFrames?.length ? html`<dt>stuck in</dt><dd class="mono" data-stuck>${t.stuckFrames.map((s, i) => html`${i ? html`<br>` : ''}${s.thread}: ${s.frame}`)}</dd>` : ''}
      ${t.hostDeath ? html`<dt>host died</dt><dd class="missing" data-host-death="${t.hostDeath.kind}">${t.hostDeath.summary}${t.hostDeath.crash?.stack?.length ? html`<div class="mono">${t.hostDeath.crash.stack.map((f, i) => html`${i ? html`<br>` : ''}${f}`)}</div>` : ''}</dd>` : ''}
      ${t.wedged ? html`<dt>host wedged</dt><dd class="missing" data-wedged="${t.wedged.vm}">${wedgedNote(t.wedged)} (since ${t.wedged.since})</dd>` : ''}
      <dt>reproduce</dt><dd><code>${t.reproduce}</code></dd>
    </dl>
    ${t.checks.length ? html`
    <table class="checks">
      <thead><tr><th>check</th><th>verdict</th><th>measured</th><th>threshold</th><th>took</th></tr></thead>
      <tbody>${t.checks.map((c) => html`
        <tr class="${c.status}" data-check="${c.name}"><td>${c.name}${c.message && c.status !== 'passed' ? html`<div class="missing">${c.message}</div>` : ''}</td>
          <td><span class="badge ${c.status}">${STATUS_WORD[c.status as TestResult['status']] ?? c.status}</span></td>
          <td class="num">${c.measured ?? ''}</td><td class="num">${c.threshold ?? ''}</td><td class="num">${formatDuration(c.durationMs)}</td></tr>`)}
      </tbody>
    </table>` : ''}
    ${dose ? html`<div class="dose-curve" data-dose="${anchor}" aria-label="dose-response curve of ${t.id}"></div>` : ''}
    ${chart ? html`<div class="timeline" data-chart="${anchor}" aria-label="timeline of ${t.id}"></div>${EVENT_KEY}` : ''}
    ${events.length ? html`<details${t.status === 'failed' ? html` open` : ''}><summary>${events.length} events</summary>
      <table class="events"><thead><tr><th>at</th><th>event</th><th>detail</th></tr></thead><tbody>${events.map((e) => html`
        <tr class="${e.kind === 'hang-detected' ? 'failed' : ''}"><td class="num">${((e.t - t0) / 1000).toFixed(1)} s</td><td class="mono">${e.kind}</td><td>${e.detail ?? ''}</td></tr>`)}
      </tbody></table></details>` : ''}
    ${evidenceSection(t, dir)}
  </section>`;
}
