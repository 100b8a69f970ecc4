// A status that changes as long work goes on (a host rebooting, a boot of a
// gate): on a terminal one line rewritten in place; in CI (not a terminal, or
// CI set) a plain line when it says something new, at most every `everyMs`.
export class StatusLine {
  private readonly live: boolean;
  private lastPrinted = 0;
  private shown = false;

  constructor(private readonly out: NodeJS.WriteStream = process.stdout, private readonly everyMs = 15_000) {
    this.live = Boolean(out.isTTY) && !process.env.CI;
  }

  /** The status now; `firstOfItsKind` lines (a new step) are printed in CI whatever the interval. */
  update(text: string, firstOfItsKind = false): void {
    if (this.live) {
      this.out.write(`\r\x1b[K${text}`.slice(0, (this.out.columns ?? 120) - 1));
      this.shown = true;
      return;
    }
    const now = Date.now();
    if (!firstOfItsKind && now - this.lastPrinted < this.everyMs) return;
    this.lastPrinted = now;
    this.out.write(`${text}\n`);
  }

  /** A line that stays, ending the live one. */
  line(text: string): void {
    if (this.live && this.shown) this.out.write('\r\x1b[K');
    this.shown = false;
    this.out.write(`${text}\n`);
  }
}
