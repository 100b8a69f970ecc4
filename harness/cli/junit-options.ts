// The JUnit reporter's options (run, merge): which form, and what attachment paths are relative to.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import type { JunitOptions } from '../report/junit.ts';

export const JUNIT_OPTIONS = {
  'junit-form': { type: 'string', help: 'default (testcase properties; Jenkins junit, GitLab, GitHub) or strict (valid against the Jenkins xunit plugin\'s junit-10.xsd)' },
  'attachments-base': { type: 'string', help: 'write JUnit attachment paths relative to this folder (default: the working directory)' },
} as const;

export function junitOptionsOf(values: Record<string, string | boolean | undefined>): JunitOptions {
  const form = String(values['junit-form'] ?? 'default');
  if (form !== 'default' && form !== 'strict') throw new ConfigError(`--junit-form: expected default or strict, got ${JSON.stringify(form)}`);
  const base = resolve(String(values['attachments-base'] ?? '.'));
  if (!existsSync(base) || !statSync(base).isDirectory()) throw new ConfigError(`--attachments-base: ${base} is not a folder`);
  return { form, attachmentsBase: base };
}
