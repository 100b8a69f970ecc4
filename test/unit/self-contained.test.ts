// The project stands on its own: no tracked file points at documents outside
// the repository (a clone has none of them); what users and maintainers need
// is in docs/.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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
});
