// Every bhyve-smoke command the README and docs/ show a user — in a code block
// or in backticks in the text — is one the CLI takes: a command it has,
// options it knows with the values they need (parsed as main() parses them),
// a profile that exists in a config the docs give, suites that exist. A doc
// that names an option the code renamed, or a profile no config has (the
// `--profile nightly` of a config written from docs/config.md), fails here.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { COMMANDS } from '../../harness/cli/main.ts';
import { BUILTIN_CONFIG } from '../../harness/config/defaults.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** The configs the docs give a user, and the profiles in them. */
const PROFILES = new Set([
  ...Object.keys(BUILTIN_CONFIG.profiles ?? {}),
  ...['docs/examples/ci/bhyve-smoke.config.yaml', 'docs/examples/bhyve-smoke.config.yaml'].flatMap((f) => Object.keys((parse(readFileSync(join(ROOT, f), 'utf8')) as { profiles?: object }).profiles ?? {})),
]);
/** The built-in suites and the docs' example suite (docs/examples' config names its folder). */
const SUITES = ['suites', 'docs/examples/suites'].flatMap((d) => readdirSync(join(ROOT, d)).filter((f) => /\.m?ts$/.test(f)).map((f) => f.replace(/\.m?ts$/, '')));

/** Shell words, quotes removed; a variable or a substitution stands for one word. */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const m of line.replace(/\$\([^)]*\)/g, 'X').matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

interface Shown {
  where: string;
  line: string;
}

/** The commands a doc shows: code-block lines starting with (npx) bhyve-smoke, and backticked ones in the text; synopses ([OPTIONAL] parts, a description column) and output lines are not commands. */
function commandsIn(file: string): Shown[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const found: Shown[] = [];
  let inBlock = false;
  text.split('\n').forEach((raw, i) => {
    if (/^\s*```/.test(raw)) inBlock = !inBlock;
    const where = `${file}:${i + 1}`;
    const candidates = inBlock ? [raw.trim().replace(/^\$ /, '')] : [...raw.matchAll(/`((?:npx )?bhyve-smoke [^`]*)`/g)].map((m) => m[1]);
    for (const c of candidates) {
      const line = c.replace(/\s+#.*$/, '').trim();
      if (!/^(npx )?bhyve-smoke [a-z-]+/.test(line)) continue;
      const command = line.replace(/^npx /, '').split(/\s+/)[1];
      // A synopsis or what a command prints: not a command line a user runs as it is.
      if (/\[|\.\.\.|…|\s{2,}\S/.test(line) || !COMMANDS.some((k) => k.name === command) && !command.startsWith('-') && !inBlock) continue;
      if (/^bhyve-smoke [a-z-]+ [a-z0-9]{8}:/.test(line) || /^bhyve-smoke [a-z-]+: /.test(line)) continue;
      found.push({ where, line });
    }
  });
  return found;
}

function check({ where, line }: Shown): string | undefined {
  const [name, ...rest] = words(line.replace(/^npx /, '')).slice(1);
  if (name === '--version' || name === '--help') return undefined;
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) return `${where}: \`${line}\`: no command "${name}"`;
  let parsed;
  try {
    parsed = parseArgs({
      args: rest, allowPositionals: true, strict: true,
      options: { ...Object.fromEntries(Object.entries(command.options).map(([k, o]) => [k, { type: o.type, ...(o.short ? { short: o.short } : {}) }])), help: { type: 'boolean' } },
    });
  } catch (e) {
    return `${where}: \`${line}\`: ${(e as Error).message}`;
  }
  const profile = (parsed.values as Record<string, unknown>).profile;
  if (typeof profile === 'string' && !PROFILES.has(profile)) return `${where}: \`${line}\`: no config the docs give has the profile "${profile}" (they have: ${[...PROFILES].join(', ')})`;
  if (['run', 'list', 'calibrate', 'gate'].includes(name)) {
    const unknown = parsed.positionals.filter((p) => !/[./]/.test(p) && !/^[A-Z_]+$/.test(p) && !SUITES.includes(p));
    if (unknown.length) return `${where}: \`${line}\`: no suite ${unknown.join(', ')} (built in: ${SUITES.join(', ')})`;
  }
  return undefined;
}

describe('the commands the docs show', () => {
  const shown = DOCS.flatMap(commandsIn);

  it('are found: the docs show a good many (the reader itself works)', () => {
    assert.ok(shown.length >= 25, `only ${shown.length} commands found:\n${shown.map((s) => `${s.where} ${s.line}`).join('\n')}`);
    assert.ok(shown.some((s) => /--profile nightly/.test(s.line)));
  });

  it('are ones the CLI takes: its commands, their options and values, profiles of the docs\' configs, suites that exist', () => {
    const wrong = shown.map(check).filter(Boolean);
    assert.deepEqual(wrong, []);
  });

  it('would catch an option the CLI does not have, a profile no config has and a suite that does not exist', () => {
    assert.match(check({ where: 'x', line: 'npx bhyve-smoke run --no-such-option' })!, /Unknown option '--no-such-option'/);
    assert.match(check({ where: 'x', line: 'npx bhyve-smoke run --profile weekly' })!, /no config the docs give has the profile "weekly"/);
    assert.match(check({ where: 'x', line: 'bhyve-smoke run wrlock-ipref' })!, /no suite wrlock-ipref/);
    assert.match(check({ where: 'x', line: 'bhyve-smoke compare --shard' })!, /Unknown option '--shard'/);
  });
});
