// The frame of every page bhyve-smoke writes (report.html, history.html): one
// file that opens offline, uPlot and the page's script inlined and pinned by
// hash in its Content-Security-Policy, its data as JSON the script reads.
import { reportAssets } from './assets.ts';
import { html, jsonForScript, trusted as raw, type Html } from './escape.ts';

export interface PageFrame {
  title: string;
  /** The page's own script (default: report.html's). */
  client?: string;
  /** What images may load from, beyond nothing. */
  imgSrc: string;
  body: Html;
  data: unknown;
}

export function htmlDocument(p: PageFrame): string {
  const assets = reportAssets(p.client);
  const csp = `default-src 'none'; script-src ${assets.scriptHashes}; style-src 'unsafe-inline'; img-src ${p.imgSrc}; base-uri 'none'; form-action 'none'`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${p.title}</title>
<style>${raw(assets.uplotCss)}</style>
<style>${raw(assets.css)}</style>
</head>
<body>
${p.body}
<script type="application/json" id="bsm-data">${raw(jsonForScript(p.data))}</script>
<script>${raw(assets.uplotJs)}</script>
<script>${raw(assets.clientJs)}</script>
</body>
</html>
`.text;
}
