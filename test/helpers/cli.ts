// Runs the bhyve-smoke CLI as a user would, with its state kept apart per test.
import { execa, type Options } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const CLI = resolve(import.meta.dirname, '../../bin/bhyve-smoke.mjs');

export function cliSandbox() {
  const dir = mkdtempSync(join(tmpdir(), 'bsm-cli-'));
  const env = { BHYVE_SMOKE_STATE: join(dir, 'state'), CI: '1' };
  return {
    dir,
    env,
    run: (args: string[], opts: Options = {}) => execa('node', [CLI, ...args], { cwd: dir, env, reject: false, timeout: 300_000, ...opts }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
