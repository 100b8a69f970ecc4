// A gate across boot environments in the report: its boots on a time line
// (each a band, the baseline's and the candidate's told apart) and a table of
// them: the boot environment, the build it ran, its boot id, how long the
// host took to go down and come back, its tests and how they ended.
import { formatDuration } from '../../duration.ts';
import type { RunResult } from '../results.ts';
import { html, type Html } from './escape.ts';

export function bootsSection(run: RunResult): Html {
  const boots = run.boots ?? [];
  if (!boots.length) return html``;
  const from = Date.parse(boots[0].startedAt);
  const span = Math.max(1, Date.parse(boots.at(-1)!.finishedAt) - from);
  const at = (t: string) => ((Date.parse(t) - from) / span) * 100;
  const outcome = (tests: string[]) => {
    const mine = run.tests.filter((t) => tests.includes(t.id));
    const passed = mine.filter((t) => t.status === 'passed' || t.status === 'flaky').length;
    return `${passed}/${mine.length} passed`;
  };
  return html`
  <section id="boots">
    <h2>Boots</h2>
    <div class="boot-line" role="img" aria-label="the gate's boots on a time line">${boots.map((b) => html`<span class="boot ${b.side}" data-boot="${b.index + 1}" style="left: ${at(b.startedAt).toFixed(2)}%; width: ${Math.max(0.5, at(b.finishedAt) - at(b.startedAt)).toFixed(2)}%" title="boot ${b.index + 1}: ${b.be} (${b.side})">${b.be}</span>`)}</div>
    <table class="boots">
      <thead><tr><th>boot</th><th>boot environment</th><th>side</th><th>build</th><th>boot id</th><th>down / back after</th><th>tests</th><th>started</th></tr></thead>
      <tbody>${boots.map((b) => html`
        <tr data-boot="${b.index + 1}"><td class="num">${b.index + 1}</td><td>${b.be}</td><td>${b.side}</td><td class="mono">${b.build}</td><td class="mono">${b.bootId}</td>
          <td class="num">${formatDuration(b.downMs)} / ${formatDuration(b.upMs)}</td><td>${outcome(b.tests)}</td><td>${b.startedAt}</td></tr>`)}
      </tbody>
    </table>
  </section>`;
}
