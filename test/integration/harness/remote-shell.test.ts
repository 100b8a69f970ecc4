// Guest access over ssh against a real OpenSSH server on 127.0.0.1 standing in
// for a guest's: scripts run through the remote-shell adapter with their exit
// status, heartbeats stream from a session of their own, and a host key that
// does not match fails at once, never retried into a timeout.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { userInfo } from 'node:os';
import { InfraError } from '../../../harness/errors.ts';
import { linuxAdapter } from '../../../harness/guest/linux.ts';
import { posixRemote } from '../../../harness/guest/posix-remote.ts';
import { RemoteShell, type GuestSshTarget } from '../../../harness/guest/remote-shell.ts';
import { createHost } from '../../../harness/host.ts';
import { startSshd, type TestSshd } from '../../helpers/sshd.ts';

describe('guest access over ssh', { timeout: 60_000 }, () => {
  let sshd: TestSshd;
  const host = createHost('local', { transport: 'local', platform: 'lab', capacity: 1, labels: [] });
  const shellFor = (over: Partial<GuestSshTarget> = {}) => new RemoteShell(host, {
    address: '127.0.0.1', port: sshd.port, user: userInfo().username, knownHosts: sshd.knownHosts, identityFile: sshd.identityFile, ...over,
  }, posixRemote(linuxAdapter), 'the test guest');

  before(async () => { sshd = await startSshd(); });
  after(async () => {
    await host.close();
    await sshd.stop();
  });

  it('runs a script with quotes and pipes and returns its output and exit status', async () => {
    const shell = shellFor();
    await shell.waitReady(10_000);
    const r = await shell.run(`printf '%s\\n' "it's" | tr a-z A-Z; exit 3`, 10_000);
    assert.deepEqual(r, { output: "IT'S\n", status: 3 });
  });

  it('streams heartbeats from a session of its own until stopped', async () => {
    const shell = shellFor();
    const beats: number[] = [];
    shell.startHeartbeat(1, (uptime) => beats.push(uptime));
    await sleep(2_500);
    shell.stopHeartbeat();
    assert.ok(beats.length >= 2 && beats.every((b) => b > 0), `beats: ${beats.join(', ')}`);
    const seen = beats.length;
    await sleep(1_500);
    assert.equal(beats.length, seen, 'beats after the heartbeat was stopped');
  });

  it('fails at once, naming the host key, when the guest key does not match', async () => {
    const started = Date.now();
    await assert.rejects(shellFor({ knownHosts: sshd.wrongKnownHosts }).waitReady(30_000), (e: unknown) => {
      assert.ok(e instanceof InfraError);
      assert.match(e.message, /ssh to the test guest \(\S+@127\.0\.0\.1:\d+\) failed: .*(Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED)/s);
      return true;
    });
    assert.ok(Date.now() - started < 10_000, 'a wrong host key was retried');
  });
});
