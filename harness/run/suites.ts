// Finding the suites: the package's own (suites/), then the user's — the
// folders and files a config's `suites` names (relative to the config) and
// suite files named on the command line. A module counts when its default
// export is a suite; a name found twice is a config error naming both files.
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, messageOf } from '../errors.ts';
import type { SuiteDefinition } from '../suite.ts';
import { checkDeclaredMetrics } from '../verdict/metrics.ts';

/** The package's suites: suites/, or dist/suites when the CLI runs compiled. */
export const SUITES_DIR = resolve(import.meta.dirname, '../../suites');
/** The package's root: its suites' sources are in suites/ there. */
export const PACKAGE_ROOT = realpathSync(resolve(import.meta.dirname, basename(resolve(import.meta.dirname, '../..')) === 'dist' ? '../../..' : '../..'));

/** A suite and the file it came from. */
export type LoadedSuite = SuiteDefinition & { source: string };

const SUITE_FILE = /\.(?:[cm]?ts|[cm]?js)$/;
/** A command-line argument naming a suite file rather than a suite. */
export const isSuiteFile = (arg: string) => SUITE_FILE.test(arg) && existsSync(arg) && statSync(arg).isFile();

function filesAt(path: string, from: string): string[] {
  if (!existsSync(path)) throw new ConfigError(`${from}: ${path}: no such file or folder`);
  if (statSync(path).isFile()) return [path];
  return readdirSync(path).filter((f) => SUITE_FILE.test(f) && !f.endsWith('.d.ts')).sort().map((f) => join(path, f));
}

/** tsx, for a user's TypeScript suite: the compiled CLI runs without it until one is loaded. */
async function readyForTypeScript(file: string): Promise<void> {
  const flag = Symbol.for('bhyve-smoke.tsx');
  const g = globalThis as Record<symbol, unknown>;
  if (!/\.[cm]?ts$/.test(file) || g[flag]) return;
  (await import('tsx/esm/api')).register();
  g[flag] = true;
}

/** Where a package suite is to read: its TypeScript source, also when the compiled one (dist/suites) was loaded. */
const sourceOf = (file: string) => (file.startsWith(`${SUITES_DIR}/`) ? join(PACKAGE_ROOT, 'suites', relative(SUITES_DIR, file).replace(/\.js$/, '.ts')) : file);

async function load(file: string, named: boolean): Promise<SuiteDefinition | undefined> {
  let mod: { default?: unknown };
  try {
    await readyForTypeScript(file);
    // A plain import, under the tsx loader the command runs with: a suite's `bhyve-smoke/suite`
    // then resolves (through node_modules, symlinks followed) to the very modules the harness
    // runs, so a CheckFailure it throws is the harness's CheckFailure. (tsImport would load a
    // second, namespaced copy.)
    mod = await import(pathToFileURL(file).href);
  } catch (e) {
    const hint = /require\(\)|ES Module|Cannot use import statement/.test(messageOf(e)) ? ' (a suite is an ES module: name it .mts, or put "type": "module" in the package.json of its folder)' : '';
    throw new ConfigError(`${file}: cannot load the suite: ${messageOf(e).split('\n')[0]}${hint}`);
  }
  const s = ((mod.default as { default?: unknown })?.default ?? mod.default) as SuiteDefinition | undefined;
  if (s?.name && typeof s.run === 'function') {
    checkDeclaredMetrics(s.name, file, s.metrics);
    return s;
  }
  // A helper module beside the suites is fine; a file named as a suite that holds none is not.
  if (named) throw new ConfigError(`${file}: its default export is not a suite (export default suite({ name, description, guests, needs, run }))`);
  return undefined;
}

/**
 * The package's suites and the user's: `paths` are folders or files (absolute,
 * or relative to the working directory), each with where it was named (for
 * errors: the config file, or "the command line").
 */
export async function loadSuites(paths: ReadonlyArray<{ path: string; from: string }> = []): Promise<Map<string, LoadedSuite>> {
  const suites = new Map<string, LoadedSuite>();
  const entries = [{ path: SUITES_DIR, from: 'the package' }, ...paths];
  for (const { path, from } of entries) {
    const named = statSync(resolve(path), { throwIfNoEntry: false })?.isFile() ?? false;
    for (const file of filesAt(resolve(path), from)) {
      const s = await load(file, named);
      if (!s) continue;
      const source = sourceOf(file);
      const other = suites.get(s.name);
      if (other && other.source !== source) throw new ConfigError(`suite "${s.name}" is defined twice: in ${other.source} and in ${source} (${from}); rename one`);
      suites.set(s.name, { ...s, source });
    }
  }
  return suites;
}

/**
 * The suites a command sees: the package's, the config's `suites` (relative to
 * the config file), and suite files among the positionals; and the names the
 * positionals ask for (a suite file stands for the suite it holds).
 */
export async function suitesFor(config: { suites: readonly string[] }, configSource: string, positionals: readonly string[]): Promise<{ suites: Map<string, LoadedSuite>; names: string[] }> {
  const base = existsSync(configSource) ? dirname(configSource) : process.cwd();
  const files = positionals.filter(isSuiteFile).map((f) => resolve(f));
  const suites = await loadSuites([
    ...config.suites.map((p) => ({ path: resolve(base, p), from: `${configSource}: suites` })),
    ...files.map((path) => ({ path, from: 'the command line' })),
  ]);
  const bySource = new Map([...suites.values()].map((s) => [s.source, s.name]));
  return { suites, names: positionals.map((p) => (isSuiteFile(p) ? bySource.get(resolve(p))! : p)) };
}
