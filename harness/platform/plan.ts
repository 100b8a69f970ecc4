// The bookkeeping every platform's VmPlan shares: `created` turns true when
// start() says it is about to make something, so a vm that stopped at its
// checks (a name taken, a bootrom missing) is never destroyed in another's
// place; and what of a vm may remain on its host after its destroy, which
// teardown looks for rather than trusts (bhyvectl --destroy exits 0 whatever
// happened: illumos and FreeBSD bhyvectl.c, vm_destroy() is void).
import { shQuote } from '../transport/quote.ts';
import type { VmPlan } from './types.ts';

type Started = Awaited<ReturnType<VmPlan['start']>>;

/** A VmPlan whose start() calls `making()` just before it creates anything on the host. */
export function vmPlan(o: { id: string; dir: string; destroy: string; dataset?: string }, start: (making: () => void) => Promise<Started>): VmPlan {
  let created = false;
  const dir = shQuote(o.dir);
  return {
    id: o.id,
    destroy: o.destroy,
    remains: [
      `[ -e ${dir} ] && echo "folder ${o.dir}"`,
      ...(o.dataset ? [`zfs list -H -o name ${shQuote(o.dataset)} >/dev/null 2>&1 && echo "clone ${o.dataset}"`] : []),
      'true',
    ].join('; '),
    get created() {
      return created;
    },
    start: () => start(() => {
      created = true;
    }),
  };
}
