// Every vm boots from its own copy-on-write clone of the golden disk, made
// when the vm is provisioned and destroyed with it, so one test's update or
// crash never reaches the next: a qcow2 overlay in the lab, a ZFS clone of a
// snapshot on illumos, OmniOS and FreeBSD, a full copy of a plain file
// elsewhere; on SmartOS vmadm clones the imported image itself.
import type { HostOptions } from '../platform/types.ts';
import { ConfigError } from '../errors.ts';
import type { Platform } from '../platform/types.ts';
import { shQuote } from '../transport/quote.ts';
import { describeImage, type DiskImage } from './disk-image.ts';

export interface Clone {
  /** Shell commands creating the clone. */
  create: string;
  /** The disk path bhyve gets (SmartOS: the image UUID vmadm clones). */
  disk: string;
  /** The clone's ZFS dataset, for platforms that name the dataset rather than the device (OmniOS's bootdisk). */
  dataset?: string;
  /** Shell commands removing the clone when it lives outside the vm's folder (a ZFS dataset). */
  destroy?: string;
}

/** The ZFS clone of a vm: named after it, so it carries the run's prefix and id. */
export const cloneDataset = (cloneRoot: string, vmName: string) => `${cloneRoot}/${vmName}`;

/** Removes a vm's ZFS clone, and any snapshot taken of it. */
export const destroyCloneDataset = (dataset: string) => `zfs destroy -r ${shQuote(dataset)}`;

/** What to pin instead, per platform, when an image kind does not fit it. */
const PIN_HINT: Partial<Record<Platform['kind'], string>> = {
  smartos: 'import the image with imgadm and pin it as { smartos: UUID }',
  omnios: 'zones boot from ZFS volumes: pin a snapshot as { zfs: pool/dataset@snapshot }',
  lab: 'the lab boots from files',
};

/** How a vm of this host gets its clone of `image`; a ConfigError when the host cannot hold that kind of image. */
export function cloneFor(platform: Platform, host: { name: string; config: HostOptions }, image: DiskImage, vmName: string, vmDir: string): Clone {
  if (!platform.images.includes(image.kind)) {
    const hint = PIN_HINT[platform.kind];
    throw new ConfigError(`hosts.${host.name}: ${describeImage(image)} cannot boot a vm on ${platform.kind} hosts${hint ? `: ${hint}` : ''}`);
  }
  switch (image.kind) {
    case 'file':
      if (!platform.cloneFile) throw new ConfigError(`hosts.${host.name}: a ${platform.kind} host cannot copy ${describeImage(image)}`);
      return platform.cloneFile(platform.imagePath(image.path), vmDir);
    case 'zfs': {
      if (!platform.zvol) throw new ConfigError(`hosts.${host.name}: ${describeImage(image)} is a ZFS snapshot, and a ${platform.kind} host has no ZFS volumes for it`);
      if (!host.config.cloneRoot) throw new ConfigError(`hosts.${host.name}.cloneRoot: needed for ${describeImage(image)}: the dataset under which each vm gets its clone`);
      const dataset = cloneDataset(host.config.cloneRoot, vmName);
      return {
        create: `zfs clone ${shQuote(image.snapshot)} ${shQuote(dataset)}`,
        disk: platform.zvol(dataset),
        dataset,
        destroy: destroyCloneDataset(dataset),
      };
    }
    case 'smartos':
      // vmadm clones the image into the vm's disk itself (disks[].image_uuid) and deletes it with the vm.
      return { create: 'true', disk: image.uuid };
  }
}

/**
 * Checks, before a run starts, that a host can boot a guest: its bootrom is one
 * the platform takes, and its golden disk one the host can clone. Config
 * mistakes are exit 2.
 */
export function checkBootable(platform: Platform, host: { name: string; config: HostOptions }, guest: { name: string; bootrom: string; image: DiskImage }): void {
  const problem = platform.checkBootrom?.(guest.bootrom);
  if (problem) throw new ConfigError(`guests.${guest.name}.image.bootrom: ${problem} (on host ${host.name})`);
  cloneFor(platform, host, guest.image, 'check', '/nonexistent');
}
