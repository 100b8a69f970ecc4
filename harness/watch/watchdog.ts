// The watchdog of one test: any watch that sees the vm stop making progress
// trips it, and the runner ends the test at once with HangDetected — a hang
// is a failed check with evidence, never a test left to a timeout.
import { HangDetected } from '../errors.ts';
import type { Timeline } from '../timeline.ts';

export class Watchdog {
  /** Rejects with HangDetected when a watch trips; the runner races the suite against it. */
  readonly tripped: Promise<never>;
  private reject!: (e: HangDetected) => void;
  private hung?: HangDetected;

  constructor(private readonly timeline: Timeline) {
    this.tripped = new Promise<never>((_, reject) => (this.reject = reject));
    this.tripped.catch(() => {}); // observed by the runner's race
  }

  hang(watch: string, detail: string): void {
    if (this.hung) return;
    this.hung = new HangDetected(`hang detected by the ${watch} watch: ${detail}`);
    this.timeline.event('hang-detected', `${watch}: ${detail}`);
    this.reject(this.hung);
  }

  get hangDetected(): HangDetected | undefined {
    return this.hung;
  }
}
