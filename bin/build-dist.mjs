#!/usr/bin/env node
// npm run build: harness/ and suites/ compiled to dist/ by tsc (tsconfig.build.json), then what
// tsc does not carry: the browser scripts and styles the pages inline (copied as they are: their
// CSP hashes are of these bytes), and dist/fixtures, a link to fixtures/ (the lab host).
import { cpSync, existsSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'dist');
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

/** @type {string[]} */
const assets = [];
/** @param {string} dir */
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (/\.(js|css)$/.test(name)) assets.push(path);
  }
};
walk(join(root, 'harness'));
for (const file of assets) cpSync(file, join(dist, relative(root, file)));
if (!existsSync(join(dist, 'fixtures'))) symlinkSync(relative(dist, join(root, 'fixtures')), join(dist, 'fixtures'));
console.log(`build: dist/ (${assets.length} assets copied, fixtures linked)`);

