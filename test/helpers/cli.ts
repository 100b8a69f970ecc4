// Runs the bhyve-smoke CLI as a user would, with its state kept apart per test.
import { execa, type Options } from 'execa';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { LAB_RUN_ROOT, labVmNames } from './lab.ts';
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

/**
 * Runs a test body in a fresh sandbox and removes the sandbox afterwards,
 * whatever happened. A body that failed midway may leave runs behind (vms kept
 * for inspection, a run killed on purpose): their records are in the
 * sandbox's state, and `clean` removes what they left before the state goes.
 */
export async function inSandbox(body: (box: ReturnType<typeof cliSandbox>) => Promise<void>): Promise<void> {
  const box = cliSandbox();
  try {
    await body(box);
  } finally {
    if (runIdsIn(box.dir).length) await box.run(['clean'], { timeout: 120_000 });
    box.cleanup();
  }
}

/** The run ids with a live run record in a sandbox (its state folder). */
export const runIdsIn = (dir: string): string[] =>
  existsSync(join(dir, 'state')) ? readdirSync(join(dir, 'state')).map((f) => f.replace(/\.json$/, '')) : [];

/** Waits until a run in the sandbox has a lab vm whose run folder satisfies `ready`. */
export async function waitForRunVm(dir: string, ready: (vmDir: string) => boolean, timeoutMs = 60_000): Promise<{ runId: string; vm: string; vmDir: string }> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const runId of runIdsIn(dir)) {
      const vm = labVmNames().find((n) => n.startsWith(`bsm-${runId}-`) && ready(`${LAB_RUN_ROOT}/vmm/${n}`));
      if (vm) return { runId, vm, vmDir: `${LAB_RUN_ROOT}/vmm/${vm}` };
    }
    await sleep(100);
  }
  throw new Error(`no vm of a run in ${dir} became ready within ${timeoutMs} ms`);
}
