// What a side of a comparison exposed its hosts to, and the hang and host
// death rates it bounds. No hang in N reboots does not mean a rate of zero:
// it means, at 95%, a rate below the exact upper bound — for k events in n
// trials the Clopper–Pearson bound, for k events over an exposure (cycles,
// vm-hours) the Poisson one ("0 hangs in 4,000 reboots: < 0.075%").
import type { TestResult } from '../report/results.ts';

export interface SideExposure {
  tests: number;
  wrlockCycles: number;
  guestReboots: number;
  vmSeconds: number;
  /** Tests that hung (a failed `no hang` check). */
  hangs: number;
  /** Host deaths under its tests, one each however many tests a death took. */
  hostDeaths: number;
}

export function exposureOf(tests: readonly TestResult[]): SideExposure {
  const deaths = new Set(tests.flatMap((t) => (t.hostDeath ? [`${t.hostDeath.host} ${t.hostDeath.noticedAt}`] : [])));
  return {
    tests: tests.length,
    wrlockCycles: tests.reduce((n, t) => n + (t.exposure?.wrlockCycles ?? 0), 0),
    guestReboots: tests.reduce((n, t) => n + (t.exposure?.guestReboots ?? 0), 0),
    vmSeconds: tests.reduce((n, t) => n + (t.exposure?.vmSeconds ?? 0), 0),
    hangs: tests.filter((t) => t.checks.some((c) => c.status === 'failed' && c.type === 'HangDetected')).length,
    hostDeaths: deaths.size,
  };
}

/** log Γ(x), Lanczos (g = 7, 9 terms): enough for the bounds' bisection. */
function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The p (or rate) at which P(X ≤ k) falls to 1 − confidence, by bisection on a decreasing cdf. */
function bisect(cdf: (x: number) => number, hi: number, alpha: number): number {
  let lo = 0;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) > alpha) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Exact (Clopper–Pearson) one-sided upper bound of a proportion: k events in n trials. */
export function binomialUpper(k: number, n: number, confidence = 0.95): number {
  if (n <= 0) return 1;
  if (k >= n) return 1;
  const logC = (i: number) => logGamma(n + 1) - logGamma(i + 1) - logGamma(n - i + 1);
  const cdf = (p: number) => {
    let sum = 0;
    for (let i = 0; i <= k; i++) sum += Math.exp(logC(i) + i * Math.log(p) + (n - i) * Math.log1p(-p));
    return sum;
  };
  return bisect(cdf, 1, 1 - confidence);
}

/** Exact one-sided upper bound of a Poisson mean: k events seen (divide by the exposure for a rate). */
export function poissonUpper(k: number, confidence = 0.95): number {
  const cdf = (m: number) => {
    let sum = 0;
    for (let i = 0; i <= k; i++) sum += Math.exp(i * Math.log(m) - m - logGamma(i + 1));
    return sum;
  };
  return bisect(cdf, 10 * (k + 10), 1 - confidence);
}

const count = (n: number) => Math.round(n).toLocaleString('en-US');
const share = (x: number) => `${x < 0.001 ? (100 * x).toPrecision(2) : (100 * x).toFixed(x < 0.1 ? 2 : 1)}%`;
const sig = (x: number) => (x >= 100 ? count(x) : x.toPrecision(2));

/** A side's exposure and the rates it bounds, in one line. */
export function describeExposure(e: SideExposure): string {
  const vmHours = e.vmSeconds / 3600;
  const hangs = [
    e.guestReboots > 0 ? `${e.hangs} in ${count(e.guestReboots)} reboots: < ${share(binomialUpper(e.hangs, e.guestReboots))}` : '',
    e.wrlockCycles > 0 ? `< ${sig((1e6 * poissonUpper(e.hangs)) / e.wrlockCycles)} per million write-lock cycles` : '',
  ].filter(Boolean);
  const deaths = vmHours > 0 ? `< ${sig(poissonUpper(e.hostDeaths) / vmHours)} per vm-hour` : '';
  return `${count(e.tests)} tests, ${count(e.wrlockCycles)} write-lock cycles, ${count(e.guestReboots)} guest reboots, ${vmHours.toFixed(2)} vm-hours; ` +
    `hangs ${e.hangs}${hangs.length ? ` (${hangs.join('; ')} at 95%)` : ''}; host deaths ${e.hostDeaths}${deaths ? ` (${deaths} at 95%)` : ''}`;
}
