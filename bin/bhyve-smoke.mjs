#!/usr/bin/env node
// The bhyve-smoke command: the compiled harness in dist/ (npm run build, run by npm ci), or,
// in a checkout not built yet, the TypeScript sources through tsx.
import { existsSync, readFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (args[0] === '--version' || args[0] === '-V') {
  // Answered before anything loads: a version check costs only Node's start.
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
  process.exit(0);
}
const compiled = new URL('../dist/harness/cli/main.js', import.meta.url);
let main;
if (existsSync(compiled)) {
  ({ main } = await import(compiled.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  // The suite loader registers tsx for a user's TypeScript suites; it is already here.
  /** @type {Record<symbol, unknown>} */ (/** @type {unknown} */ (globalThis))[Symbol.for('bhyve-smoke.tsx')] = true;
  ({ main } = await import('../harness/cli/main.ts'));
}
// Exit explicitly: a lingering ssh master or timer must not hold a finished run open.
process.exit(await main(args));
