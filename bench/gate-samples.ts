// Makes the benchmarks' samples from a run's results.json: the tests with
// their checks and metrics, without console tails and attachments, and
// without timelines (which would make the fixture megabytes) — but for the
// iperf3 phases with --iperf3: their intervals and start and end events,
// which the recovery check is judged from (bench/false-alarms.ts).
//   node --import tsx bench/gate-samples.ts RESULTS [--iperf3] > fixtures/recorded/NAME.results.json
import { readResultsFile } from '../harness/report/read-results.ts';

const args = process.argv.slice(2);
const iperf3 = args.includes('--iperf3');
const [path] = args.filter((a) => a !== '--iperf3');
if (!path) {
  console.error('usage: node --import tsx bench/gate-samples.ts RESULTS.json [--iperf3]');
  process.exit(2);
}
const run = readResultsFile(path);
const tests = run.tests.map(({ timeline, consoleTail: _c, attachments: _a, ...t }) => ({
  ...t,
  timeline: iperf3
    ? { samples: timeline.samples.filter((s) => s.series === 'iperf3.mbps'), events: timeline.events.filter((e) => e.kind === 'iperf3-start' || e.kind === 'iperf3-end') }
    : { samples: [], events: [] },
  attachments: [],
}));
process.stdout.write(`${JSON.stringify({ ...run, tests }, null, 1)}\n`);
