// The lab's fault settings: per-vm patterns in its config, then $BHYVE_LAB_FAULTS.
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { faultsFor, loadLabConfig, parseFaults } from '../../fixtures/lab/lib/config.mjs';

const withEnv = <T>(env: Record<string, string | undefined>, fn: () => T): T => {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
};

describe('lab fault settings', () => {
  it('parses every known fault and rejects unknown or malformed ones by name', () => {
    const none = { slowWrlockMs: 0, lingeringWrlockMs: 0, deadlockOnReboot: false, bootHang: false, destroyLeaksOnce: false, echoPassword: false };
    assert.deepEqual(parseFaults('slow-wrlock=200, deadlock-on-reboot,boot-hang'), { ...none, slowWrlockMs: 200, deadlockOnReboot: true, bootHang: true });
    assert.deepEqual(parseFaults('lingering-wrlock=2'), { ...none, lingeringWrlockMs: 2 });
    for (const bad of ['lingering-wrlock=0', 'lingering-wrlock', 'lingering-wrlock=half']) assert.throws(() => parseFaults(bad), /lingering-wrlock takes milliseconds|unknown fault "lingering-wrlock"/);
    assert.deepEqual(parseFaults('start-error-once=t1,destroy-leaks-once, echo-password'), { ...none, startErrorOnce: 't1', destroyLeaksOnce: true, echoPassword: true });
    assert.deepEqual(parseFaults(''), none);
    assert.throws(() => parseFaults('start-error-once=Bad Token'), /unknown fault "start-error-once=Bad Token"/);
    assert.throws(() => parseFaults('deadlock'), /unknown fault "deadlock"/);
    assert.throws(() => parseFaults('slow-wrlock=fast'), /slow-wrlock takes milliseconds/);
    assert.throws(() => parseFaults('boot-hang=1'), /unknown fault "boot-hang=1"/);
  });

  it('applies config patterns per vm and adds the environment on top', () => {
    const dir = mkdtempSync(join(tmpdir(), 'labcfg-'));
    const file = join(dir, 'lab.json');
    writeFileSync(file, JSON.stringify({ guest: { rootPassword: 'x' }, faults: { 'bsm-*-1': 'slow-wrlock=50', other: 'boot-hang' } }));
    try {
      withEnv({ BHYVE_LAB_CONFIG: file, BHYVE_LAB_FAULTS: undefined }, () => {
        const config = loadLabConfig();
        assert.equal(faultsFor(config, 'bsm-abc-1').slowWrlockMs, 50);
        assert.equal(faultsFor(config, 'bsm-abc-2').slowWrlockMs, 0);
        assert.equal(faultsFor(config, 'bsm-abc-2').bootHang, false);
        withEnv({ BHYVE_LAB_FAULTS: 'deadlock-on-reboot' }, () => {
          assert.equal(faultsFor(config, 'bsm-abc-2').deadlockOnReboot, true);
        });
      });
      writeFileSync(file, JSON.stringify({ faults: { x: 'nope' } }));
      withEnv({ BHYVE_LAB_CONFIG: file }, () => assert.throws(() => loadLabConfig(), /lab\.json: faults\["x"\]: unknown fault "nope"/));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
