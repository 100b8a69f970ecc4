// What the report inlines so it opens offline from disk as one file: uPlot
// (script and style), the report's own script and style.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
let cached: { uplotJs: string; uplotCss: string; clientJs: string; css: string } | undefined;

export function reportAssets() {
  if (!cached) {
    const uplot = join(dirname(require.resolve('uplot/package.json')), 'dist');
    cached = {
      uplotJs: readFileSync(join(uplot, 'uPlot.iife.min.js'), 'utf8'),
      uplotCss: readFileSync(join(uplot, 'uPlot.min.css'), 'utf8'),
      clientJs: readFileSync(join(import.meta.dirname, 'client.js'), 'utf8'),
      css: readFileSync(join(import.meta.dirname, 'style.css'), 'utf8'),
    };
  }
  return cached;
}
