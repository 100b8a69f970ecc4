// Makes the gate benchmark's samples from a run's results.json: the tests with
// their metrics, without timelines, console tails and attachments (which the
// benchmark does not read and which would make the fixture megabytes).
//   node --import tsx bench/gate-samples.ts RESULTS > fixtures/recorded/lab-wrlock-iperf.results.json
import { readResultsFile } from '../harness/report/read-results.ts';

const [path] = process.argv.slice(2);
if (!path) {
  console.error('usage: node --import tsx bench/gate-samples.ts RESULTS.json');
  process.exit(2);
}
const run = readResultsFile(path);
const tests = run.tests.map(({ timeline: _t, consoleTail: _c, attachments: _a, ...t }) => ({ ...t, timeline: { samples: [], events: [] }, attachments: [] }));
process.stdout.write(`${JSON.stringify({ ...run, tests }, null, 1)}\n`);
