// A comparison's reports: a table for people, JUnit (one testcase per series,
// a regression is a <failure>; one per candidate hang), and JSON.
import { join } from 'node:path';
import { pct, untestable, type Comparison, type SeriesVerdict } from '../verdict/compare.ts';
import { describeExposure } from '../verdict/exposure.ts';
import { extend, newBuilder } from './junit-builder.ts';
import { writeFileAtomic } from './results.ts';

const MARK: Record<SeriesVerdict['status'], string> = {
  regressed: 'REGRESSED', inconsistent: 'noise?', ok: 'ok', insufficient: 'too few', ignored: 'ignored', missing: 'missing',
};

/** A mean as a person reads it: whole above 100, two decimals above 1, three significant digits below. */
export const num = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3)) : '-');
/** A p-value, floored at what 9999 resamples can show. */
export const p = (v: SeriesVerdict) => (v.pValue === undefined ? '-' : v.pValue < 0.0001 ? '<0.0001' : v.pValue.toFixed(4));

/** One line per series: what a person reads first. */
export function describeSeries(v: SeriesVerdict): string {
  const interval = v.interval ? ` [${pct(v.interval[0])}, ${pct(v.interval[1])}]` : '';
  return `${v.id}: ${num(v.base.mean)} → ${num(v.cand.mean)} ${v.unit} (${pct(v.change)}${interval}), p=${p(v)}, n=${v.base.n}/${v.cand.n}`;
}

/** A series' boots in words: the unit the test took and how much of its variance lies between boots. */
export const bootsNote = (b: NonNullable<SeriesVerdict['boots']>) =>
  `${b.unit === 'boot' ? `${b.base.boots} against ${b.cand.boots} boots, a boot's mean its sample` : 'every test a sample'}; between boots ${share(b.base.icc)} of the baseline's variance, ${share(b.cand.icc)} of the candidate's (ICC)`;
const share = (icc: number) => (Number.isNaN(icc) ? '?' : `${Math.round(icc * 100)}%`);

export function formatComparison(c: Comparison, labels = { base: 'baseline', cand: 'candidate' }): string {
  const rows = c.series.map((v) => [MARK[v.status], v.id, `${v.base.n}/${v.cand.n}`, `${num(v.base.mean)} → ${num(v.cand.mean)} ${v.unit}`, pct(v.change), v.interval ? `[${pct(v.interval[0])}, ${pct(v.interval[1])}]` : '-', p(v), v.note ?? '']);
  const head = ['verdict', 'series', 'n', `${labels.base} → ${labels.cand}`, 'change', '95% interval', 'p', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [line(head), ...rows.map(line)];
  for (const v of c.series.filter((x) => x.boots)) out.push(`boots      ${v.id}: ${bootsNote(v.boots!)}`);
  for (const l of c.liveness) out.push(`${l.kind === 'host' ? 'HOST DIED' : 'HANG'.padEnd(9)}  ${l.test} on ${l.host}: ${l.message}`);
  if (c.exposure) for (const [side, e] of [[labels.base, c.exposure.base], [labels.cand, c.exposure.cand]] as const) out.push(`exposure   ${side}: ${describeExposure(e)}`);
  if (c.builds.base.length || c.builds.cand.length) out.push(`builds: ${labels.base} ${c.builds.base.join(', ') || 'unknown'}; ${labels.cand} ${c.builds.cand.join(', ') || 'unknown'}${c.aa ? ' (an A/A comparison, as asked)' : ''}`);
  for (const w of c.warnings) out.push(`warning: ${w}`);
  const { significance, noiseThreshold, resamples, seed } = c.parameters;
  out.push('');
  out.push(`rule: a series regressed when its one-sided permutation p < ${significance}${c.familyWise === 'holm' ? ` over the ${c.series.filter((v) => v.pValue !== undefined).length} tested series (Holm)` : ''} (${resamples} resamples, seed ${seed}), it is worse by more than ${(noiseThreshold * 100).toFixed(0)}% (per-metric overrides apply), and its metric and dose are worse on average across guests and directions; any candidate hang or host death fails.`);
  const regressed = c.series.filter((v) => v.status === 'regressed').length;
  const hangs = c.liveness.filter((l) => l.kind === 'hang').length;
  // One death takes every test running on its host: each is named once, by what it was.
  const deaths = [...new Set(c.liveness.filter((l) => l.kind === 'host').map((l) => l.message))];
  const why = untestable(c);
  out.push(why && !c.regressed ? `verdict: none — ${why}` : c.regressed
    ? `verdict: FAIL — ${[
      ...deaths.map((d) => `the candidate's ${d}`),
      ...(hangs ? [`${hangs} hang(s) in the candidate`] : []),
      `${regressed} series regressed`,
    ].join('; ')}`
    : `verdict: pass — no regression in ${c.series.filter((v) => v.pValue !== undefined).length} tested series${c.series.some((v) => v.status === 'insufficient') ? ' (some series had too few samples to test)' : ''}`);
  return `${out.join('\n')}\n`;
}

/** As the run's JUnit (harness/report/junit.ts): a failure's story in its body, a skip's reason in <skipped message>, a time on every case. */
export function buildComparisonJunit(c: Comparison, name: string): string {
  const builder = newBuilder(name, 0, false);
  const suite = builder.testSuite().name(name).time(0);
  suite.property('bhyve-smoke.significance', String(c.parameters.significance));
  suite.property('bhyve-smoke.noise-threshold', String(c.parameters.noiseThreshold));
  suite.property('bhyve-smoke.seed', String(c.parameters.seed));
  const rule = formatComparison(c).trimEnd().split('\n').filter((l) => l.startsWith('rule: '));
  for (const v of c.series) {
    const tc = suite.testCase().className(`compare.${v.key.suite}.${v.key.guest}`).name(v.id).time(0);
    const extras = extend(tc);
    const props: Record<string, string | number | undefined> = {
      status: v.status, unit: v.unit, better: v.better, 'n.base': v.base.n, 'n.candidate': v.cand.n,
      'mean.base': v.base.mean, 'mean.candidate': v.cand.mean, change: v.change, 'p-value': v.pValue,
      'interval.low': v.interval?.[0], 'interval.high': v.interval?.[1], 'noise-threshold': v.noiseThreshold, significance: v.significance, level: v.level,
    };
    for (const [k, val] of Object.entries(props)) if (val !== undefined && !(typeof val === 'number' && Number.isNaN(val))) tc.property(k, String(val));
    const line = `${describeSeries(v)}${v.note ? ` — ${v.note}` : ''}`;
    if (v.status === 'regressed') tc.failure(`regressed: ${describeSeries(v)}`, 'PerfRegression').stacktrace([`regressed: ${line}`, ...rule].join('\n'));
    else if (v.status === 'insufficient' || v.status === 'ignored' || v.status === 'missing') extras.skipped = `${v.status}: ${v.note ?? ''}`;
    extras.out = line;
  }
  for (const l of c.liveness) {
    const message = `${l.test} on ${l.host}: ${l.message}`;
    const [check, type] = l.kind === 'host' ? ['host survived', 'HostDied'] : ['no hang', 'HangDetected'];
    suite.testCase().className('compare.liveness').name(`${check}: ${l.test}`).time(0).failure(message, type).stacktrace(`${message}\nany ${l.kind === 'host' ? 'host death' : 'hang'} in the candidate fails the gate`);
  }
  return builder.build();
}

/** compare.json and compare.junit.xml in the folder; returns their paths. */
export function writeComparison(dir: string, c: Comparison, inputs: { base: string[]; cand: string[] }): string[] {
  const json = join(dir, 'compare.json');
  const xml = join(dir, 'compare.junit.xml');
  writeFileAtomic(json, `${JSON.stringify({ version: 1, inputs, ...c }, null, 2)}\n`);
  writeFileAtomic(xml, buildComparisonJunit(c, 'bhyve-smoke compare'));
  return [json, xml];
}
