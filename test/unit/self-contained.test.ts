// The project stands on its own: no tracked file points at documents outside
// the repository (a clone has none of them); what users and maintainers need
// is in docs/.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../..');

describe('the repository', () => {
  it('points at nothing outside itself, and has the architecture and noise docs the README links', () => {
    const files = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter((f) => /\.(ts|mts|js|mjs|md|sh|yaml|json)$/.test(f));
    assert.ok(files.length > 100, `${files.length} tracked files`);
    const outside = files.filter((f) => existsSync(resolve(ROOT, f)) && /\.\.\/shared\//.test(readFileSync(resolve(ROOT, f), 'utf8')));
    assert.deepEqual(outside, []);
    const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
    for (const doc of ['docs/architecture.md', 'docs/noise.md', 'docs/junit.md', 'docs/history.md', 'docs/writing-suites.md']) {
      assert.ok(existsSync(resolve(ROOT, doc)), doc);
      assert.ok(readme.includes(`(${doc})`), `the README links ${doc}`);
    }
  });

  it('keeps the README to a first read (under 12 KB), every docs page linked from it, and every command named', async () => {
    const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
    assert.ok(Buffer.byteLength(readme) < 12 * 1024, `README.md is ${Buffer.byteLength(readme)} bytes`);
    const pages = readdirSync(resolve(ROOT, 'docs')).filter((f) => f.endsWith('.md'));
    assert.ok(pages.length >= 14, pages.join(', '));
    for (const page of pages) assert.ok(readme.includes(`(docs/${page})`), `the README links docs/${page}`);
    const { COMMANDS } = await import('../../harness/cli/main.ts');
    for (const c of COMMANDS) assert.match(readme, new RegExp(`^bhyve-smoke ${c.name} `, 'm'), `the README names ${c.name}`);
  });
});
