// Every config key is documented: the schema (harness/config/schema.ts) is
// walked key by key at every level — hosts', guests' and their images', ssh,
// credentials and framebuffer, thresholds, stress, profiles, the gate's, its
// overrides and ignore rules, known issues — and each level must have its
// section in docs/config.md ("Every key": a heading naming its path, such as
// `hosts.<name>`) with a table row for each of its keys. A row the schema does
// not take fails too, and so does a default that is not the schema's.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { configSchema } from '../../harness/config/schema.ts';

const DOC = resolve(import.meta.dirname, '../../docs/config.md');

/** zod's internals, as far as the walk reads them. */
interface Node {
  _zod: { def: { type: string; [k: string]: unknown } };
}

interface Level {
  /** `hosts.<>`, `gate.ignore[]`, '' for the top: a record's key is `<>`, a list's entry `[]`. */
  path: string;
  keys: Map<string, { default?: unknown }>;
}

/** What a schema node holds, without its wrappers (optional, default, …); the default, if one of them gives it. */
function unwrap(node: Node): { node: Node; default?: unknown } {
  let n = node;
  let found: unknown;
  for (;;) {
    const def = n._zod.def;
    if (def.type === 'default' && found === undefined) found = def.defaultValue;
    if (['optional', 'default', 'nullable', 'readonly', 'nonoptional', 'prefault', 'catch'].includes(def.type)) n = def.innerType as Node;
    else if (def.type === 'pipe') n = def.in as Node;
    else return { node: n, ...(found !== undefined ? { default: found } : {}) };
  }
}

/** Every object level of the schema and its keys. */
function levels(root: Node): Map<string, Level> {
  const out = new Map<string, Level>();
  const walk = (node: Node, path: string) => {
    const { node: n } = unwrap(node);
    const def = n._zod.def;
    if (def.type === 'record') return walk(def.valueType as Node, `${path}.<>`);
    if (def.type === 'array') return walk(def.element as Node, `${path}[]`);
    if (def.type === 'union') {
      for (const option of def.options as Node[]) walk(option, path);
      return;
    }
    if (def.type !== 'object') return;
    const level = out.get(path) ?? { path, keys: new Map() };
    out.set(path, level);
    for (const [key, child] of Object.entries(def.shape as Record<string, Node>)) {
      const d = unwrap(child).default;
      level.keys.set(key, d === undefined ? {} : { default: d });
      walk(child, path ? `${path}.${key}` : key);
    }
  };
  walk(root, '');
  return out;
}

interface Section {
  heading: string;
  rows: Map<string, string>;
}

/** The doc's sections (a heading and what follows it up to the next), with their table rows: `key` → default cell. */
function sections(text: string): Section[] {
  const out: Section[] = [];
  for (const line of text.split('\n')) {
    if (/^#{1,6} /.test(line)) out.push({ heading: line, rows: new Map() });
    const row = /^\|\s*`([^`]+)`\s*\|([^|]*)\|/.exec(line);
    if (row && out.length) out[out.length - 1].rows.set(row[1], row[2].trim());
  }
  return out;
}

/** The heading that documents a level: `hosts.<name>` for `hosts.<>` (any placeholder), "Top level" for the top. */
const headingPattern = (path: string): RegExp =>
  path === ''
    ? /^#+ Top level\s*$/
    : new RegExp(`\`${path.split('<>').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('<[^>`]+>')}\``);

/** A primitive default as the table writes it: `bsm`, `15m`, `0.01`, `false`. */
const primitive = (v: unknown): string | undefined => (['string', 'number', 'boolean'].includes(typeof v) ? `\`${String(v)}\`` : undefined);

const doc = sections(readFileSync(DOC, 'utf8'));
const schema = levels(configSchema as unknown as Node);

describe('docs/config.md documents every config key', () => {
  it('walks every level of the schema', () => {
    // The walk itself: a level a zod upgrade hid from it would be a key nobody checks.
    for (const path of ['', 'hosts.<>', 'guests.<>', 'guests.<>.image', 'guests.<>.image.disk', 'guests.<>.image.on.<>', 'guests.<>.ssh', 'guests.<>.credentials', 'guests.<>.framebuffer', 'thresholds', 'stress', 'profiles.<>', 'profiles.<>.thresholds', 'profiles.<>.stress', 'gate', 'gate.overrides.<>', 'gate.ignore[]', 'knownIssues[]']) {
      assert.ok(schema.has(path), `the schema walk found no level ${path || '(top)'}`);
    }
    assert.ok(schema.get('hosts.<>')!.keys.has('identityFile'));
    assert.deepEqual(schema.get('')!.keys.get('prefix'), { default: 'bsm' });
    assert.deepEqual(schema.get('guests.<>.image.disk')!.keys.size, 4, 'each object of the disk union: file, sha256, zfs, smartos');
  });

  for (const level of schema.values()) {
    const name = level.path || 'the top level';
    it(`${name}: every key has its row, and every row is a key`, () => {
      const pattern = headingPattern(level.path);
      const found = doc.filter((s) => pattern.test(s.heading));
      assert.equal(found.length, 1, `docs/config.md: one section for ${name} (a heading naming ${pattern}), found ${found.length}`);
      const { rows } = found[0];
      const missing = [...level.keys.keys()].filter((k) => !rows.has(k));
      assert.deepEqual(missing, [], `docs/config.md, ${found[0].heading}: no row for ${missing.map((k) => `\`${k}\``).join(', ')}`);
      const unknown = [...rows.keys()].filter((k) => !level.keys.has(k));
      assert.deepEqual(unknown, [], `docs/config.md, ${found[0].heading}: rows for keys the schema does not take at ${name}`);
      for (const [key, { default: d }] of level.keys) {
        const written = primitive(d);
        if (written) assert.ok(rows.get(key)!.includes(written), `docs/config.md, ${found[0].heading}: \`${key}\` defaults to ${written} (the schema's), the table says ${rows.get(key)}`);
      }
    });
  }
});
