// The vm facade on the lab host, below the runner: host-forced reset and
// poweroff through the supervisor, and a destroy that leaves nothing.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { validate } from '../../../harness/config/load.ts';
import { BUILTIN_CONFIG } from '../../../harness/config/defaults.ts';
import { linuxAdapter } from '../../../harness/guest/linux.ts';
import { createHost } from '../../../harness/host.ts';
import { Timeline } from '../../../harness/timeline.ts';
import { Vm } from '../../../harness/vm.ts';
import { LAB_PASSWORD, LAB_RUN_ROOT } from '../../helpers/lab.ts';

describe('vm on the lab', { timeout: 180_000 }, () => {
  it('survives a forced reset, reports a forced poweroff, and is destroyed without trace', async () => {
    const config = validate(BUILTIN_CONFIG, 'built-in');
    const host = createHost('lab', config.hosts.lab);
    const runDir = `/tmp/bhyve-smoke/test-${process.pid}`;
    const timeline = new Timeline();
    const vm = new Vm({
      host, name: `bsm-vmtest${process.pid % 1000}-1`, guestName: 'linux', guest: config.guests.linux,
      access: { kind: 'serial', adapter: linuxAdapter }, password: LAB_PASSWORD, runDir, timeline, commandTimeoutMs: 30_000,
    });
    try {
      await host.exec(`mkdir -p ${runDir}`, { doing: 'test setup' });
      await vm.provision();
      await vm.waitReady(60_000);
      await vm.forceReset();
      assert.equal(await vm.waitForExit(1, 30_000), 0, 'a forced reset is a reboot');
      await vm.waitReady(60_000);
      await vm.login();
      assert.equal((await vm.run('echo back')).output.trim(), 'back');
      await vm.forcePoweroff();
      assert.equal(await vm.waitForExit(2, 30_000), 1, 'a forced poweroff');
      assert.deepEqual(timeline.events.map((e) => e.kind).filter((k) => k.startsWith('force')), ['force-reset', 'force-poweroff']);
    } finally {
      await vm.destroy();
      await host.exec(`rm -rf ${runDir}`, { doing: 'test cleanup' });
      await host.close();
    }
    assert.equal(existsSync(`${LAB_RUN_ROOT}/vmm/${vm.name}`), false);
    assert.equal(existsSync(vm.dir), false);
  });
});
