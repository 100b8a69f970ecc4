// A host's reboot as the harness waits for it: over ssh (the tests' own
// loopback sshd serving a lab host of its own), the lab host stops answering
// while it reboots — its sessions end, new ones are not answered — and comes
// back with a new boot id and the boot environment set to boot next.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createHost } from '../../../harness/host.ts';
import { listBootEnvironments, runningAndNext } from '../../../harness/host-life/boot-environments.ts';
import { rebootHost } from '../../../harness/host-life/reboot.ts';
import { LAB_BIN, labRunRoot } from '../../helpers/lab.ts';
import { startSshd } from '../../helpers/sshd.ts';

describe('a host\'s reboot', { timeout: 120_000 }, () => {
  it('over ssh the lab host answers nobody while it reboots, then answers with a new boot id, on the boot environment set to boot next', async () => {
    const run = labRunRoot();
    // Down longer than ssh's ConnectTimeout (10 s): a read of the boot id meanwhile is refused, not merely slow.
    const sshd = await startSshd({ labRunRoot: run.root, env: { BHYVE_LAB_REBOOT_SECONDS: '12' } });
    const host = createHost('lab', { transport: 'ssh', ssh: `root@127.0.0.1:${sshd.port}`, knownHosts: sshd.knownHosts, identityFile: sshd.identityFile, platform: 'lab', capacity: 1, labels: [] });
    try {
      execFileSync(join(LAB_BIN, 'beadm'), ['create', '-o', 'bhyve-lab:stamp=lab-next', 'next'], { env: { ...process.env, ...run.env } });
      await host.exec(`${join(LAB_BIN, 'beadm')} activate next`, { doing: 'activating' });
      const lines: string[] = [];
      const r = await rebootHost(host, { downWithinMs: 30_000, upWithinMs: 60_000 }, (line) => lines.push(line));
      assert.notEqual(r.after, r.before);
      assert.ok(lines.some((l) => /^host lab rebooting: down since /.test(l)), `it was seen down:\n${lines.join('\n')}`);
      assert.ok(r.downMs > 0 && r.upMs >= r.downMs, JSON.stringify(r));
      assert.equal(runningAndNext('lab', await listBootEnvironments(host)).running.name, 'next');
    } finally {
      await host.close();
      await sshd.stop();
      run.cleanup();
    }
  });
});
