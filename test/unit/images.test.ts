// The image catalog: which golden disk a vm of a host is cloned from, how each
// platform clones it, and how a host's copy is checked against the pin.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validate } from '../../harness/config/load.ts';
import { BUILTIN_CONFIG } from '../../harness/config/defaults.ts';
import type { HostConfig } from '../../harness/config/schema.ts';
import { platformFor } from '../../harness/host.ts';
import { cloneFor } from '../../harness/image/clone.ts';
import { diskImageFor } from '../../harness/image/disk-image.ts';
import { imageCheck } from '../../harness/image/verify.ts';
import { exitCodeOf, type TestResult } from '../../harness/report/results.ts';
import type { PlatformKind } from '../../harness/platform/types.ts';

const SHA = 'a'.repeat(64);
const guestWith = (image: unknown) => validate({ ...BUILTIN_CONFIG, guests: { g: { os: 'linux', image, credentials: { passwordEnv: 'P' } } } }, 'c.yaml').guests.g;
const host = (platform: PlatformKind, over: Partial<HostConfig> = {}) => {
  const config = { transport: 'ssh', ssh: 'root@h', platform, capacity: 1, labels: [], nic: 'vnic0', ...over } as HostConfig;
  return { name: 'h1', config, platform: platformFor(platform, config) };
};

describe('the image catalog', () => {
  it('takes a file, a pinned file, a ZFS snapshot or a SmartOS image, and a different one per host or pool', () => {
    const g = guestWith({ bootrom: 'b', disk: { file: '/img/deb.raw', sha256: SHA }, on: { h1: { zfs: 'tank/img/deb@golden' }, gate: { smartos: '2f1dc911-6401-4fa4-8e9d-67ea2e39c271' } } });
    assert.deepEqual(diskImageFor(g, 'h1'), { kind: 'zfs', snapshot: 'tank/img/deb@golden' });
    assert.deepEqual(diskImageFor(g, 'h2', 'gate'), { kind: 'smartos', uuid: '2f1dc911-6401-4fa4-8e9d-67ea2e39c271' });
    assert.deepEqual(diskImageFor(g, 'h3'), { kind: 'file', path: '/img/deb.raw', sha256: SHA });
    assert.deepEqual(diskImageFor(guestWith({ bootrom: 'b', disk: '/img/x.raw' }), 'h1'), { kind: 'file', path: '/img/x.raw' });
  });

  for (const [what, disk, message] of [
    ['a short sha256', { file: '/x', sha256: 'abc' }, /sha256 in lower-case hex/],
    ['a ZFS dataset that is no snapshot', { zfs: 'tank/img/deb' }, /a ZFS snapshot: pool\/dataset@snapshot/],
    ['a SmartOS image that is no UUID', { smartos: 'debian-12' }, /a SmartOS image UUID/],
  ] as const) {
    it(`rejects ${what}`, () => assert.throws(() => guestWith({ bootrom: 'b', disk }), (e: Error) => e.name === 'ConfigError' && /guests\.g\.image\.disk/.test(e.message) && message.test(e.message)));
  }
});

describe('per-vm clones', () => {
  it('the lab: a qcow2 overlay in the vm folder, backed by the golden disk at its absolute path', () => {
    const { platform, ...h } = host('lab');
    const c = cloneFor(platform, h, { kind: 'file', path: '/img/deb.raw' }, 'bsm-r1-1', '/tmp/bhyve-smoke/r1/bsm-r1-1');
    assert.equal(c.disk, '/tmp/bhyve-smoke/r1/bsm-r1-1/disk.qcow2');
    assert.match(c.create, /^g=\$\(realpath \/img\/deb\.raw\) && fmt=\$\(qemu-img info -U --output=json "\$g" .*qemu-img create -q -f qcow2 -F "\$fmt" -b "\$g" \/tmp\/bhyve-smoke\/r1\/bsm-r1-1\/disk\.qcow2$/);
    assert.equal(c.destroy, undefined, 'the overlay goes with the vm folder');
  });

  it('illumos and FreeBSD: a ZFS clone named after the vm under cloneRoot, opened as a zvol, destroyed with the vm', () => {
    const ill = host('illumos', { cloneRoot: 'rpool/bsm' });
    assert.deepEqual(cloneFor(ill.platform, ill, { kind: 'zfs', snapshot: 'tank/img/deb@golden' }, 'bsm-r1-1', '/var/tmp/x'), {
      create: 'zfs clone tank/img/deb@golden rpool/bsm/bsm-r1-1', disk: '/dev/zvol/rdsk/rpool/bsm/bsm-r1-1', dataset: 'rpool/bsm/bsm-r1-1', destroy: 'zfs destroy -r rpool/bsm/bsm-r1-1',
    });
    const fb = host('freebsd', { cloneRoot: 'zroot/bsm' });
    assert.equal(cloneFor(fb.platform, fb, { kind: 'zfs', snapshot: 'zroot/img@g' }, 'bsm-r1-2', '/var/tmp/x').disk, '/dev/zvol/zroot/bsm/bsm-r1-2');
    assert.deepEqual(cloneFor(ill.platform, ill, { kind: 'file', path: '/img/w.raw' }, 'bsm-r1-3', '/var/tmp/r1/bsm-r1-3'), { create: 'cp /img/w.raw /var/tmp/r1/bsm-r1-3/disk.img', disk: '/var/tmp/r1/bsm-r1-3/disk.img' });
  });

  it('names the config mistake when a host cannot clone an image', () => {
    const cases: Array<[ReturnType<typeof host>, Parameters<typeof cloneFor>[2], RegExp]> = [
      [host('lab'), { kind: 'zfs', snapshot: 't/i@g' }, /hosts\.h1: zfs t\/i@g cannot boot a vm on lab hosts: the lab boots from files/],
      [host('illumos'), { kind: 'zfs', snapshot: 't/i@g' }, /hosts\.h1\.cloneRoot: needed for zfs t\/i@g/],
      [host('illumos', { cloneRoot: 'r/b' }), { kind: 'smartos', uuid: 'u' }, /smartos u cannot boot a vm on illumos hosts$/],
      [host('smartos'), { kind: 'file', path: '/img/deb.raw' }, /file \/img\/deb\.raw cannot boot a vm on smartos hosts: import the image with imgadm and pin it as \{ smartos: UUID \}/],
      [host('smartos'), { kind: 'zfs', snapshot: 't/i@g' }, /imgadm/],
      [host('omnios', { cloneRoot: 'r/b' }), { kind: 'file', path: '/img/deb.raw' }, /cannot boot a vm on omnios hosts: zones boot from ZFS volumes: pin a snapshot as \{ zfs: pool\/dataset@snapshot \}/],
      [host('omnios'), { kind: 'zfs', snapshot: 't/i@g' }, /hosts\.h1\.cloneRoot: needed for zfs t\/i@g/],
    ];
    for (const [h, image, message] of cases) assert.throws(() => cloneFor(h.platform, h, image, 'v', '/d'), (e: Error) => e.name === 'ConfigError' && message.test(e.message));
  });
});

describe('checking a golden disk on its host', () => {
  const lab = host('lab').platform;
  it('a file: its sha256 is its identity, and a pinned one must match', () => {
    const check = imageCheck(lab, { kind: 'file', path: '/img/deb.raw', sha256: SHA });
    assert.match(check.command, /sha256sum -- "\$f" \| cut -d " " -f 1$/);
    assert.deepEqual(check.judge(`${SHA}\n`, 0), { image: 'file /img/deb.raw', id: `sha256:${SHA}` });
    assert.deepEqual(check.judge(`${'b'.repeat(64)}\n`, 0), { problem: `/img/deb.raw: checksum mismatch: the config pins sha256 ${SHA}, the host has ${'b'.repeat(64)}` });
    assert.deepEqual(check.judge('missing: /img/deb.raw', 3), { problem: '/img/deb.raw is not on the host (missing: /img/deb.raw)' });
    assert.equal(imageCheck(host('illumos').platform, { kind: 'file', path: '/x' }).command.endsWith('digest -a sha256 "$f"'), true);
    assert.equal(imageCheck(host('freebsd').platform, { kind: 'file', path: '/x' }).command.endsWith('sha256 -q "$f"'), true);
    // Output in another shape (GNU sha256sum's whole line, when the recipe's cut is lost) is quoted, not read as "no image".
    assert.match((check.judge(`${SHA}  /img/deb.raw\n`, 0) as { problem: string }).problem, /printed what bhyve-smoke cannot read: no such line; expected the sha256 of \/img\/deb.raw[\s\S]*\| [0-9a-f]{64}  \/img\/deb.raw/);
  });

  it('a ZFS snapshot: `zfs list -H -p` (one tab-separated line, exact numbers) gives its guid', () => {
    const check = imageCheck(host('illumos').platform, { kind: 'zfs', snapshot: 'tank/img/deb@golden' });
    assert.equal(check.command, 'zfs list -H -p -o name,guid -t snapshot tank/img/deb@golden');
    assert.deepEqual(check.judge('tank/img/deb@golden\t8717382134762914562\n', 0), { image: 'zfs tank/img/deb@golden', id: 'guid:8717382134762914562' });
    assert.match((check.judge("cannot open 'tank/img/deb@golden': dataset does not exist", 1) as { problem: string }).problem, /ZFS snapshot tank\/img\/deb@golden is not on the host \(cannot open/);
    // Without -H: the header and columns, which is not the snapshot missing.
    assert.match((check.judge('NAME                  GUID\ntank/img/deb@golden   8717382134762914562\n', 0) as { problem: string }).problem, /`zfs list -H -p -o name,guid -t snapshot tank\/img\/deb@golden` printed what bhyve-smoke cannot read[\s\S]*\| NAME {18}GUID/);
  });

  it('a SmartOS image: `imgadm get` prints {"manifest": …}; its uuid is its identity, its requirements.bootrom what vmadm will insist on', () => {
    const uuid = '2f1dc911-6401-4fa4-8e9d-67ea2e39c271';
    const check = imageCheck(host('smartos').platform, { kind: 'smartos', uuid });
    assert.equal(check.command, `imgadm get ${uuid}`);
    // The shape of src/img/lib/cli.js do_get(): the manifest wrapped with the zpool it is in.
    const got = (requirements?: object) => JSON.stringify({ manifest: { v: 2, uuid, name: 'debian-12', ...(requirements ? { requirements } : {}) }, zpool: 'zones' }, null, 2);
    assert.deepEqual(check.judge(got({ brand: 'bhyve', bootrom: 'uefi' }), 0), { image: `smartos ${uuid}`, id: `uuid:${uuid}`, bootrom: 'uefi' });
    assert.deepEqual(check.judge(got(), 0), { image: `smartos ${uuid}`, id: `uuid:${uuid}` });
    assert.match((check.judge('imgadm get: error (ImageNotInstalled): image "…" was not found on zpool "zones"', 1) as { problem: string }).problem, /is not imported on the host \(imgadm import /);
    assert.match((check.judge('not json', 0) as { problem: string }).problem, /`imgadm get [\w-]+` printed what bhyve-smoke cannot read: no manifest with a uuid[\s\S]*\| not json/);
    assert.match((check.judge(JSON.stringify({ uuid, name: 'debian-12' }), 0) as { problem: string }).problem, /no manifest with a uuid/, 'a bare manifest (another imgadm) is not "not imported"');
  });
});

describe('a config asking what a host cannot do', () => {
  it('is a ConfigError, and a run whose tests end so exits 2 (after any failure, before any infrastructure error)', () => {
    const t = (status: TestResult['status'], type?: string) => ({ status, ...(type ? { error: { type, message: '' } } : {}) }) as TestResult;
    assert.equal(exitCodeOf([t('passed'), t('error', 'ConfigError')]), 2);
    assert.equal(exitCodeOf([t('error', 'InfraError'), t('error', 'ConfigError')]), 2);
    assert.equal(exitCodeOf([t('failed', 'HangDetected'), t('error', 'ConfigError')]), 1);
    assert.equal(exitCodeOf([t('error', 'InfraError')]), 3);
  });

  it('a skip or a flaky pass fails the run only when asked (--fail-on-skip, --fail-on-flaky-tests), and never over a worse exit', () => {
    const t = (status: TestResult['status'], type?: string) => ({ status, ...(type ? { error: { type, message: '' } } : {}) }) as TestResult;
    assert.equal(exitCodeOf([t('passed'), t('skipped'), t('flaky')]), 0);
    assert.equal(exitCodeOf([t('passed'), t('skipped')], undefined, { skip: true }), 1);
    assert.equal(exitCodeOf([t('passed'), t('skipped')], undefined, { flaky: true }), 0);
    assert.equal(exitCodeOf([t('flaky')], undefined, { flaky: true }), 1);
    assert.equal(exitCodeOf([t('skipped'), t('error', 'InfraError')], undefined, { skip: true }), 3);
    assert.equal(exitCodeOf([t('skipped')], 'SIGINT', { skip: true }), 130);
  });
});
