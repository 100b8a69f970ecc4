// A host that died under a test (host-life/vitals.ts): every test running
// there gets a failed `host survived` check — a finding, never retried —
// with the host's crash record as its evidence, and the host stays in the
// run only if it came back and passes its health check again.
import { HostDied } from '../errors.ts';
import type { Host } from '../host.ts';
import { HostVitals, type HostDeath } from '../host-life/vitals.ts';
import type { HostDeathRecord } from '../report/results.ts';
import type { ResolvedThresholds } from '../suite.ts';
import type { Checks } from '../verdict/checks.ts';

/** Watches each host of the run; a host whose boot id cannot be read is the caller's to quarantine (the error says why). */
export async function watchHosts(hosts: Host[], t: ResolvedThresholds, note: (line: string) => void): Promise<{ vitals: Map<string, HostVitals>; failed: Map<string, unknown> }> {
  const vitals = new Map<string, HostVitals>();
  const failed = new Map<string, unknown>();
  await Promise.all(hosts.map(async (host) => {
    const v = new HostVitals(host, { unresponsiveMs: t.hostUnresponsiveMs, returnMs: t.hostReturnMs, crashWaitMs: t.crashRecordWaitMs, note });
    try {
      await v.start();
      vitals.set(host.name, v);
    } catch (e) {
      failed.set(host.name, e);
    }
  }));
  return { vitals, failed };
}

/** A test's race against its host's death: `died` rejects with HostDied when the host dies; `death` says which. */
export function raceHostDeath(vitals: HostVitals | undefined): { died: Promise<never>[]; death(): HostDeath | undefined; cancel(): void } {
  if (!vitals) return { died: [], death: () => undefined, cancel: () => {} };
  let noticed: HostDeath | undefined;
  const next = vitals.nextDeath();
  const died = next.death.then((d) => {
    noticed = d;
    throw new HostDied(d.summary);
  });
  died.catch(() => {}); // a death after the race was settled is judged at the test's end
  return { died: [died], death: () => noticed, cancel: next.cancel };
}

/**
 * Whether the host died during a test that did not pass (or was told so by
 * the race), with its crash record once the host is back. A test that passed
 * did not lose its host.
 */
export async function hostDeathDuring(vitals: HostVitals | undefined, since: number, noticed: HostDeath | undefined, passed: boolean): Promise<HostDeath | undefined> {
  if (!vitals || (passed && !noticed)) return undefined;
  const death = noticed ?? (await vitals.judge(since));
  return death && vitals.withEvidence(death);
}

/** The finding: the `host survived` check, failed, saying what happened and what the crash record says. */
export function judgeHostSurvived(check: Checks, death: HostDeath, t: ResolvedThresholds): void {
  check.that('host survived', false, {
    type: 'HostDied', kind: 'liveness', message: death.summary, measured: death.summary,
    threshold: `the host answers on the same boot throughout (an answer at least every ${Math.round(t.hostUnresponsiveMs / 1000)} s, thresholds.hostUnresponsive)`,
  });
}

/** What results.json keeps of a death (the crash record's files are the test's attachments). */
export function deathRecord(d: HostDeath): HostDeathRecord {
  const { crash, ...rest } = d;
  if (!crash) return rest;
  return { ...rest, crash: { ...(crash.record ? { record: crash.record } : {}), ...(crash.reading ?? {}), ...(crash.missing ? { missing: crash.missing } : {}) } };
}
