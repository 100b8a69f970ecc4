// Finding, reading and validating the config. Errors name the file, the field
// and what was expected.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError, messageOf } from '../errors.ts';
import { BUILTIN_CONFIG } from './defaults.ts';
import { configSchema, type Config } from './schema.ts';

export const CONFIG_NAMES = ['bhyve-smoke.config.ts', 'bhyve-smoke.config.yaml', 'bhyve-smoke.config.yml'];

export interface LoadedConfig {
  config: Config;
  /** The file it came from, or "built-in lab defaults". */
  source: string;
}

export async function loadConfig(explicit: string | undefined, cwd = process.cwd()): Promise<LoadedConfig> {
  const file = explicit ? resolve(cwd, explicit) : CONFIG_NAMES.map((n) => resolve(cwd, n)).find((f) => existsSync(f));
  if (!file) return { config: validate(BUILTIN_CONFIG, 'built-in lab defaults'), source: 'built-in lab defaults' };
  if (!existsSync(file)) throw new ConfigError(`${file}: config file not found`);
  return { config: validate(await readConfigFile(file), file), source: file };
}

async function readConfigFile(file: string): Promise<unknown> {
  try {
    if (/\.ya?ml$/.test(file)) return parseYaml(readFileSync(file, 'utf8'));
    if (/\.[cm]?[jt]s$/.test(file)) {
      // tsImport loads the file as an ES module whatever the folder's package.json says.
      const mod = await tsImport(pathToFileURL(file).href, import.meta.url);
      return mod.default?.default ?? mod.default;
    }
  } catch (e) {
    throw new ConfigError(`${file}: cannot read the config: ${messageOf(e)}`);
  }
  throw new ConfigError(`${file}: a config is a .ts (export default defineConfig({...})) or .yaml file`);
}

export function validate(raw: unknown, file: string): Config {
  if (raw === null || typeof raw !== 'object') throw new ConfigError(`${file}: expected an object with hosts and guests, got ${raw === null ? 'null' : typeof raw}`);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(formatIssues(file, parsed.error.issues));
  const config = parsed.data;
  for (const [name, host] of Object.entries(config.hosts)) {
    if (host.transport === 'ssh' && !host.ssh) throw new ConfigError(`${file}: hosts.${name}.ssh: required with transport "ssh" (e.g. "root@bhyve1" or "ssh://root@bhyve1:22")`);
    if (host.transport === 'local' && host.ssh) throw new ConfigError(`${file}: hosts.${name}.ssh: only for transport "ssh"`);
  }
  if (Object.keys(config.hosts).length === 0) throw new ConfigError(`${file}: hosts: at least one host is needed`);
  if (Object.keys(config.guests).length === 0) throw new ConfigError(`${file}: guests: at least one guest is needed`);
  return config;
}

function formatIssues(file: string, issues: z.core.$ZodIssue[]): string {
  const lines = issues.slice(0, 8).map((issue) => {
    const path = issue.path.length ? issue.path.map(String).join('.') : '(top level)';
    // A bad record key (a host or guest name) carries the reason in its inner issues.
    const inner = issue.code === 'invalid_key' ? issue.issues.map((i) => i.message).join('; ') : '';
    return `${file}: ${path}: ${inner ? `invalid name: expected ${inner}` : issue.message}`;
  });
  if (issues.length > 8) lines.push(`${file}: … and ${issues.length - 8} more`);
  return lines.join('\n');
}
