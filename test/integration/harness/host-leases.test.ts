// Host leases on a real host's shell (the lab host, local): what one process
// holds, another sees, waits for or breaks when its holder stopped renewing it.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHost, type Host } from '../../../harness/host.ts';
import { HostLeases, inspectLeases, releaseLeasesOf, type LeaseOwner } from '../../../harness/run/host-leases.ts';
import { labRunRoot } from '../../helpers/lab.ts';

const owner = (run: string): LeaseOwner => ({ run, pid: 4242, command: `bhyve-smoke run smoke --shard ${run}`, where: 'ci@worker-3', since: '2026-12-05T10:00:00.000Z' });

describe('host leases', () => {
  const lab = labRunRoot();
  let host: Host;
  const notes: string[] = [];
  const leasesOf = (run: string, staleMs = 60_000) => new HostLeases(host, owner(run), staleMs, (l) => notes.push(`${run}: ${l}`));
  const slotDir = (n: number | 'whole') => `${lab.root}/leases/${n === 'whole' ? 'whole' : `slot-${n}`}`;
  /** What a run that died left: its lease last renewed `ageS` seconds ago, by the host's clock. */
  const ageLease = (n: number | 'whole', ageS: number) => writeFileSync(`${slotDir(n)}/alive`, `${Math.floor(Date.now() / 1000) - ageS}\n`);

  before(() => {
    process.env.BHYVE_LAB_RUNDIR = lab.root;
    host = createHost('lab', { transport: 'local', platform: 'lab', capacity: 1, labels: [] });
  });
  after(async () => {
    delete process.env.BHYVE_LAB_RUNDIR;
    await host.close();
    lab.cleanup();
  });

  it('a slot one process holds is held for another, which is told who holds it; released, it is the other\'s', async () => {
    const a = leasesOf('aaaa1111');
    const b = leasesOf('bbbb2222');
    assert.deepEqual((await a.take(1, false)).taken, ['slot-0']);
    assert.match(readFileSync(`${slotDir(0)}/owner`, 'utf8'), /^run=aaaa1111\npid=4242\ncommand=bhyve-smoke run smoke --shard aaaa1111\nwhere=ci@worker-3\nsince=/);
    const held = await b.take(1, false);
    assert.equal(held.taken, undefined);
    assert.deepEqual(held.heldBy?.map((l) => [l.slot, l.owner.run, l.owner.where, l.owner.pid]), [['slot-0', 'aaaa1111', 'ci@worker-3', '4242']]);
    assert.ok(held.heldBy![0].ageS >= 0 && held.heldBy![0].ageS < 5, `renewed just now: ${held.heldBy![0].ageS} s`);
    // A second slot of a host with capacity 2 is free for b.
    assert.deepEqual((await b.take(2, false)).taken, ['slot-1']);
    await a.release(['slot-0']);
    assert.ok(!existsSync(slotDir(0)), 'released: the slot folder is gone');
    await b.release(['slot-1']);
  });

  it('an exclusive lease holds the whole host: taken only with no slot held, and no slot is taken beside it, whatever capacity a process thinks the host has', async () => {
    const a = leasesOf('aaaa1111');
    const b = leasesOf('bbbb2222');
    assert.deepEqual((await a.take(2, false)).taken, ['slot-0']);
    const refused = await b.take(1, true);
    assert.equal(refused.taken, undefined, 'a slot is held');
    assert.deepEqual(refused.heldBy.map((l) => [l.slot, l.owner.run]), [['slot-0', 'aaaa1111']]);
    assert.ok(!existsSync(slotDir('whole')), 'it let go of the whole host it had made');
    await a.release(['slot-0']);
    assert.deepEqual((await b.take(1, true)).taken, ['whole']);
    const c = await leasesOf('cccc3333').take(8, false);
    assert.equal(c.taken, undefined);
    assert.deepEqual(c.heldBy.map((l) => [l.slot, l.owner.run]), [['whole', 'bbbb2222']]);
    assert.ok(!existsSync(slotDir(0)), 'the slot it made beside the whole host is gone again');
    await b.release(['whole']);
  });

  it('a lease not renewed for the stale time is broken by the next taker, which says whose it was; one renewed is not', async () => {
    const dead = leasesOf('dead0000');
    assert.deepEqual((await dead.take(1, false)).taken, ['slot-0']);
    ageLease(0, 30); // Its run died 30 s ago, by the host's clock (its renewal, every 15 s, has not come yet).
    const fresh = await leasesOf('eeee5555', 60_000).take(1, false);
    assert.equal(fresh.taken, undefined, 'within 60 s it is not stale');
    const next = leasesOf('ffff6666', 10_000);
    const broke = await next.take(1, false);
    assert.deepEqual(broke.taken, ['slot-0']);
    assert.deepEqual(broke.broke.map((l) => [l.slot, l.owner.run]), [['slot-0', 'dead0000']]);
    assert.ok(broke.broke[0].ageS >= 30, `${broke.broke[0].ageS}`);
    // The dead run's renewal finds its lease gone and says so.
    await (dead as unknown as { renew(): Promise<void> }).renew();
    assert.ok(notes.some((n) => /^dead0000: lease on lab \(slot 0\) was broken by another process and is now run ffff6666/.test(n)), notes.join('\n'));
    await next.release(['slot-0']);
  });

  it('a lease that says it outlives a longer silence (a gate\'s, held through reboots) is not stale at the breaker\'s own time', async () => {
    const gate = new HostLeases(host, { ...owner('gate0000'), stale: 120 }, 10_000, () => {});
    assert.deepEqual((await gate.take(1, false)).taken, ['slot-0']);
    assert.match(readFileSync(`${slotDir(0)}/owner`, 'utf8'), /^stale=120$/m);
    ageLease(0, 30);
    const other = await leasesOf('dddd4444', 10_000).take(1, false);
    assert.deepEqual([other.taken, other.broke, other.heldBy.map((l) => l.owner.run)], [undefined, [], ['gate0000']]);
    ageLease(0, 130);
    assert.deepEqual((await leasesOf('dddd4444', 10_000).take(1, false)).broke.map((l) => l.owner.run), ['gate0000'], 'past its own time it is');
    await releaseLeasesOf(host, 'dddd4444');
  });

  it('a holder that lives renews its lease: a stale time of 2 s passes and it is still held', async () => {
    const a = leasesOf('aaaa1111', 2_000);
    await a.take(1, false);
    await sleep(3_500);
    assert.equal((await leasesOf('bbbb2222', 2_000).take(1, false)).taken, undefined, 'renewed every 0.5 s');
    await a.releaseAll();
    assert.ok(!existsSync(slotDir(0)));
  });

  it('clean\'s view: every lease with its age, the stale ones broken; and the leases of a dead run let go by its id', async () => {
    const a = leasesOf('aaaa1111');
    const b = leasesOf('bbbb2222');
    await a.take(2, false);
    await b.take(2, false);
    ageLease(1, 120);
    const seen = await inspectLeases(host, 60_000);
    assert.deepEqual(seen.broke.map((l) => l.owner.run), ['bbbb2222']);
    assert.deepEqual(seen.held.map((l) => l.owner.run), ['aaaa1111']);
    assert.equal(await releaseLeasesOf(host, 'aaaa1111'), 1);
    assert.equal(await releaseLeasesOf(host, 'aaaa1111'), 0);
    assert.deepEqual((await inspectLeases(host, 60_000)).held, []);
    await a.releaseAll();
    await b.releaseAll();
  });
});
