// Host output in a shape its parser does not read. A real host's tools may
// print what the source reading missed (a column added by a newer release, a
// header, a message in the host's language); a parser that skipped such lines
// would turn them into a silent zero, an empty listing or a vm "not found".
// Every parser of host output checks the shape it reads and, when a line is
// not in it, raises this: an infrastructure error naming the command, the
// shape it expected, the line, and the first lines of what the host printed.
import { InfraError } from '../errors.ts';

/** How many lines of the output an error quotes, and how much of each. */
const QUOTED_LINES = 8;
const QUOTED_WIDTH = 200;

/** What a parser reads: the command whose output it is, and the shape it expects, in words. */
export interface OutputShape {
  command: string;
  expected: string;
}

/** The first lines of an output, indented, for an error message. */
export function firstLines(output: string, n = QUOTED_LINES): string {
  const lines = output.replace(/\n+$/, '').split('\n');
  if (lines.length === 1 && lines[0] === '') return '  (no output)';
  const shown = lines.slice(0, n).map((l) => `  | ${l.length > QUOTED_WIDTH ? `${l.slice(0, QUOTED_WIDTH)}…` : l}`);
  return [...shown, ...(lines.length > n ? [`  (${lines.length - n} more lines)`] : [])].join('\n');
}

export class UnexpectedOutput extends InfraError {
  override name = 'UnexpectedOutput';
  constructor(
    readonly shape: OutputShape,
    readonly output: string,
    /** The line that is not in the shape, or what is missing from the whole. */
    readonly problem: string,
  ) {
    super(
      `\`${shape.command}\` printed what bhyve-smoke cannot read: ${problem}; expected ${shape.expected}. It printed:\n${firstLines(output)}`,
      { command: shape.command, output },
    );
  }
}

/** The output's lines, trailing blanks and blank lines left out. */
export const linesOf = (output: string): string[] => output.split('\n').map((l) => l.replace(/\s+$/, '')).filter((l) => l !== '');

/**
 * A listing of one record a line: every non-blank line must match `line`,
 * and `read` makes the record of each match (or nothing, for a line in the
 * shape that is nobody's record, such as a vm without a name).
 */
export function readLines<T>(output: string, shape: OutputShape, line: RegExp, read: (m: RegExpExecArray) => T | undefined): T[] {
  return linesOf(output).flatMap((text) => {
    const m = line.exec(text);
    if (!m) throw new UnexpectedOutput(shape, output, `the line ${JSON.stringify(text)} is not one`);
    const record = read(m);
    return record === undefined ? [] : [record];
  });
}

/** An output of exactly one line in the shape: its match. */
export function oneLine(output: string, shape: OutputShape, line: RegExp): RegExpExecArray {
  const lines = readLines(output, shape, line, (m) => m);
  if (lines.length !== 1) throw new UnexpectedOutput(shape, output, lines.length ? `${lines.length} lines, not one` : 'nothing');
  return lines[0];
}
