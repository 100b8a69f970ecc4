// The gate's verdict in the report: every series with its effect, interval,
// p-value and verdict, the flagged ones first, then hangs and warnings.
import { describeExposure } from '../../verdict/exposure.ts';
import { pct, type Comparison, type SeriesVerdict } from '../../verdict/compare.ts';
import { bootsNote, num, p as pValue } from '../comparison.ts';
import type { DoseOverlay } from './dose-curve.ts';
import { html, type Html } from './escape.ts';

const ORDER: SeriesVerdict['status'][] = ['regressed', 'inconsistent', 'ok', 'insufficient', 'missing', 'ignored'];
const WORD: Record<SeriesVerdict['status'], string> = {
  regressed: '✗ regressed', inconsistent: '~ noise?', ok: '✓ ok', insufficient: '– too few', missing: '– missing', ignored: '– ignored',
};

export function compareSection(c: Comparison, labels: { base: string; cand: string }, overlays: DoseOverlay[] = []): Html {
  const series = [...c.series].sort((a, b) => ORDER.indexOf(a.status) - ORDER.indexOf(b.status));
  const tested = c.series.filter((v) => v.pValue !== undefined).length;
  const regressed = c.series.filter((v) => v.status === 'regressed').length;
  return html`
  <section id="compare">
    <h2>A/B comparison: ${labels.cand} against ${labels.base}</h2>
    <div class="verdict ${c.regressed ? 'failed' : 'passed'}" role="status">
      <strong>${c.regressed ? '✗ GATE FAILED' : '✓ GATE PASSED'}</strong>
      <span>${c.regressed ? `${regressed} series regressed${c.liveness.length ? `, ${c.liveness.length} hang(s) or host death(s) in the candidate` : ''}` : `no regression in ${tested} tested series`}</span>
    </div>
    <table class="compare">
      <thead><tr><th>verdict</th><th>series</th><th>n</th><th>${labels.base} → ${labels.cand}</th><th>change</th><th>95% interval</th><th>p</th><th>note</th></tr></thead>
      <tbody>${series.map((v) => html`
        <tr class="${v.status}" data-series="${v.id}" data-status="${v.status}">
          <td><span class="badge ${v.status}">${WORD[v.status]}</span></td><td class="mono">${v.id}</td>
          <td class="num">${v.base.n}/${v.cand.n}</td><td class="num">${num(v.base.mean)} → ${num(v.cand.mean)} ${v.unit}</td>
          <td class="num">${pct(v.change)}</td><td class="num">${v.interval ? `[${pct(v.interval[0])}, ${pct(v.interval[1])}]` : '–'}</td>
          <td class="num">${pValue(v)}</td><td>${v.note ?? ''}${v.boots ? html`<div class="muted" data-icc="${v.boots.base.icc}">${bootsNote(v.boots)}</div>` : ''}</td>
        </tr>`)}
      </tbody>
    </table>
    ${overlays.map((o, i) => html`<h3>Dose-response: ${o.title}</h3><div class="dose-overlay" data-overlay="${i}" data-base="${labels.base}" data-cand="${labels.cand}" aria-label="dose-response of ${o.title}, ${labels.base} and ${labels.cand}"></div>`)}
    ${c.liveness.length ? html`<h3>Hangs and host deaths in the candidate</h3><ul>${c.liveness.map((l) => html`<li class="missing" data-liveness="${l.kind}">${l.test} on ${l.host}: ${l.message}</li>`)}</ul>` : ''}
    ${c.exposure ? html`<p class="note" data-exposure>exposure — ${labels.base}: ${describeExposure(c.exposure.base)}<br>${labels.cand}: ${describeExposure(c.exposure.cand)}</p>` : ''}
    ${c.warnings.length ? html`<h3>Warnings</h3><ul>${c.warnings.map((w) => html`<li>${w}</li>`)}</ul>` : ''}
    <p class="muted">A series regressed when its one-sided permutation p &lt; ${c.parameters.significance}${c.familyWise === 'holm' ? ' (Holm over the tested series)' : ''}, it is worse by more than ${Math.round(c.parameters.noiseThreshold * 100)}% (per-metric overrides apply), and its metric and dose are worse across guests and directions; any candidate hang fails. ${c.parameters.resamples} resamples, seed ${c.parameters.seed}.</p>
  </section>`;
}
