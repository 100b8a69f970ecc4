// Stores of nightly runs for the history tests: the 40 recorded wrlock-iperf
// runs (fixtures/recorded), one a night, labelled build=100.., with a drop in
// the dosed phases' throughput from a given night when asked.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { addToHistory } from '../../harness/history/store.ts';
import type { RunResult } from '../../harness/report/results.ts';

const recorded: RunResult = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../fixtures/recorded/lab-wrlock-iperf.results.json'), 'utf8'));

export const night = (i: number) => new Date(Date.UTC(2026, 0, 1, 2) + i * 86_400_000).toISOString();

/**
 * The nightly runs, as results; `drop` multiplies the dosed throughput from
 * night `from` on; `build` names the build each night's host ran.
 */
export function nightlyRuns(o: { from?: number; drop?: number; label?: (i: number) => string; build?: (i: number) => string } = {}): RunResult[] {
  return recorded.tests.map((t, i) => {
    const factor = o.from !== undefined && i >= o.from ? 1 - (o.drop ?? 0) : 1;
    const metrics = t.metrics!.map((m) => (m.metric.startsWith('throughput') && (m.dims.dose === 'light' || m.dims.dose === 'hard') ? { ...m, value: m.value * factor } : m));
    const test = { ...t, id: t.id.replace(/#\d+$/, ''), repeat: 0, startedAt: night(i), metrics, ...(o.build ? { build: o.build(i) } : {}) };
    return { ...recorded, runId: `night${String(i).padStart(2, '0')}`, startedAt: night(i), finishedAt: night(i), labels: { build: o.label ? o.label(i) : String(100 + i) }, tests: [test] };
  });
}

/** Writes the nightly runs into a store at dir. */
export function writeNightlyStore(dir: string, o: Parameters<typeof nightlyRuns>[0] = {}): RunResult[] {
  const runs = nightlyRuns(o);
  for (const r of runs) addToHistory(dir, r);
  return runs;
}

/** The 30 recorded nights of fixtures/recorded: 15 on a clean lab, then 15 under slow-wrlock=10 (SOURCES.md there). */
export function recordedNights(): RunResult[] {
  const read = (name: string): RunResult => JSON.parse(readFileSync(resolve(import.meta.dirname, '../../fixtures/recorded', name), 'utf8'));
  const [clean, slow] = [read('lab-wrlock-iperf-night-clean.results.json'), read('lab-wrlock-iperf-night-slow-wrlock.results.json')];
  return [...clean.tests, ...slow.tests].map((t, i) => {
    const from = i < clean.tests.length ? clean : slow;
    return { ...from, runId: `rec${String(i).padStart(2, '0')}`, startedAt: t.startedAt, finishedAt: t.startedAt, labels: { build: String(500 + i) }, tests: [{ ...t, id: t.id.replace(/#\d+$/, ''), repeat: 0 }] };
  });
}
