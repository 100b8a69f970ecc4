// bhyve-smoke compare BASE CAND: the gate's verdict over two sets of results.
import { join, resolve } from 'node:path';
import { loadConfig } from '../config/load.ts';
import { checkGateMetrics } from '../config/schema.ts';
import { suitesFor } from '../run/suites.ts';
import { knownMetricNames } from '../verdict/metrics.ts';
import { ConfigError, EXIT } from '../errors.ts';
import { formatComparison, writeComparison } from '../report/comparison.ts';
import { writeReportHtml } from '../report/html/page.ts';
import { readResults, resultsFilesAt } from '../report/read-results.ts';
import { compareRuns, untestable } from '../verdict/compare.ts';
import { analyzeHistory, staleBaselineWarnings } from '../history/series.ts';
import type { Command } from './command.ts';
import { loadHistory } from './history.ts';
import { CONFIG_OPTION } from './context.ts';
import { gateWithOptions, GATE_OPTIONS } from './gate-options.ts';

export const compareCommand: Command = {
  name: 'compare',
  summary: 'A/B verdict: is CAND worse than BASE? (results.json files or folders)',
  usage: 'bhyve-smoke compare BASE CAND [options]',
  options: {
    config: { ...CONFIG_OPTION, help: 'config whose gate section (thresholds, overrides, ignore list) applies' },
    ...GATE_OPTIONS,
    output: { type: 'string', help: 'folder for compare.json, compare.junit.xml and report.html (default: reports/compare)' },
    history: { type: 'string', help: 'a history store (run --history): warn when the baseline is older than a series\' latest change point' },
  },
  async run(values, positionals) {
    if (positionals.length !== 2) throw new ConfigError(`compare takes two paths, BASE and CAND, got ${positionals.length}`);
    const [basePath, candPath] = positionals;
    const { config, source } = await loadConfig(values.config as string | undefined);
    const inputs = { base: resultsFilesAt(basePath), cand: resultsFilesAt(candPath) };
    const base = readResults(inputs.base);
    const cand = readResults(inputs.cand);
    // The gate section may name the metrics of the config's suites and any the two sides recorded.
    const { suites } = await suitesFor(config, source, []);
    const recorded = [...base, ...cand].flatMap((r) => r.tests.flatMap((t) => t.metrics?.map((m) => m.metric) ?? []));
    checkGateMetrics(config.gate, source, new Set([...knownMetricNames(suites.values()), ...recorded]));
    const gate = gateWithOptions(config.gate, values);
    const comparison = compareRuns(base, cand, { gate, aa: Boolean(values.aa) });
    if (values.history !== undefined) {
      const analysis = analyzeHistory(loadHistory([String(values.history)], undefined));
      comparison.warnings.push(...staleBaselineWarnings(analysis, base, new Set(comparison.series.map((v) => v.id))));
    }
    process.stdout.write(formatComparison(comparison));
    const output = resolve(String(values.output ?? 'reports/compare'));
    const written = writeComparison(output, comparison, inputs);
    writeReportHtml(join(output, 'report.html'), { comparison: { result: comparison, labels: { base: basePath, cand: candPath } }, dir: output });
    written.unshift(join(output, 'report.html'));
    process.stdout.write(`reports: ${written.join(', ')}\n`);
    if (comparison.regressed) return EXIT.checkFailed;
    // The data cannot decide (no series tested, or one build on both sides): no verdict, as a gate run says it.
    const why = untestable(comparison);
    if (why) {
      process.stderr.write(`bhyve-smoke compare: no verdict: ${basePath} against ${candPath}: ${why} (baseline: ${describeSides(comparison.series, 'base')}; candidate: ${describeSides(comparison.series, 'cand')})\n`);
      return EXIT.noVerdict;
    }
    return EXIT.passed;
  },
};

const describeSides = (series: ReturnType<typeof compareRuns>['series'], side: 'base' | 'cand') => {
  const names = [...new Set(series.filter((v) => v[side].n > 0).map((v) => `${v.key.suite}/${v.key.guest}`))];
  const n = Math.max(0, ...series.map((v) => v[side].n));
  return names.length ? `${names.join(', ')}, up to ${n} test${n === 1 ? '' : 's'} a series` : 'no metrics at all';
};
