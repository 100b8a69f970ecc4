// What a page inlines so it opens offline from disk as one file: uPlot
// (script and style), the page's own script and the report's style.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
type Assets = { uplotJs: string; uplotCss: string; clientJs: string; css: string; scriptHashes: string };
const cached = new Map<string, Assets>();

/** A script's CSP source: its sha256, quoted. */
const cspHash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** uPlot, the report's style, and the page script at `client` (report.html's own by default). */
export function reportAssets(client = join(import.meta.dirname, 'client.js')): Assets {
  let assets = cached.get(client);
  if (!assets) {
    const uplot = join(dirname(require.resolve('uplot/package.json')), 'dist');
    const uplotJs = readFileSync(join(uplot, 'uPlot.iife.min.js'), 'utf8');
    const clientJs = readFileSync(client, 'utf8');
    assets = {
      uplotJs,
      uplotCss: readFileSync(join(uplot, 'uPlot.min.css'), 'utf8'),
      clientJs,
      css: readFileSync(join(import.meta.dirname, 'style.css'), 'utf8'),
      // The page's two scripts, pinned in its Content-Security-Policy.
      scriptHashes: `${cspHash(uplotJs)} ${cspHash(clientJs)}`,
    };
    cached.set(client, assets);
  }
  return assets;
}
