// A real OpenSSH server on 127.0.0.1 for the ssh transport's tests: its own
// host key, a client key, and a known_hosts file that names exactly that key.
import { execa, type ResultPromise } from 'execa';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:net';

export interface TestSshd {
  port: number;
  dir: string;
  identityFile: string;
  knownHosts: string;
  /** A known_hosts file holding some other key for the same address. */
  wrongKnownHosts: string;
  stop(): Promise<void>;
}

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => resolve(port));
  });
});

/**
 * A lab host served over ssh: its sessions see `BHYVE_LAB_RUNDIR` and `env`
 * (sshd's SetEnv), and the lab's run root knows this sshd as its own
 * (`sshd.pid`), so the lab's reboot stops it answering for the reboot's
 * length, as a host going down does (fixtures/lab/bin/lab-reboot).
 */
export async function startSshd(o: { labRunRoot?: string; env?: Record<string, string> } = {}): Promise<TestSshd> {
  const dir = mkdtempSync(join(tmpdir(), 'bsm-sshd-'));
  const port = await freePort();
  const keygen = (file: string) => execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  await Promise.all([keygen(join(dir, 'host_key')), keygen(join(dir, 'client_key')), keygen(join(dir, 'other_host_key'))]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')));
  const hostPub = readFileSync(join(dir, 'host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  const otherPub = readFileSync(join(dir, 'other_host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostPub}\n`);
  writeFileSync(join(dir, 'wrong_known_hosts'), `[127.0.0.1]:${port} ${otherPub}\n`);
  writeFileSync(join(dir, 'sshd_config'), [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host_key')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, 'PermitRootLogin prohibit-password',
    'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no',
    'AllowStreamLocalForwarding yes', 'MaxSessions 64', 'MaxStartups 64', `PidFile ${join(dir, 'sshd.pid')}`,
    // SHLVL=1: the login shell (root's bash) skips ~/.bashrc, which bash sources for
    // a command from sshd unless its shell level is 2 or more (bash shell.c
    // run_startup_files(), under SSH_SOURCE_BASHRC, which Debian's bash is built with). The tester's dotfiles are not the host under test;
    // this machine's (pyenv init) cost 0.45 s on every command, muxed or not.
    `SetEnv SHLVL=1${Object.entries({ ...(o.labRunRoot ? { BHYVE_LAB_RUNDIR: o.labRunRoot } : {}), ...o.env }).map(([k, v]) => ` ${k}=${v}`).join('')}`,
  ].join('\n') + '\n');
  mkdirSync('/run/sshd', { recursive: true }); // privilege separation directory
  const sshd: ResultPromise = execa('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { reject: false });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline || sshd.exitCode !== null) throw new Error(`sshd did not start: ${String((await sshd).stderr)}`);
    await sleep(100);
  }
  if (o.labRunRoot) {
    mkdirSync(o.labRunRoot, { recursive: true });
    writeFileSync(join(o.labRunRoot, 'sshd.pid'), `${sshd.pid}\n`);
  }
  return {
    port, dir,
    identityFile: join(dir, 'client_key'),
    knownHosts: join(dir, 'known_hosts'),
    wrongKnownHosts: join(dir, 'wrong_known_hosts'),
    async stop() {
      sshd.kill('SIGCONT'); // a lab reboot may have left it stopped
      sshd.kill('SIGTERM');
      await sshd;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
