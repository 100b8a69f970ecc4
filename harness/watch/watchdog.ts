// The watchdog of one test: any watch that sees the vm stop making progress
// trips it, and the runner ends the test at once with HangDetected — a hang
// is a failed check with evidence, never a test left to a timeout. A watch
// that cannot read what it watches (host output it does not understand)
// ends the test too, as an infrastructure error: it cannot vouch for the vm.
import { HangDetected, InfraError } from '../errors.ts';
import type { Timeline } from '../timeline.ts';

export class Watchdog {
  /** Rejects with HangDetected when a watch trips; the runner races the suite against it. */
  readonly tripped: Promise<never>;
  private reject!: (e: HangDetected | InfraError) => void;
  private hung?: HangDetected;
  private failed?: InfraError;

  constructor(private readonly timeline: Timeline) {
    this.tripped = new Promise<never>((_, reject) => (this.reject = reject));
    this.tripped.catch(() => {}); // observed by the runner's race
  }

  hang(watch: string, detail: string): void {
    if (this.hung || this.failed) return;
    this.hung = new HangDetected(`hang detected by the ${watch} watch: ${detail}`);
    this.timeline.event('hang-detected', `${watch}: ${detail}`);
    this.reject(this.hung);
  }

  /** A watch can no longer watch: the test ends with this error, not with a hang. */
  broken(watch: string, error: InfraError): void {
    if (this.hung || this.failed) return;
    this.failed = error;
    this.timeline.event('watch-broken', `${watch}: ${error.message.split('\n')[0]}`);
    this.reject(error);
  }

  get hangDetected(): HangDetected | undefined {
    return this.hung;
  }
}
