// Everything from a guest or a host is data, never markup. The `html` tag
// escapes every interpolation unless it is already Html (built by this tag),
// so forgetting to escape takes effort, not the other way round.

/** Markup this module built; the only thing `html` inserts unescaped. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** Text this module vouches for (the inlined assets, JSON already escaped): never data from a run. */
export const trusted = (text: string): Html => new Html(text);

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ENTITIES[c]);

const render = (v: unknown): string => {
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === undefined || v === null || v === false) return '';
  return escapeHtml(String(v));
};

/** A template whose interpolations are escaped (arrays are joined, nullish and false dropped). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1];
  });
  return new Html(out);
}

/**
 * JSON for a `<script type="application/json">` block: `<`, `>` and `&` as
 * \u escapes, so no string in it can close the script element or open a
 * comment; JSON.parse reads them back unchanged.
 */
export const jsonForScript = (data: unknown): string =>
  JSON.stringify(data).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
