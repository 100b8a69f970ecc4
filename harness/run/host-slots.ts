// Where a test runs: a free slot on one of the hosts able to run it. Each host
// has as many slots as its capacity; a test takes the candidate with the most
// free share of its slots, or waits for one to be released. An exclusive test
// (a measurement) takes all of a host's slots, and only when all are free.
export class HostSlots {
  private readonly free = new Map<string, number>();
  private waiters: Array<() => void> = [];

  constructor(private readonly capacity: ReadonlyMap<string, number>) {
    for (const [h, c] of capacity) this.free.set(h, c);
  }

  /** Waits for a slot (or, exclusive, a whole idle host) and returns the host; give it back with release(). */
  async acquire(candidates: readonly string[], exclusive = false): Promise<string> {
    for (;;) {
      const share = (h: string) => this.free.get(h)! / this.capacity.get(h)!;
      const open = candidates.filter((h) => (exclusive ? share(h) === 1 : this.free.get(h)! > 0));
      if (open.length) {
        const best = open.reduce((a, b) => (share(b) > share(a) ? b : a));
        this.free.set(best, exclusive ? 0 : this.free.get(best)! - 1);
        return best;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  release(host: string, exclusive = false): void {
    this.free.set(host, exclusive ? this.capacity.get(host)! : this.free.get(host)! + 1);
    const waiting = this.waiters;
    this.waiters = [];
    for (const wake of waiting) wake();
  }
}
