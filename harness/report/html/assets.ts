// What the report inlines so it opens offline from disk as one file: uPlot
// (script and style), the report's own script and style.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
let cached: { uplotJs: string; uplotCss: string; clientJs: string; css: string; scriptHashes: string } | undefined;

/** A script's CSP source: its sha256, quoted. */
const cspHash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

export function reportAssets() {
  if (!cached) {
    const uplot = join(dirname(require.resolve('uplot/package.json')), 'dist');
    const uplotJs = readFileSync(join(uplot, 'uPlot.iife.min.js'), 'utf8');
    const clientJs = readFileSync(join(import.meta.dirname, 'client.js'), 'utf8');
    cached = {
      uplotJs,
      uplotCss: readFileSync(join(uplot, 'uPlot.min.css'), 'utf8'),
      clientJs,
      css: readFileSync(join(import.meta.dirname, 'style.css'), 'utf8'),
      // The page's two scripts, pinned in its Content-Security-Policy.
      scriptHashes: `${cspHash(uplotJs)} ${cspHash(clientJs)}`,
    };
  }
  return cached;
}
