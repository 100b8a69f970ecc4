// A guest's golden disk on a host, as the config's image catalog names it: a
// file (pinned by sha256 or not), a ZFS snapshot, or a SmartOS image. What a
// run used is recorded as an identity (the bits' sha256, the snapshot's guid,
// the image UUID), so a run can be reproduced on the same bits.

export type DiskImage =
  | { kind: 'file'; path: string; sha256?: string }
  | { kind: 'zfs'; snapshot: string }
  | { kind: 'smartos'; uuid: string };

/** What pins the bits a test booted: in results.json (`image`) and JUnit (`bhyve-smoke.image`). */
export interface ImageIdentity {
  /** The image as configured: `file PATH`, `zfs POOL/DS@SNAP`, `smartos UUID`. */
  image: string;
  /** `sha256:HEX`, `guid:N` (a ZFS snapshot's), `uuid:UUID`. */
  id: string;
}

/** A disk as the config names it (guests.X.image.disk, and per host or pool in image.on). */
export type DiskEntry = string | { file: string; sha256?: string } | { zfs: string } | { smartos: string };

/** What a guest's image says of its disks (config/schema.ts's guests.X is one). */
export interface GuestImageOptions {
  image: { disk: DiskEntry; on: Record<string, DiskEntry> };
}

const normalize = (d: DiskEntry): DiskImage =>
  typeof d === 'string' ? { kind: 'file', path: d }
    : 'file' in d ? { kind: 'file', path: d.file, ...(d.sha256 ? { sha256: d.sha256 } : {}) }
      : 'zfs' in d ? { kind: 'zfs', snapshot: d.zfs }
        : { kind: 'smartos', uuid: d.smartos };

/** The guest's golden disk on a host: its own entry, else its pool's, else the guest's default. */
export function diskImageFor(guest: GuestImageOptions, host: string, pool?: string): DiskImage {
  return normalize(guest.image.on[host] ?? (pool ? guest.image.on[pool] : undefined) ?? guest.image.disk);
}

export const describeImage = (i: DiskImage): string =>
  i.kind === 'file' ? `file ${i.path}` : i.kind === 'zfs' ? `zfs ${i.snapshot}` : `smartos ${i.uuid}`;
