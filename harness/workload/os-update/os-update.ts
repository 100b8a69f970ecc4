// The OS update workload: find the guest's update tool (or take the one the
// guest config names), run it to completion, keep its output with the test,
// and after the reboot ask whether the updated system is the one running.
import { CheckFailure } from '../../errors.ts';
import type { Timeline } from '../../timeline.ts';
import type { Vm } from '../../vm.ts';
import type { UpdatedState, UpdateMethod, UpdateOutcome, UpdateRecipe } from './recipe.ts';
import { UPDATE_RECIPES } from './recipes.ts';

export class OsUpdate {
  private chosen?: UpdateRecipe;

  constructor(
    private readonly vm: Vm,
    private readonly timeline: Timeline,
    /** Keeps the update's raw output with the test (its attach()). */
    private readonly keep: (name: string, content: string) => void,
  ) {}

  /** The recipe this guest updates with: the configured one, or the first tool found in the guest. */
  async recipe(): Promise<UpdateRecipe> {
    if (this.chosen) return this.chosen;
    const method = this.vm.updateMethod;
    const recipes = UPDATE_RECIPES[this.vm.os];
    // The config schema has checked the method is one for the guest's OS.
    if (method !== 'auto') return (this.chosen = recipes.find((r) => r.method === method)!);
    for (const r of recipes) {
      if (r.detect && (await this.vm.run(r.detect, { allowFailure: true })).status === 0) return (this.chosen = r);
    }
    throw new CheckFailure(`${this.vm.name}: no update tool found in the guest (looked for ${recipes.filter((r) => r.detect).map((r) => r.method).join(', ')}); name one with guests.<name>.update`);
  }

  /** Runs the update to completion (or until timeoutMs). A tool that reports failure is a failed update, not an error. */
  async run(timeoutMs: number): Promise<UpdateOutcome & { method: UpdateMethod; real: boolean }> {
    const recipe = await this.recipe();
    this.timeline.event('os-update-start', `${recipe.method}${recipe.real ? '' : ' (synthetic, not a real OS update)'}`);
    const r = await this.vm.run(recipe.command, { timeoutMs, allowFailure: true });
    this.keep('os-update.txt', `$ ${recipe.command}\n${r.output}\n(exit ${r.status})\n`);
    const outcome = recipe.parse(r.output, r.status);
    this.timeline.event('os-update-end', outcome.summary);
    return { ...outcome, method: recipe.method, real: recipe.real };
  }

  /** After the reboot: the updated system runs and nothing is left pending. */
  async verify(): Promise<UpdatedState> {
    const recipe = await this.recipe();
    const r = await this.vm.run(recipe.verify.command, { allowFailure: true });
    this.keep('os-update-verify.txt', `$ ${recipe.verify.command}\n${r.output}\n(exit ${r.status})\n`);
    return recipe.verify.parse(r.output, r.status);
  }
}
