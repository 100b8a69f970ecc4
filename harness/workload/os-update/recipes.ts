// Which update recipes each guest OS family has, in the order auto-detection
// tries them. The synthetic lab update is only ever used when named.
import type { GuestOs } from '../../guest/adapter.ts';
import { freebsdUpdate } from './freebsd.ts';
import { labSynthetic } from './lab-synthetic.ts';
import { apt, dnf, zypper } from './linux.ts';
import type { UpdateRecipe } from './recipe.ts';
import { windowsUpdate } from './windows.ts';

export const UPDATE_RECIPES: Record<GuestOs, readonly UpdateRecipe[]> = {
  linux: [apt, dnf, zypper, labSynthetic],
  freebsd: [freebsdUpdate],
  windows: [windowsUpdate],
};
