// The bookkeeping every platform's VmPlan shares: `created` turns true when
// start() says it is about to make something, so a vm that stopped at its
// checks (a name taken, a bootrom missing) is never destroyed in another's
// place.
import type { VmPlan } from './types.ts';

type Started = Awaited<ReturnType<VmPlan['start']>>;

/** A VmPlan whose start() calls `making()` just before it creates anything on the host. */
export function vmPlan(id: string, destroy: string, start: (making: () => void) => Promise<Started>): VmPlan {
  let created = false;
  return {
    id,
    destroy,
    get created() {
      return created;
    },
    start: () => start(() => {
      created = true;
    }),
  };
}
