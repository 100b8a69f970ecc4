// show-report's server: the report and the evidence it links, on 127.0.0.1
// only, and nothing else. The files served are an allowlist (report.html and
// the attachments results.json names), so a request cannot wander the disk.
// The report's links are relative, so the server roots itself at the folder
// that holds the report and all its evidence (a merge links into shard folders).
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { ConfigError } from '../../errors.ts';
import { readResultsFile } from '../read-results.ts';
import type { RunResult } from '../results.ts';
import { linkTo } from './evidence.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.json': 'application/json',
  '.xml': 'application/xml', '.txt': 'text/plain; charset=utf-8', '.log': 'text/plain; charset=utf-8',
};

export interface ReportServer {
  url: string;
  close(): Promise<void>;
}

/** The deepest folder holding every path. */
function commonFolder(paths: string[]): string {
  const split = paths.map((p) => p.split(sep));
  const first = split[0];
  let n = 0;
  while (n < first.length && split.every((s) => s[n] === first[n])) n++;
  return first.slice(0, n).join(sep) || sep;
}

export async function serveReport(dir: string, port: number): Promise<ReportServer> {
  const report = resolve(dir, 'report.html');
  if (!existsSync(report)) throw new ConfigError(`${dir}: no report.html to serve`);
  const run: RunResult | undefined = existsSync(join(dir, 'results.json')) ? readResultsFile(join(dir, 'results.json')) : undefined;
  const files = [report, ...(run?.tests ?? []).flatMap((t) => (t.attachments ?? []).map((a) => resolve(dir, a.path)))];
  const root = commonFolder(files.map(dirname));
  const allowed = new Map(files.map((f) => [`/${linkTo(root, f)}`, f]));
  const start = `/${linkTo(root, report)}`;

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/') {
      res.writeHead(302, { location: start }).end();
      return;
    }
    const file = allowed.get(path);
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not part of this report\n');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream', 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok());
  });
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${actual}${start}`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
