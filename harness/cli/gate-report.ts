// The end of every gate (run --baseline/--ab, gate across boot environments):
// one results.json, JUnit and report.html of all its tests, the comparison
// printed and written beside them, the run added to history, and the exit
// code: 1 regressed, 4 the data cannot decide, the run's own otherwise.
import { join } from 'node:path';
import { EXIT } from '../errors.ts';
import { formatComparison, writeComparison } from '../report/comparison.ts';
import { writeReportHtml } from '../report/html/page.ts';
import { writeJunit, type JunitOptions } from '../report/junit.ts';
import { writeResults, type RunResult } from '../report/results.ts';
import { untestable, type Comparison } from '../verdict/compare.ts';
import { recordRun } from './history.ts';
import { printReportPaths } from './run-setup.ts';

export interface GateEnd {
  all: RunResult;
  comparison: Comparison;
  sides: { base: string; cand: string };
  /** What the comparison's two sides were read from, for compare.json. */
  inputs: { base: string[]; cand: string[] };
  output: string;
  wants: { junit: boolean; json: boolean; html: boolean };
  junit: JunitOptions;
  values: Record<string, string | boolean | undefined>;
  /** How to get more data when the data cannot decide, in words. */
  more: string;
  /** Why there is no gate at all (two sides on one build, found as they ran): no verdict, whatever the numbers. */
  refusal?: string;
}

export function finishGate(g: GateEnd): number {
  const { all, comparison, output, wants } = g;
  if (wants.json) writeResults(join(output, 'results.json'), all);
  if (wants.junit) writeJunit(join(output, 'junit.xml'), all, g.junit);
  if (wants.html) writeReportHtml(join(output, 'report.html'), { run: all, comparison: { result: comparison, labels: g.sides }, dir: output });
  if (!g.refusal) process.stdout.write(formatComparison(comparison, g.sides));
  const written = g.refusal ? [] : writeComparison(output, comparison, g.inputs);
  printReportPaths(output, wants, written);
  recordRun(g.values, all, wants.html ? join(output, 'report.html') : undefined);
  if (g.refusal) {
    process.stderr.write(`bhyve-smoke: the gate has no verdict: ${g.refusal}\n`);
    return all.exitCode === EXIT.passed ? EXIT.noVerdict : all.exitCode;
  }
  if (all.interrupted) return all.exitCode;
  if (comparison.regressed) return EXIT.checkFailed;
  const why = untestable(comparison);
  if (why) {
    process.stderr.write(`bhyve-smoke: the gate has no verdict: ${why}${/A\/A/.test(why) ? '' : ` (${g.more})`}\n`);
    // The tests ran and their reports are written: not a usage error (nothing started), a run without a verdict.
    return all.exitCode === EXIT.passed ? EXIT.noVerdict : all.exitCode;
  }
  return all.exitCode;
}
