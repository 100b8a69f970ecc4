// Figures for benchmark output: order statistics from the harness, and a short duration format.
import { percentile } from '../harness/verdict/latency.ts';

export const quantile = (values: number[], q: number): number => percentile(values, q * 100);
export const median = (values: number[]) => percentile(values, 50);
export const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
