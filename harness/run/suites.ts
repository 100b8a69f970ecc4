// Finding the suites: every module in suites/ whose default export is a suite.
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SuiteDefinition } from '../suite.ts';

export const SUITES_DIR = resolve(import.meta.dirname, '../../suites');

export async function loadSuites(dir = SUITES_DIR): Promise<Map<string, SuiteDefinition>> {
  const suites = new Map<string, SuiteDefinition>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts')).sort()) {
    const mod = await import(pathToFileURL(join(dir, file)).href);
    const s = mod.default as SuiteDefinition | undefined;
    if (s?.name && typeof s.run === 'function') suites.set(s.name, s);
  }
  return suites;
}
