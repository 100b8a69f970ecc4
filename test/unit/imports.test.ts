// Imports run one way (docs/architecture.md): no circle anywhere in harness/,
// type-only imports included; the lower layers know nothing of the upper
// ones — transport of nothing but the base; platform and image of neither
// host, vm, run nor config; report, verdict and history of neither run nor
// cli; only cli of cli. The check reads the import graph itself; it is shown
// to fail on a circle and on an upward import made for it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

const HARNESS = resolve(import.meta.dirname, '../../harness');
type Graph = Map<string, string[]>;

/**
 * The relative modules a source imports: `import … from`, `export … from`
 * (type-only too), a side-effect `import './x.ts'`, and `import('./x.ts')`
 * with a literal.
 */
export function importsOf(src: string): string[] {
  const patterns = [
    /^\s*(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/gm,
    /^\s*import\s+['"](\.{1,2}\/[^'"]+)['"]/gm,
    /\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((p) => [...src.matchAll(p)].map((m) => m[1]));
}

/** Every module of harness/ and the harness modules it imports (importsOf). */
function importGraph(): Graph {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|mjs|js)$/.test(f) && !f.endsWith('.d.ts')) files.push(p);
    }
  };
  walk(HARNESS);
  const graph: Graph = new Map();
  for (const f of files) {
    const src = readFileSync(f, 'utf8');
    const deps = importsOf(src).map((m) => resolve(dirname(f), m)).filter((d) => d.startsWith(HARNESS));
    graph.set(relative(HARNESS, f), deps.map((d) => relative(HARNESS, d)));
  }
  return graph;
}

/** The import circles (strongly connected components of more than one module, or a module importing itself). */
function circles(graph: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        c.push(w);
      } while (w !== v);
      if (c.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(c.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

/** A module's layer: its folder, or the file's name for the top-level ones. */
const layerOf = (file: string) => (file.includes('/') ? file.split('/')[0] : file.replace(/\.ts$/, ''));
const BASE = ['errors', 'duration', 'timeline', 'secrets', 'plain-text'];
/** What each lower layer may import; a layer not listed here may import anything but cli. */
const MAY_IMPORT: Record<string, string[]> = {
  transport: ['transport', ...BASE],
  platform: ['platform', 'image', 'transport', ...BASE],
  image: ['image', 'platform', 'transport', ...BASE],
  host: ['host', 'platform', 'image', 'transport', ...BASE],
  guest: ['guest', 'host', 'platform', 'image', 'transport', ...BASE],
  'host-life': ['host-life', 'host', 'platform', 'image', 'transport', ...BASE],
};
/** What the suite side (what a suite does to and observes of a vm) never imports: the engine that runs it. */
const SUITE_SIDE_NEVER = ['run', 'cli', 'config', 'history'];
const NEVER: Record<string, string[]> = {
  report: ['run', 'cli', 'history'], verdict: ['run', 'cli', 'history', 'report/html'], history: ['run', 'cli'],
  watch: SUITE_SIDE_NEVER, workload: SUITE_SIDE_NEVER, disturbance: SUITE_SIDE_NEVER, evidence: SUITE_SIDE_NEVER,
};

function upwardImports(graph: Graph): string[] {
  const bad: string[] = [];
  for (const [from, deps] of graph) {
    const layer = layerOf(from);
    for (const to of deps) {
      const target = layerOf(to);
      if (target === 'cli' && layer !== 'cli') bad.push(`${from} → ${to}: only cli imports cli`);
      if (MAY_IMPORT[layer] && !MAY_IMPORT[layer].includes(target)) bad.push(`${from} → ${to}: ${layer} may import only ${MAY_IMPORT[layer].join(', ')}`);
      for (const never of NEVER[layer] ?? []) if (to.startsWith(`${never}/`) || to === never) bad.push(`${from} → ${to}: ${layer} never imports ${never}`);
    }
  }
  return bad;
}

describe('imports in harness/', () => {
  const graph = importGraph();

  it('form no circle, type-only imports included', () => {
    assert.ok(graph.size > 100, `${graph.size} modules read`);
    assert.deepEqual(circles(graph), []);
  });

  it('never go up from a lower layer', () => {
    assert.deepEqual(upwardImports(graph), []);
  });

  it('the checks fail on a circle and on an upward import added for the purpose', () => {
    const bent = new Map(graph);
    bent.set('platform/types.ts', [...graph.get('platform/types.ts')!, 'host.ts']);
    assert.deepEqual(circles(bent).map((c) => c.includes('platform/types.ts') && c.includes('host.ts')), [true]);
    bent.set('transport/local.ts', [...graph.get('transport/local.ts')!, 'config/schema.ts']);
    assert.match(upwardImports(bent).join('\n'), /transport\/local\.ts → config\/schema\.ts: transport may import only/);
    assert.match(upwardImports(bent).join('\n'), /platform\/types\.ts → host\.ts: platform may import only/);
    bent.set('watch/heartbeat.ts', [...graph.get('watch/heartbeat.ts')!, 'run/runner.ts']);
    assert.match(upwardImports(bent).join('\n'), /watch\/heartbeat\.ts → run\/runner\.ts: watch never imports run/);
  });

  it('reads every form of import: from, side-effect and a dynamic import with a literal', () => {
    const src = [
      "import { a } from './a.ts';",
      "import type { B } from '../b.ts';",
      "export { c } from './c.ts';",
      "import './side-effect.ts';",
      "  const m = await import('../run/runner.ts');",
      "const n = await import(name); // not a literal: not followed",
      "import { x } from 'node:fs';",
    ].join('\n');
    assert.deepEqual(importsOf(src).sort(), ['../b.ts', '../run/runner.ts', './a.ts', './c.ts', './side-effect.ts']);
  });
});
