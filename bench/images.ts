// Figures of per-vm clones on the lab: what making a vm's disk costs as each
// platform makes it here (a qcow2 overlay; the full copy a plain file gets on
// illumos and FreeBSD), and what pinning a file by sha256 costs at every run
// start. The commands are the platform's own recipes, run on the lab's disk.
import { execa } from 'execa';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labPlatform } from '../harness/platform/lab.ts';
import { copyFile } from '../harness/platform/illumos.ts';
import { imageCheck } from '../harness/image/verify.ts';
import { shQuote } from '../harness/transport/quote.ts';
import { labGuestDir } from '../test/helpers/lab.ts';
import { fmt, median } from './stats.ts';

const ROUNDS = 10;

async function timed(command: string): Promise<number> {
  const t = performance.now();
  await execa('sh', ['-c', command]);
  return performance.now() - t;
}

export async function benchImages(): Promise<void> {
  const golden = join(labGuestDir(), 'disk.img');
  const mib = statSync(golden).size / 1048576;
  const lab = labPlatform();
  const dir = mkdtempSync(join(tmpdir(), 'bsm-bench-images-'));
  try {
    const overlays: number[] = [];
    const copies: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const vmDir = join(dir, `vm${i}`);
      await execa('mkdir', ['-p', vmDir]);
      overlays.push(await timed(lab.cloneFile!(shQuote(golden), vmDir).create));
      copies.push(await timed(copyFile(shQuote(golden), vmDir).create));
    }
    console.log(`golden disk:        ${mib.toFixed(0)} MiB (${golden})`);
    console.log(`qcow2 overlay:      median ${fmt(median(overlays))}, max ${fmt(Math.max(...overlays))} per vm (n=${ROUNDS})`);
    console.log(`full copy (cp):     median ${fmt(median(copies))}, max ${fmt(Math.max(...copies))} per vm (n=${ROUNDS}; a plain file on illumos/FreeBSD)`);
    const checks: number[] = [];
    for (let i = 0; i < 3; i++) checks.push(await timed(imageCheck(lab, { kind: 'file', path: golden }).command));
    const check = median(checks);
    console.log(`sha256 pin check:   median ${fmt(check)} (${(mib / (check / 1000)).toFixed(0)} MiB/s; n=${checks.length}) at every run start`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
