// Is the golden disk on the host, and is it the one the config pins? One
// command per image kind, and the identity of what is there: a file's sha256
// (computed every time: for big images, a ZFS snapshot's guid costs nothing),
// a snapshot's guid, a SmartOS image's UUID once imgadm knows it.
import { UnexpectedOutput } from '../platform/host-output.ts';
import type { Platform } from '../platform/types.ts';
import { shQuote } from '../transport/quote.ts';
import { describeImage, type DiskImage, type ImageIdentity } from './disk-image.ts';

/** An image found on a host: its identity, and the bootrom it requires, where its manifest says (SmartOS). */
export type FoundImage = ImageIdentity & { bootrom?: string };

export interface ImageCheck {
  command: string;
  /** The identity of the image found, or why it is not usable. */
  judge(stdout: string, exitCode: number): FoundImage | { problem: string };
}

export function imageCheck(platform: Platform, image: DiskImage): ImageCheck {
  const name = describeImage(image);
  switch (image.kind) {
    case 'file':
      return {
        command: `f=${platform.imagePath(image.path)}; [ -f "$f" ] || { echo "missing: $f"; exit 3; }; ${platform.sha256File}`,
        judge: (out, code) => {
          if (code !== 0) return { problem: `${image.path} is not on the host${out ? ` (${out.split('\n')[0]})` : ''}` };
          const sum = /^[0-9a-f]{64}$/.exec(out.trim())?.[0];
          if (!sum) return { problem: new UnexpectedOutput({ command: platform.sha256File, expected: `the sha256 of ${image.path}, 64 hex digits alone` }, out, 'no such line').message };
          if (image.sha256 && sum !== image.sha256) return { problem: `${image.path}: checksum mismatch: the config pins sha256 ${image.sha256}, the host has ${sum}` };
          return { image: name, id: `sha256:${sum}` };
        },
      };
    case 'zfs':
      // zfs list -H -p: tab-separated, no header, exact numbers.
      return {
        command: `zfs list -H -p -o name,guid -t snapshot ${shQuote(image.snapshot)}`,
        judge: (out, code) => {
          if (code !== 0) return { problem: `ZFS snapshot ${image.snapshot} is not on the host${out ? ` (${out.split('\n')[0]})` : ''}` };
          const [listed, guid] = out.trim().split('\t');
          if (listed !== image.snapshot || !/^\d+$/.test(guid ?? '')) return { problem: new UnexpectedOutput({ command: `zfs list -H -p -o name,guid -t snapshot ${image.snapshot}`, expected: 'one line `SNAPSHOT<TAB>GUID`' }, out, 'not that line').message };
          return { image: name, id: `guid:${guid}` };
        },
      };
    case 'smartos':
      // `imgadm get UUID` prints {"manifest": {...}, "zpool": ...} (smartos-live src/img/lib/cli.js do_get());
      // a bhyve image may require a bootrom (manifest.requirements.bootrom, bios or uefi), which vmadm enforces at create (VM.js validateImage()).
      return {
        command: `imgadm get ${shQuote(image.uuid)}`,
        judge: (out, code) => {
          const missing = { problem: `image ${image.uuid} is not imported on the host (imgadm import ${image.uuid})` };
          if (code !== 0) return missing;
          let manifest: { uuid?: unknown; requirements?: { bootrom?: unknown } } | undefined;
          try {
            manifest = JSON.parse(out).manifest;
          } catch {
            manifest = undefined;
          }
          if (typeof manifest?.uuid !== 'string') return { problem: new UnexpectedOutput({ command: `imgadm get ${image.uuid}`, expected: 'a JSON object with the image\'s `manifest` (cli.js do_get())' }, out, 'no manifest with a uuid').message };
          if (manifest.uuid !== image.uuid) return missing;
          const bootrom = manifest.requirements?.bootrom;
          return { image: name, id: `uuid:${image.uuid}`, ...(typeof bootrom === 'string' ? { bootrom } : {}) };
        },
      };
  }
}
