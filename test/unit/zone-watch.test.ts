// The zone watcher's logic, run by /bin/sh as on a host: what it writes to the
// exit log as a zone's bhyve comes and goes. `pgrep` and `zoneadm` are
// stand-ins on PATH that answer from two files the test writes (the zone's
// `zoneadm list -p` line, the bhyve pid): no illumos host runs here, and the
// script's decisions are what is under test.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { parseExits } from '../../harness/platform/supervisor.ts';
import { ZONE_DOWN_POLLS, ZONE_WATCH_SH } from '../../harness/platform/zone-watch.ts';

const root = mkdtempSync(join(tmpdir(), 'bsm-zone-watch-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A zone the stand-ins report, and the watcher watching it. */
function watchedZone(name: string) {
  const dir = join(root, name);
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const state = (file: string) => join(dir, file);
  writeFileSync(join(bin, 'pgrep'), `#!/bin/sh\n[ -s ${state('pid')} ] && cat ${state('pid')}\n`);
  writeFileSync(join(bin, 'zoneadm'), `#!/bin/sh\ncat ${state('zone')}\n`);
  chmodSync(join(bin, 'pgrep'), 0o755);
  chmodSync(join(bin, 'zoneadm'), 0o755);
  writeFileSync(join(dir, 'zone-watch.sh'), ZONE_WATCH_SH);
  const set = (zoneid: string, zoneState: string, pid: string) => {
    writeFileSync(state('zone'), `${zoneid}:${name}:${zoneState}:/zones/${name}:u:bhyve:excl:9\n`);
    writeFileSync(state('pid'), pid);
  };
  set('-', 'installed', '');
  const child = spawn('/bin/sh', [join(dir, 'zone-watch.sh'), dir, name, 'bhyve'], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, stdio: 'ignore' });
  const ended = new Promise<number | null>((done) => child.on('exit', done));
  after(() => child.kill());
  return {
    set,
    ended,
    exits: () => parseExits(existsSync(join(dir, 'exits')) ? readFileSync(join(dir, 'exits'), 'utf8') : '').map((e) => e.status),
    file: (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8').trim() : undefined),
  };
}

const POLL_MS = 500;
const GRACE_MS = ZONE_DOWN_POLLS * POLL_MS;

describe('the zone watcher', () => {
  it('a new bhyve or a new zone instance is a reboot (0); a zone down past the grace a poweroff (1); bhyve never seen an error (4)', async () => {
    const z = watchedZone('bsm-r1-1');
    const never = watchedZone('bsm-r1-2');
    z.set('5', 'running', '100');
    await sleep(3 * POLL_MS);
    assert.equal(z.file('bhyve.pid'), '100');
    assert.match(z.file('supervisor.pid') ?? '', /^\d+$/);
    assert.deepEqual(z.exits(), [], 'the first bhyve is a start, not an exit');

    // OmniOS-style: the brand starts bhyve again in the running zone.
    z.set('5', 'running', '200');
    await sleep(3 * POLL_MS);
    assert.deepEqual(z.exits(), [0]);
    assert.equal(z.file('bhyve.pid'), '200');

    // SmartOS-style: the zone itself reboots, through `installed` for less than the grace, and comes back with a new id.
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
});
