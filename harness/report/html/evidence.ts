// A test's evidence in the report: screenshots shown, text files (stacks,
// logs, command output) inline up to a size and linked, and the evidence that
// could not be collected, with the reason. Links are relative to the report,
// so the folder can be moved, archived by CI, or served by show-report.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { extname, relative, sep } from 'node:path';
import type { Attachment, TestResult } from '../results.ts';
import { html, type Html } from './escape.ts';

/** Text evidence shown inline: its head and tail when it is longer. */
const INLINE_BYTES = 24 * 1024;
const IMAGE = new Set(['.png', '.jpg', '.jpeg', '.gif', '.webp']);

/** A relative URL from the report's folder to a file: each segment percent-encoded. */
export const linkTo = (dir: string, path: string): string =>
  relative(dir, path).split(sep).map(encodeURIComponent).join('/');

/** A text file's content, or its head and tail when it is long: only those are read. */
function inlineText(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  const size = statSync(path).size;
  if (size <= INLINE_BYTES) return readFileSync(path, 'utf8');
  const half = INLINE_BYTES / 2;
  const fd = openSync(path, 'r');
  try {
    const at = (position: number) => {
      const buf = Buffer.alloc(half);
      return buf.subarray(0, readSync(fd, buf, 0, half, position)).toString('utf8');
    };
    return `${at(0)}\n… ${size - INLINE_BYTES} bytes left out; the whole file is linked above …\n${at(size - half)}`;
  } finally {
    closeSync(fd);
  }
}

export function evidenceSection(t: TestResult, dir: string): Html {
  const attachments: Attachment[] = t.attachments ?? [];
  const shots = attachments.filter((a) => IMAGE.has(extname(a.path).toLowerCase()));
  const texts = attachments.filter((a) => !shots.includes(a) && a.name !== 'console');
  const consoleFile = attachments.find((a) => a.name === 'console');
  const missing = t.missingEvidence ?? [];
  const failing = t.status === 'failed' || t.status === 'error';
  return html`
    ${shots.length ? html`<h4>Screen</h4><div class="shots">${shots.map((a) => html`
      <figure><a href="${linkTo(dir, a.path)}"><img src="${linkTo(dir, a.path)}" alt="screenshot: ${a.name}" loading="lazy"></a><figcaption>${a.name}</figcaption></figure>`)}</div>` : ''}
    ${t.consoleTail ? html`<details${failing ? html` open` : ''}><summary>console tail of ${t.vm ?? 'the vm'}${consoleFile ? html` · <a href="${linkTo(dir, consoleFile.path)}">whole console log</a>` : ''}</summary><pre class="console">${t.consoleTail}</pre></details>` : ''}
    ${texts.map((a) => {
      const text = inlineText(a.path);
      return html`<details${failing && /stack|pstack/.test(a.name) ? html` open` : ''}><summary>${a.name} · <a href="${linkTo(dir, a.path)}">${linkTo(dir, a.path)}</a>${text === undefined ? html` <span class="missing">(not found beside this report)</span>` : ''}</summary>${text !== undefined ? html`<pre>${text}</pre>` : ''}</details>`;
    })}
    ${missing.length ? html`<h4>Missing evidence</h4><ul>${missing.map((m) => html`<li class="missing"><strong>${m.name}</strong>: ${m.reason}</li>`)}</ul>` : ''}`;
}
