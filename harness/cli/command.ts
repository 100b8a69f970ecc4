// The shape of a CLI command: its options (node:util parseArgs) with help text.
export interface OptionSpec {
  type: 'string' | 'boolean';
  help: string;
  /** A one-letter alias (`-x`). */
  short?: string;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  /** Returns the exit code. */
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
}

export function helpText(c: Command): string {
  const width = Math.max(...Object.keys(c.options).map((k) => k.length + (c.options[k].type === 'string' ? 6 : 0)), 4) + 4;
  const lines = Object.entries(c.options).map(([k, o]) => `  ${o.short ? `-${o.short}, ` : ''}--${`${k}${o.type === 'string' ? ' VALUE' : ''}`.padEnd(width - (o.short ? 4 : 0))}${o.help}`);
  return `${c.usage}\n\n${c.summary}\n\nOptions:\n${lines.join('\n')}\n  --${'help'.padEnd(width)}this help\n`;
}
