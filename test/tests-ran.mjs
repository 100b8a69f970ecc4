// Which tests ran, from the test runner's own events, and whether every test
// file ran one. Two roles in one file:
//
//   - a node:test reporter (`--test-reporter=./test/tests-ran.mjs`): one JSON
//     line per finished test, `{ file, name, outcome }`, outcome `passed`,
//     `failed`, `skipped` or `todo`; describe blocks and the stand-in a file
//     gets when it declares no test at all are left out;
//   - a check (`node test/tests-ran.mjs RAN FILE...`): fails naming every
//     test file in which no test ran and passed (an empty file, a describe
//     with no `it`, only `it.skip`), and when no test ran at all.
//
// Node counts each file as a test of its own, so "ℹ tests N" can be above zero
// while nothing was tested: this reads the tests themselves.
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** @param {AsyncIterable<{ type: string, data: any }>} source */
export default async function* testsRan(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { file, name, skip, todo, details } = event.data;
    // A suite (describe) is not a test; a file with no test is reported as one named by its path.
    if (details?.type === 'suite' || !file || name === file) continue;
    const outcome = event.type === 'test:fail' ? 'failed' : skip !== undefined && skip !== false ? 'skipped' : todo !== undefined && todo !== false ? 'todo' : 'passed';
    yield `${JSON.stringify({ file, name, outcome })}\n`;
  }
}

/**
 * Per file, the tests that ran and passed; and the files that ran none.
 * @param {string} ranText the reporter's lines @param {string[]} files
 */
export function tally(ranText, files) {
  const passed = new Map(files.map((f) => [resolve(f), 0]));
  /** @type {Record<string, number>} */
  const all = { passed: 0, failed: 0, skipped: 0, todo: 0 };
  for (const line of ranText.split('\n').filter(Boolean)) {
    const { file, outcome } = JSON.parse(line);
    all[outcome]++;
    if (outcome === 'passed' && passed.has(file)) passed.set(file, (passed.get(file) ?? 0) + 1);
  }
  const empty = [...passed].filter(([, n]) => n === 0).map(([f]) => relative(process.cwd(), f));
  return { all, empty };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [ran, ...files] = process.argv.slice(2);
  const { all, empty } = tally(readFileSync(ran, 'utf8'), files);
  process.stdout.write(`tests ran: ${all.passed} passed, ${all.failed} failed, ${all.skipped} skipped, ${all.todo} todo, in ${files.length} files\n`);
  for (const f of empty) process.stderr.write(`test/run.sh: ${f}: no test ran and passed in it\n`);
  if (all.passed + all.failed === 0) process.stderr.write('test/run.sh: no test ran\n');
  process.exit(empty.length || all.passed + all.failed === 0 ? 1 : 0);
}
