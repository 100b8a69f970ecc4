// The ssh transport against a real OpenSSH server on 127.0.0.1, and bad input:
// each a clear error and the documented exit code within seconds, with nothing
// started and nothing left behind.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { runIdsIn, inSandbox } from '../../helpers/cli.ts';
import { startSshd, type TestSshd } from '../../helpers/sshd.ts';
import { pgrep } from '../../helpers/lab.ts';
import { SshTransport } from '../../../harness/transport/ssh.ts';
import { createHost } from '../../../harness/host.ts';
import type { RunResult } from '../../../harness/report/results.ts';

const labGuest = {
  os: 'linux', image: { bootrom: '@lab/guest', disk: '@lab/guest/disk.img' }, credentials: { user: 'root', passwordEnv: 'BHYVE_LAB_PASSWORD' },
};

/** Whether no process matches `pattern` within `ms`: the kill is explicit over ssh, and a loaded box may take a moment. */
async function goneWithin(pattern: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if ((await pgrep(pattern)) === '') return true;
    if (Date.now() > deadline) return false;
    await new Promise((res) => setTimeout(res, 100));
  }
}

describe('ssh transport on 127.0.0.1', { timeout: 600_000 }, () => {
  let sshd: TestSshd;
  before(async () => { sshd = await startSshd(); });
  after(async () => { await sshd?.stop(); });

  const sshConfig = (knownHosts: string) => ({
    hosts: { loop: { transport: 'ssh', ssh: `root@127.0.0.1:${sshd.port}`, knownHosts, identityFile: sshd.identityFile, platform: 'lab' } },
    guests: { linux: labGuest },
  });

  it('runs the smoke suite on the lab through ssh and passes, photographing the screen through an ssh forward', async () => {
    await inSandbox(async (box) => {
      const config = sshConfig(sshd.knownHosts);
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), stringify({ ...config, guests: { linux: { ...labGuest, framebuffer: {} } } }));
      const r = await box.run(['run', 'smoke', '--output', 'out']);
      assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
      const results: RunResult = JSON.parse(readFileSync(join(box.dir, 'out/results.json'), 'utf8'));
      assert.equal(results.tests[0].status, 'passed');
      assert.match(results.hosts[0].transport, /^ssh:\/\/root@127\.0\.0\.1:\d+$/);
      assert.ok(existsSync(join(box.dir, 'out/junit.xml')));
      assert.deepEqual(results.tests[0].missingEvidence ?? [], []);
      const shot = results.tests[0].attachments.find((a) => a.name.endsWith(' boot'));
      assert.ok(shot && readFileSync(shot.path).subarray(1, 4).toString() === 'PNG', 'a PNG of the screen at the end of the boot');
    });
  });

  it('kills the remote process group when a command misses its deadline', async () => {
    const t = new SshTransport({ user: 'root', host: '127.0.0.1', port: sshd.port, knownHosts: sshd.knownHosts, identityFile: sshd.identityFile });
    try {
      const started = Date.now();
      const r = await t.exec('sleep 417 & sleep 418; echo never', { timeoutMs: 1_500, doing: 'testing the deadline' });
      assert.equal(r.timedOut, true);
      assert.ok(Date.now() - started < 10_000);
      assert.equal(await goneWithin('sleep 41[78]', 5_000), true, 'a remote sleep survived');
      const ok = await t.exec("printf '%s' \"$((6*7))\"; exit 255", { timeoutMs: 10_000, doing: 'testing exit codes' });
      assert.deepEqual([ok.stdout, ok.exitCode], ['42', 255], "a command's own exit 255 is not ssh's");
    } finally {
      await t.close();
    }
  });

  it('opens a command as a stream (a console on a tty device), and closing it ends the command', async () => {
    const t = new SshTransport({ user: 'root', host: '127.0.0.1', port: sshd.port, knownHosts: sshd.knownHosts, identityFile: sshd.identityFile });
    try {
      const stream = await t.openStream('exec cat # 419');
      const echoed = new Promise<string>((resolve) => stream.once('data', (d) => resolve(String(d))));
      stream.write('hello console\n');
      assert.equal(await echoed, 'hello console\n');
      stream.destroy();
      assert.equal(await goneWithin('exec cat # 419', 5_000), true, 'the remote command survived');
    } finally {
      await t.close();
    }
  });

  it("gives suites zx over ssh: host.$ quotes for POSIX sh and a timeout kills the remote command", async () => {
    const host = createHost('loop', { transport: 'ssh', ssh: `root@127.0.0.1:${sshd.port}`, knownHosts: sshd.knownHosts, identityFile: sshd.identityFile, platform: 'lab', capacity: 1, labels: [] });
    try {
      const hostile = "it's $(id) `id` ;|&";
      assert.equal((await host.$`printf '%s' ${hostile}`).stdout, hostile);
      assert.equal((await host.$`exit 3`.nothrow()).exitCode, 3);
      const started = Date.now();
      // An unusual duration: pgrep finds this sleep and no other on the machine.
      await assert.rejects(host.$({ timeout: '1s' })`sleep 4193`);
      assert.ok(Date.now() - started < 10_000, `the timed-out command took ${Date.now() - started} ms to end`);
      assert.equal(await goneWithin('sleep 4193', 10_000), true, `the remote sleep survived: ${await pgrep('sleep 4193')}`);
    } finally {
      await host.close();
    }
  });

  it('runs on a one-off --host ssh://…, verified with --known-hosts, its platform detected, keys from an agent', async () => {
    await inSandbox(async (box) => {
      // A one-off host takes no identity file: the user's keys, here from an ssh-agent holding the test's client key.
      const agentSock = join(box.dir, 'agent.sock');
      const agent = execa('ssh-agent', ['-D', '-a', agentSock], { reject: false });
      try {
        for (let i = 0; i < 50 && !existsSync(agentSock); i++) await new Promise((r) => setTimeout(r, 100));
        await execa('ssh-add', [sshd.identityFile], { env: { SSH_AUTH_SOCK: agentSock } });
        const r = await box.run(['run', 'smoke', '--host', `ssh://root@127.0.0.1:${sshd.port}`, '--known-hosts', sshd.knownHosts, '--output', 'out'], { env: { ...box.env, SSH_AUTH_SOCK: agentSock } });
        assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
        const results: RunResult = JSON.parse(readFileSync(join(box.dir, 'out/results.json'), 'utf8'));
        assert.deepEqual([results.tests[0].status, results.hosts[0].platform, results.hosts[0].transport], ['passed', 'lab', `ssh://root@127.0.0.1:${sshd.port}`]);
        assert.match(results.tests[0].reproduce, new RegExp(`--host ssh://root@127\\.0\\.0\\.1:${sshd.port}`));
      } finally {
        agent.kill('SIGTERM');
        await agent;
      }
    });
  });

  it('refuses a host whose key does not match known_hosts: exit 3, nothing started', async () => {
    await inSandbox(async (box) => {
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), stringify(sshConfig(sshd.wrongKnownHosts)));
      const started = Date.now();
      const r = await box.run(['run', 'smoke', '--output', 'out']);
      assert.equal(r.exitCode, 3, String(r.stderr));
      assert.ok(Date.now() - started < 30_000);
      const results: RunResult = JSON.parse(readFileSync(join(box.dir, 'out/results.json'), 'utf8'));
      assert.match(results.tests[0].error?.message ?? '', /host key is not in known_hosts or does not match/);
      assert.equal(results.tests[0].vm, undefined, 'no vm may be started on an unverified host');
    });
  });
});

describe('bad input', { timeout: 120_000 }, () => {
  const cases: Array<[string, string[], Record<string, string>, number, RegExp]> = [
    ['a malformed YAML config', ['run', 'smoke'], { 'bhyve-smoke.config.yaml': 'hosts: [unclosed\n' }, 2, /bhyve-smoke\.config\.yaml: cannot read the config/],
    ['a config with a wrong field', ['run', 'smoke'], { 'bhyve-smoke.config.yaml': stringify({ hosts: { lab: { transport: 'local', platform: 'lab', capacity: 0 } }, guests: { linux: labGuest } }) }, 2, /bhyve-smoke\.config\.yaml: hosts\.lab\.capacity: Too small/],
    ['a guest name with shell metacharacters', ['run', 'smoke'], { 'bhyve-smoke.config.yaml': stringify({ hosts: { lab: { transport: 'local', platform: 'lab' } }, guests: { 'x$(id)': labGuest } }) }, 2, /guests\.x\$\(id\): invalid name/],
    ['an unknown suite', ['run', 'nosuchsuite'], {}, 2, /unknown suite "nosuchsuite" \(known: [^)]*\bsmoke\b[^)]*\)/],
    ['an unknown guest', ['run', 'smoke', '--guest', 'beos'], {}, 2, /unknown guest "beos" \(configured: linux\)/],
    ['an unknown host', ['run', 'smoke', '--host', 'nosuchhost'], {}, 2, /--host: unknown host or pool "nosuchhost" \(hosts: lab; pools: lab/],
    ['an unknown option', ['run', '--frobnicate'], {}, 2, /Unknown option '--frobnicate'/],
    ['a bad --repeat-each', ['run', '--repeat-each', 'many'], {}, 2, /--repeat-each: expected a whole number >= 1, got "many"/],
    ['an unknown reporter', ['run', '--reporter', 'tap'], {}, 2, /--reporter: unknown tap/],
    ['an unreachable host (closed port)', ['run', 'smoke', '--host', 'ssh://root@127.0.0.1:1'], {}, 3, /the host is unreachable while detecting the platform/],
    ['a missing config file', ['run', '--config', 'nope.yaml'], {}, 2, /nope\.yaml: config file not found/],
  ];
  for (const [what, args, files, code, message] of cases) {
    it(`${what}: exit ${code} with a clear error, nothing started`, async () => {
      await inSandbox(async (box) => {
        for (const [name, text] of Object.entries(files)) writeFileSync(join(box.dir, name), text);
        const started = Date.now();
        const r = await box.run(args, { timeout: 60_000 });
        assert.equal(r.exitCode, code, `${r.stdout}\n${r.stderr}`);
        assert.match(String(r.stderr), message);
        assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
        assert.deepEqual(runIdsIn(box.dir), [], 'a run was started');
        assert.equal(existsSync(join(box.dir, 'reports')), false, 'reports of a run that never started');
      });
    });
  }
});
