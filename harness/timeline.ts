// The record of one test: timestamped samples (iperf3 intervals, heartbeats,
// vCPU counters, wrlock latencies) and events (reboot requested, ready, hang
// suspected). Everything in a test writes here; verdicts and reports read it.

export interface Sample {
  /** ms since the epoch */
  t: number;
  series: string;
  value: number;
}

export interface TimelineEvent {
  t: number;
  kind: string;
  detail?: string;
}

export class Timeline {
  readonly samples: Sample[] = [];
  readonly events: TimelineEvent[] = [];

  event(kind: string, detail?: string, t = Date.now()): void {
    this.events.push(detail === undefined ? { t, kind } : { t, kind, detail });
  }

  sample(series: string, value: number, t = Date.now()): void {
    this.samples.push({ t, series, value });
  }

  toJSON() {
    return { samples: this.samples, events: this.events };
  }
}
