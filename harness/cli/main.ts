// bhyve-smoke: the command line. Exit codes (EXIT in errors.ts): 0 passed, 1 a check
// failed or a regression, 2 usage or config error, 3 infrastructure error, 4 no verdict
// (compare or a gate whose data cannot decide); 130/143 when interrupted.
import { parseArgs } from 'node:util';
import { ConfigError, EXIT, exitCodeFor, messageOf } from '../errors.ts';
import { calibrateCommand } from './calibrate.ts';
import { cleanCommand } from './clean.ts';
import { compareCommand } from './compare.ts';
import { helpText, type Command } from './command.ts';
import { doctorCommand } from './doctor.ts';
import { listCommand } from './list.ts';
import { mergeCommand } from './merge.ts';
import { historyCommand } from './history.ts';
import { consoleCommand, evidenceCommand } from './kept.ts';
import { runCommand } from './run.ts';
import { gateCommand } from './gate.ts';
import { showReportCommand } from './show-report.ts';

export const COMMANDS: Command[] = [runCommand, gateCommand, compareCommand, calibrateCommand, mergeCommand, historyCommand, showReportCommand, listCommand, doctorCommand, cleanCommand, consoleCommand, evidenceCommand];

const mainHelp = () =>
  `usage: bhyve-smoke COMMAND [options]\n\nCommands:\n${COMMANDS.map((c) => `  ${c.name.padEnd(12)}${c.summary}`).join('\n')}\n\n` +
  'bhyve-smoke COMMAND --help shows its options. With no config file, the built-in lab host and guest are used.\n' +
  'Exit codes: 0 passed; 1 a check failed or a vm hung (compare, gate runs and history: a regression); 2 usage or config error;\n' +
  '3 infrastructure error; 4 no verdict: compare or a gate ran but its data cannot decide (too few tests, no series in common,\n' +
  'one build on both sides without --aa); 130/143 interrupted by SIGINT/SIGTERM.\n';

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp());
    return name ? EXIT.passed : EXIT.usage;
  }
  const command = COMMANDS.find((c) => c.name === name);
  try {
    if (!command) throw new ConfigError(`unknown command "${name}" (commands: ${COMMANDS.map((c) => c.name).join(', ')})`);
    let parsed;
    try {
      parsed = parseArgs({
        args: rest,
        allowPositionals: true,
        strict: true,
        options: { ...Object.fromEntries(Object.entries(command.options).map(([k, o]) => [k, { type: o.type, ...(o.short ? { short: o.short } : {}) }])), help: { type: 'boolean' } },
      });
    } catch (e) {
      throw new ConfigError(`${messageOf(e).replace(/\. To specify a positional.*$/s, '')} (see bhyve-smoke ${name} --help)`);
    }
    if (parsed.values.help) {
      process.stdout.write(helpText(command));
      return EXIT.passed;
    }
    return await command.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals);
  } catch (e) {
    const code = exitCodeFor(e);
    process.stderr.write(`bhyve-smoke${command ? ` ${command.name}` : ''}: ${code === EXIT.usage ? '' : 'error: '}${messageOf(e)}\n`);
    return code;
  }
}
