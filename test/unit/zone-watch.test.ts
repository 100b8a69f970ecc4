// The zone watcher's logic, run by /bin/sh as on a host: what it writes to the
// exit log as a zone's bhyve comes and goes. `pgrep`, `zoneadm` and `kstat`
// are stand-ins on PATH that answer from files the test writes (the zone's
// `zoneadm list -p` line, the bhyve pid, the zone's init_restarts): no illumos
// host runs here, and the script's decisions are what is under test. A guest
// reboot restarts init in place (exit.c restart_init()): same pid, same zone
// id; only the brand's generation tells it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { parseExits } from '../../harness/platform/supervisor.ts';
import { INIT_RESTARTS, socketInode, zoneWatchScript } from '../../harness/platform/zone-watch.ts';

/** The watcher with a shorter grace than a host's (20 polls): the same logic, a third of the waiting. */
const DOWN_POLLS = 6;

const root = mkdtempSync(join(tmpdir(), 'bsm-zone-watch-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A zone the stand-ins report, and the watcher watching it with the brand's generation command. */
function watchedZone(name: string, generation: (dir: string) => string = () => 'true') {
  const dir = join(root, name);
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const state = (file: string) => join(dir, file);
  writeFileSync(join(bin, 'pgrep'), `#!/bin/sh\n[ -s ${state('pid')} ] && cat ${state('pid')}\n`);
  writeFileSync(join(bin, 'zoneadm'), `#!/bin/sh\ncat ${state('zone')}\n`);
  // kstat -p -m zones -c zone_misc -i ID -s init_restarts, as SmartOS prints it (module:instance:name:statistic TAB value).
  writeFileSync(join(bin, 'kstat'), `#!/bin/sh\n[ -s ${state('restarts')} ] && printf 'zones:%s:${name.slice(0, 30)}:init_restarts\\t%s\\n' "$7" "$(cat ${state('restarts')})"\n`);
  for (const tool of ['pgrep', 'zoneadm', 'kstat']) chmodSync(join(bin, tool), 0o755);
  writeFileSync(join(dir, 'zone-watch.sh'), zoneWatchScript(DOWN_POLLS));
  const set = (zoneid: string, zoneState: string, pid: string) => {
    writeFileSync(state('zone'), `${zoneid}:${name}:${zoneState}:/zones/${name}:u:bhyve:excl:9\n`);
    writeFileSync(state('pid'), pid);
  };
  set('-', 'installed', '');
  const child = spawn('/bin/sh', [join(dir, 'zone-watch.sh'), dir, name, 'bhyve', generation(dir)], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, stdio: 'ignore' });
  const ended = new Promise<number | null>((done) => child.on('exit', done));
  after(() => child.kill());
  return {
    set,
    ended,
    exits: () => parseExits(existsSync(join(dir, 'exits')) ? readFileSync(join(dir, 'exits'), 'utf8') : '').map((e) => e.status),
    file: (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8').trim() : undefined),
    dir,
    restarts: (n: number) => writeFileSync(state('restarts'), `${n}\n`),
  };
}

const POLL_MS = 500;
const GRACE_MS = DOWN_POLLS * POLL_MS;

describe('the zone watcher', () => {
  it('a new bhyve or a new zone instance is a reboot (0); a zone down past the grace a poweroff (1); bhyve never seen an error (4)', async () => {
    const z = watchedZone('bsm-r1-1');
    const never = watchedZone('bsm-r1-2');
    z.set('5', 'running', '100');
    await sleep(3 * POLL_MS);
    assert.equal(z.file('bhyve.pid'), '100');
    assert.match(z.file('supervisor.pid') ?? '', /^\d+$/);
    assert.deepEqual(z.exits(), [], 'the first bhyve is a start, not an exit');

    // A brand that starts a new bhyve process in the running zone.
    z.set('5', 'running', '200');
    await sleep(3 * POLL_MS);
    assert.deepEqual(z.exits(), [0]);
    assert.equal(z.file('bhyve.pid'), '200');

    // Older SmartOS (ZONE_ATTR_INITREBOOT): the zone itself reboots, through `installed` for less than the grace, and comes back with a new id.
    z.set('-', 'installed', '');
    await sleep(GRACE_MS / 2);
    z.set('6', 'running', '200');
    await sleep(3 * POLL_MS);
    assert.deepEqual(z.exits(), [0, 0], 'same pid number, new zone instance');

    // The guest powers off: the zone halts and stays down.
    z.set('-', 'installed', '');
    assert.equal(await z.ended, 0);
    assert.deepEqual(z.exits(), [0, 0, 1]);
    assert.equal(z.file('supervisor.pid'), undefined);
    assert.equal(z.file('bhyve.pid'), undefined);

    assert.equal(await never.ended, 0);
    assert.deepEqual(never.exits(), [4]);
  });

  it('SmartOS: init restarted in place (same pid, same zone id) is a reboot, told by the zone\'s init_restarts kstat; each bhyve seen is pinned anew', async () => {
    const z = watchedZone('bsm-r2-1', () => INIT_RESTARTS);
    writeFileSync(join(z.dir, 'pin.sh'), 'echo "pinned $1: vcpu 0 cpu 1"\n');
    z.restarts(0);
    z.set('7', 'running', '300');
    await sleep(3 * POLL_MS);
    assert.deepEqual(z.exits(), []);
    z.restarts(1); // restart_init_notify(): zhyve exec'd again over the same process
    await sleep(3 * POLL_MS);
    assert.deepEqual(z.exits(), [0], 'an in-place init restart is a reboot');
    await sleep(3 * POLL_MS);
    assert.deepEqual(z.exits(), [0], 'one restart, one reboot');
    // The restarted bhyve's vCPU threads are new: pinned again, once per bhyve seen.
    assert.deepEqual(z.file('pinning.log')?.split('\n'), ['pinned 300: vcpu 0 cpu 1', 'pinned 300: vcpu 0 cpu 1']);
    z.set('-', 'installed', '');
    assert.equal(await z.ended, 0);
    assert.deepEqual(z.exits(), [0, 1]);
  });

  it('OmniOS: bhyve restarted in place is a reboot, told by its console socket bound anew (a new inode)', async () => {
    const z = watchedZone('bsm-r3-1', (dir) => socketInode(join(dir, 'vm.com1')));
    const socket = join(z.dir, 'vm.com1');
    writeFileSync(socket, '');
    z.set('8', 'running', '400');
    await sleep(3 * POLL_MS);
    assert.deepEqual(z.exits(), []);
    // uart_backend.c init_sock(): unlink(path), then bind() makes a new one. A file made anew stands in for it.
    const moved = `${socket}.old`;
    renameSync(socket, moved);
    writeFileSync(socket, '');
    rmSync(moved);
    await sleep(3 * POLL_MS);
    assert.deepEqual(z.exits(), [0]);
    z.set('-', 'installed', '');
    assert.equal(await z.ended, 0);
    assert.deepEqual(z.exits(), [0, 1]);
  });
});
