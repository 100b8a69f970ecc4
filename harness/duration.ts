// Durations in config and on the command line are strings with units: '90s', '2m', '500ms', '1h'.
import { ConfigError } from './errors.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses '90s' → 90000. `where` names the field for the error message. */
export function parseDuration(text: string, where: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(text);
  if (!m) throw new ConfigError(`${where}: expected a duration such as "90s", "2m" or "500ms", got ${JSON.stringify(text)}`);
  return Math.round(Number(m[1]) * UNITS[m[2]]);
}

export const formatDuration = (ms: number): string =>
  ms < 1000 ? `${Math.round(ms)}ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)}s` : `${(ms / 60_000).toFixed(1)}m`;
