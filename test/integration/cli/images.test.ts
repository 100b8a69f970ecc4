// Golden images on the lab: every vm boots from its own qcow2 overlay, so a
// test's writes (the synthetic update writes 8 MiB and a version record to the
// disk, and reads them back after a reboot) never reach the golden disk; the
// image's identity goes into the results and JUnit; a missing image or a
// checksum mismatch stops the run before any vm exists (exit 3), an image the
// host cannot clone is a config error (exit 2).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { BUILTIN_CONFIG } from '../../../harness/config/defaults.ts';
import type { RunResult } from '../../../harness/report/results.ts';
import { inSandbox } from '../../helpers/cli.ts';
import { labGuestDir } from '../../helpers/lab.ts';

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const configWith = (disk: unknown) => stringify({
  ...BUILTIN_CONFIG,
  guests: { linux: { ...(BUILTIN_CONFIG.guests as Record<string, object>).linux, image: { bootrom: '@lab/guest', disk } } },
});
const results = (dir: string): RunResult => JSON.parse(readFileSync(join(dir, 'out/results.json'), 'utf8'));

describe('golden images and per-vm clones on the lab', { timeout: 600_000 }, () => {
  it('an update written inside the vm stays in its overlay: the golden disk keeps its sha256, which the results record', async () => {
    await inSandbox(async (box) => {
      const golden = join(box.dir, 'golden.img');
      copyFileSync(join(labGuestDir(), 'disk.img'), golden);
      const before = sha256(golden);
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), configWith({ file: golden, sha256: before }));
      const r = await box.run(['run', 'update-under-wrlock', '--output', 'out']);
      assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
      const t = results(box.dir).tests[0];
      assert.ok(t.checks.some((c) => c.name === 'the updated system is running' && c.status === 'passed'), 'the update was written and read back after the reboot');
      assert.equal(sha256(golden), before, 'the vm wrote to the golden disk');
      assert.deepEqual(t.image, { image: `file ${golden}`, id: `sha256:${before}` });
      assert.match(readFileSync(join(box.dir, 'out/junit.xml'), 'utf8'), new RegExp(`<property name="bhyve-smoke.image" value="file ${golden} sha256:${before}"/>`));
      assert.match(t.timeline.events.find((e) => e.kind === 'started')?.detail ?? '', /virtio-blk,\S+\/disk\.qcow2/, 'bhyve got the overlay, not the image');
    });
  });

  const refusals: Array<[string, (box: string) => unknown, number, RegExp]> = [
    ['a checksum mismatch', (dir) => ({ file: join(dir, 'golden.img'), sha256: '0'.repeat(64) }), 3, /checksum mismatch: the config pins sha256 0{64}, the host has [0-9a-f]{64}/],
    ['a missing image', () => ({ file: '/nonexistent/golden.img' }), 3, /\/nonexistent\/golden\.img is not on the host/],
    ['a ZFS image on the lab', () => ({ zfs: 'tank/images/debian@golden' }), 2, /hosts\.lab: zfs tank\/images\/debian@golden cannot boot a vm on lab hosts: the lab boots from files/],
  ];
  for (const [what, disk, exit, message] of refusals) {
    it(`refuses ${what} before any vm exists: exit ${exit}`, async () => {
      await inSandbox(async (box) => {
        copyFileSync(join(labGuestDir(), 'disk.img'), join(box.dir, 'golden.img'));
        writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), configWith(disk(box.dir)));
        const r = await box.run(['run', 'smoke', '--output', 'out']);
        assert.equal(r.exitCode, exit, `${r.stdout}\n${r.stderr}`);
        const said = exit === 2 ? String(r.stderr) : results(box.dir).tests[0].error?.message ?? '';
        assert.match(said, message);
        if (exit === 3) assert.equal(results(box.dir).tests[0].vm, undefined, 'no vm may be started');
      });
    });
  }
});
