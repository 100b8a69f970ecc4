// The gate's command-line options (compare, run --baseline, calibrate), over the config's gate section.
import type { GateConfig } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import { intOption } from './context.ts';

export const GATE_OPTIONS = {
  significance: { type: 'string', help: 'significance level: a series is significant when its p is below it, held over all series under gate.familyWise holm (default: gate.significance, 0.01; a metric\'s gate.overrides entry still wins)' },
  'noise-threshold': { type: 'string', help: 'relative change a significant series must exceed, e.g. 0.05 (default: gate.noiseThreshold, 0.05; a metric\'s gate.overrides entry still wins)' },
  seed: { type: 'string', help: 'seed of the permutation test and bootstrap (default: gate.seed)' },
  aa: { type: 'boolean', help: 'an A/A comparison: both sides may run the same build (otherwise that is no gate, and no verdict)' },
} as const;

/** A command-line fraction in (0, 1), or a usage error naming the option. */
export const fractionOption = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined) return undefined;
  const x = Number(value);
  if (!/^\d*\.?\d+$/.test(value) || !(x > 0 && x < 1)) throw new ConfigError(`${name}: expected a fraction between 0 and 1, got ${JSON.stringify(value)}`);
  return x;
};

export function gateWithOptions(gate: GateConfig, values: Record<string, string | boolean | undefined>): GateConfig {
  const significance = fractionOption(values.significance as string | undefined, '--significance');
  const noiseThreshold = fractionOption(values['noise-threshold'] as string | undefined, '--noise-threshold');
  const seed = intOption(values.seed as string | undefined, '--seed', 0);
  return { ...gate, ...(significance !== undefined ? { significance } : {}), ...(noiseThreshold !== undefined ? { noiseThreshold } : {}), ...(seed !== undefined ? { seed } : {}) };
}
