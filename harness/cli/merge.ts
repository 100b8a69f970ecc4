// bhyve-smoke merge FILE_OR_DIR... --output DIR: one results.json, JUnit and HTML report from shards.
import { resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import { writeJunit } from '../report/junit.ts';
import { JUNIT_OPTIONS, junitOptionsOf } from './junit-options.ts';
import { labelsOf, RECORD_OPTIONS, recordRun } from './history.ts';
import { writeReportHtml } from '../report/html/page.ts';
import { mergeRuns } from '../report/merge.ts';
import { readResultsFile, resultsFilesAt } from '../report/read-results.ts';
import { failingSkipsAndFlakes, summarize, writeResults } from '../report/results.ts';
import type { Command } from './command.ts';

export const mergeCommand: Command = {
  name: 'merge',
  summary: "combine shards' results.json into one results.json and JUnit; a missing shard is named and fails the merge (exit 3)",
  usage: 'bhyve-smoke merge FILE_OR_DIR... --output DIR',
  options: {
    output: { type: 'string', help: 'folder for the merged results.json, junit.xml and report.html (required)' },
    ...JUNIT_OPTIONS,
    ...RECORD_OPTIONS,
  },
  async run(values, positionals) {
    if (positionals.length === 0) throw new ConfigError('merge: name the results.json files (or folders holding them) to merge');
    if (!values.output) throw new ConfigError('merge: --output DIR is required');
    const junit = junitOptionsOf(values);
    const files = positionals.flatMap(resultsFilesAt);
    const labels = labelsOf(values);
    const mergedRuns = mergeRuns(files.map((source) => ({ source, run: readResultsFile(source) })));
    const merged = labels ? { ...mergedRuns, labels: { ...mergedRuns.labels, ...labels } } : mergedRuns;
    const out = resolve(String(values.output));
    writeResults(`${out}/results.json`, merged);
    writeJunit(`${out}/junit.xml`, merged, junit);
    writeReportHtml(`${out}/report.html`, { run: merged, dir: out });
    recordRun(values, merged, `${out}/report.html`);
    const s = summarize(merged.tests);
    process.stdout.write(`merged ${files.length} result file(s), ${s.total} tests: ${s.passed} passed, ${s.failed} failed, ${s.error} errors, ${s.skipped} skipped${s.flaky ? `, ${s.flaky} flaky` : ''}\n`);
    for (const m of merged.missingShards ?? []) process.stdout.write(`MISSING shard ${m.index}/${m.total}: no results.json of it among the inputs; its tests are not in this report\n`);
    for (const t of failingSkipsAndFlakes(merged.tests, merged.failOn)) process.stdout.write(t.status === 'skipped' ? `--fail-on-skip: ${t.id} was skipped — ${t.skipReason}\n` : `--fail-on-flaky-tests: ${t.id} passed only on a retry\n`);
    process.stdout.write(`reports: ${out}/report.html, ${out}/junit.xml, ${out}/results.json\n`);
    return merged.exitCode;
  },
};
