// bhyve-smoke show-report [DIR]: serves a run's report.html and its evidence
// on 127.0.0.1 and prints the address. A folder with results.json (or
// compare.json) but no report.html gets one rendered first: reports are pure
// functions of the results, so an old run needs no host to be seen.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, EXIT } from '../errors.ts';
import { writeReportHtml } from '../report/html/page.ts';
import { serveReport } from '../report/html/serve.ts';
import { readResultsFile } from '../report/read-results.ts';
import type { Comparison } from '../verdict/compare.ts';
import type { Command } from './command.ts';

/** Playwright's show-report port; taken, the server falls back to a free one. */
const DEFAULT_PORT = 9323;

export const showReportCommand: Command = {
  name: 'show-report',
  summary: 'serve a report folder (report.html and its evidence) on 127.0.0.1; a folder without report.html gets one from its results.json or compare.json',
  usage: 'bhyve-smoke show-report [DIR] [--port N] [--render]   (DIR: a report folder, default reports)',
  options: {
    port: { type: 'string', help: `port on 127.0.0.1 (default: ${DEFAULT_PORT}, or a free one when it is taken)` },
    render: { type: 'boolean', help: 'write report.html again from results.json (and compare.json) first' },
  },
  async run(values, positionals) {
    if (positionals.length > 1) throw new ConfigError(`show-report takes one folder, got ${positionals.length}`);
    const dir = resolve(positionals[0] ?? 'reports');
    if (!existsSync(dir)) throw new ConfigError(`${dir}: no such folder`);
    const port = values.port === undefined ? undefined : Number(values.port);
    if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new ConfigError(`--port: expected a port number, got ${JSON.stringify(values.port)}`);
    if (values.render || !existsSync(join(dir, 'report.html'))) renderFrom(dir);

    const server = await serveReport(dir, port ?? DEFAULT_PORT).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE' && port === undefined) return serveReport(dir, 0);
      if (e.code === 'EADDRINUSE') throw new ConfigError(`--port ${port}: already in use on 127.0.0.1`);
      throw e;
    });
    process.stdout.write(`serving ${join(dir, 'report.html')}\n  ${server.url}\npress Ctrl-C to stop\n`);
    await new Promise<void>((done) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void server.close().then(done);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return EXIT.passed;
  },
};

function renderFrom(dir: string): void {
  const results = join(dir, 'results.json');
  const compare = join(dir, 'compare.json');
  if (!existsSync(results) && !existsSync(compare)) throw new ConfigError(`${dir}: holds no report.html, results.json or compare.json`);
  const run = existsSync(results) ? readResultsFile(results) : undefined;
  let comparison: { result: Comparison; labels: { base: string; cand: string } } | undefined;
  if (existsSync(compare)) {
    try {
      const c = JSON.parse(readFileSync(compare, 'utf8')) as Comparison & { inputs?: { base: string[]; cand: string[] } };
      comparison = { result: c, labels: { base: c.inputs?.base.join(', ') ?? 'baseline', cand: c.inputs?.cand.join(', ') ?? 'candidate' } };
    } catch (e) {
      throw new ConfigError(`${compare}: not a readable compare.json (${(e as Error).message})`);
    }
  }
  writeReportHtml(join(dir, 'report.html'), { run, comparison, dir });
}
