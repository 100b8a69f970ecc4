// Windows guests: every script reaches PowerShell intact through
// -EncodedCommand and fits cmd.exe's command line; the config insists on ssh.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validate } from '../../harness/config/load.ts';
import { BUILTIN_CONFIG } from '../../harness/config/defaults.ts';
import { CMD_LINE_MAX, encodePowerShell, windowsAdapter } from '../../harness/guest/windows.ts';
import { windowsUpdate } from '../../harness/workload/os-update/windows.ts';
import { planTests } from '../../harness/run/plan.ts';
import { loadSuites } from '../../harness/run/suites.ts';

const decode = (line: string) => Buffer.from(line.split(' ').at(-1)!, 'base64').toString('utf16le');

describe('windows guests', () => {
  it('encodes a script as UTF-16LE base64 after the progress-bar switch, quotes and all', () => {
    const script = `"it's $($env:COMPUTERNAME)" | Out-String; exit 3`;
    assert.equal(decode(windowsAdapter.remoteCommand(script)), `$ProgressPreference = 'SilentlyContinue'\n${script}`);
    assert.match(windowsAdapter.remoteCommand(script), /^powershell\.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand [A-Za-z0-9+/]+=*$/);
    assert.equal(encodePowerShell('x'), Buffer.from("$ProgressPreference = 'SilentlyContinue'\nx", 'utf16le').toString('base64'));
  });

  it('keeps every script under cmd.exe\'s 8191-character command line', () => {
    const scripts = [
      ...Object.values(windowsAdapter.probes), windowsAdapter.heartbeat(1), windowsAdapter.rebootCommand,
      windowsUpdate.command, windowsUpdate.verify.command, windowsUpdate.detect!,
    ];
    for (const s of scripts) assert.ok(windowsAdapter.remoteCommand(s).length <= CMD_LINE_MAX, `${windowsAdapter.remoteCommand(s).length} characters: ${s.slice(0, 60)}`);
  });

  it('needs ssh access with an address, a known_hosts file and a key', () => {
    const windows = { os: 'windows', image: { bootrom: '/fw/BHYVE_UEFI.fd', disk: '/img/win2022.raw' }, credentials: { user: 'Administrator' } };
    assert.throws(() => validate({ ...BUILTIN_CONFIG, guests: { win: windows } }, 'c.yaml'), /guests\.win\.access.*windows guests are reached over their OpenSSH server/s);
    assert.throws(() => validate({ ...BUILTIN_CONFIG, guests: { win: { ...windows, access: 'ssh' } } }, 'c.yaml'), /guests\.win\.ssh.*access: ssh needs ssh: \{ address, knownHosts, identityFile \}/s);
    const ok = validate({ ...BUILTIN_CONFIG, guests: { win: { ...windows, access: 'ssh', ssh: { address: '10.0.0.20', knownHosts: '/etc/bsm/win_known_hosts', identityFile: '/etc/bsm/win_key' } } } }, 'c.yaml');
    assert.deepEqual(ok.guests.win.ssh, { address: '10.0.0.20', port: 22, knownHosts: '/etc/bsm/win_known_hosts', identityFile: '/etc/bsm/win_key' });
    assert.equal(ok.guests.win.update, 'auto');
  });
});

describe('planning ssh guests', () => {
  it('refuses two vms at once at one guest ssh address', async () => {
    const win = { os: 'windows', image: { bootrom: '/fw', disk: '/img' }, credentials: { user: 'Administrator' }, access: 'ssh', ssh: { address: '10.0.0.20', knownHosts: '/k', identityFile: '/i' } };
    const config = validate({ ...BUILTIN_CONFIG, guests: { win } }, 'c.yaml');
    const suites = await loadSuites();
    const filter = { suites: ['smoke'], repeatEach: 1 };
    assert.throws(() => planTests(config, suites, filter), /guests\.win is reached at one ssh address, but hosts\.lab\.capacity is 2: run it on a host with capacity 1/);
    config.hosts.lab.capacity = 1;
    assert.equal(planTests(config, suites, filter).length, 1);
  });
});

describe('config errors for a windows guest on serial', () => {
  it('name the missing ssh access once, not a password it would not use', () => {
    const win = { os: 'windows', image: { bootrom: '/fw', disk: '/img' }, credentials: { user: 'Administrator' } };
    assert.throws(() => validate({ ...BUILTIN_CONFIG, guests: { win } }, 'c.yaml'), (e: Error) => {
      assert.match(e.message, /guests\.win\.access: windows guests are reached over their OpenSSH server/);
      assert.doesNotMatch(e.message, /passwordEnv/);
      return true;
    });
  });
});
