// Where a test runs: a free slot on one of the hosts able to run it. Each host
// has as many slots as its capacity; a test takes the candidate with the most
// free share of its slots, or waits for one to be released. An exclusive test
// (a measurement) takes all of a host's slots, and only when all are free. A
// host that drops out mid-run (wedged) takes no more tests.
export class HostSlots {
  private readonly free = new Map<string, number>();
  private readonly retired = new Set<string>();
  private waiters: Array<() => void> = [];

  constructor(private readonly capacity: ReadonlyMap<string, number>) {
    for (const [h, c] of capacity) this.free.set(h, c);
  }

  /**
   * Waits for a slot (or, exclusive, a whole idle host) and returns the host;
   * give it back with release(). Undefined when every candidate has retired.
   */
  async acquire(candidates: readonly string[], exclusive = false): Promise<string | undefined> {
    for (;;) {
      const usable = candidates.filter((h) => !this.retired.has(h));
      if (usable.length === 0) return undefined;
      const share = (h: string) => this.free.get(h)! / this.capacity.get(h)!;
      const open = usable.filter((h) => (exclusive ? share(h) === 1 : this.free.get(h)! > 0));
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
    this.wake();
  }

  /** The host takes no more tests; those waiting only for it give up. */
  retire(host: string): void {
    this.retired.add(host);
    this.wake();
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const wake of waiting) wake();
  }
}
