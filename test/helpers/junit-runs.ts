// Runs whose JUnit the JUnit tests read: one with everything a CI page must
// show right (a failed check, a hang with stuck frames and a known issue, an
// error, skips, a flaky pass, a repeat that fails where the first passed,
// hostile console text, a console tail with no vm), and the recorded 40-run
// wrlock-iperf results split into 40 runs and merged again.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { mergeRuns } from '../../harness/report/merge.ts';
import type { RunResult, TestResult } from '../../harness/report/results.ts';

export const REPORTS = '/ci/job/reports';

const test = (over: Partial<TestResult>): TestResult => ({
  id: 'smoke/lab/linux', suite: 'smoke', host: 'lab', guest: 'linux', repeat: 0, status: 'passed', attempt: 0, attempts: [],
  startedAt: '2026-11-25T10:00:00.123Z', durationMs: 1500, checks: [], attachments: [], timeline: { samples: [], events: [] },
  reproduce: 'npx bhyve-smoke run smoke --host lab --guest linux', ...over,
});

export const FAILING_RUN: RunResult = {
  version: 1, runId: 'abc12345', config: 'built-in', startedAt: '2026-11-25T10:00:00Z', finishedAt: '2026-11-25T10:01:00Z',
  durationMs: 60_000, hosts: [], exitCode: 1,
  tests: [
    test({
      id: 'smoke/lab/linux#0', status: 'passed', vm: 'bsm-abc12345-1',
      checks: [{ name: 'boots to a login prompt', status: 'passed', durationMs: 3000, measured: '3.0s', threshold: '<= 2.0m' }],
      consoleTail: 'login: ', attachments: [{ name: 'console', path: `${REPORTS}/tests/smoke-lab-linux-0/console.log` }],
    }),
    test({
      id: 'smoke/lab/linux#1', repeat: 1, status: 'failed', vm: 'bsm-abc12345-2',
      checks: [
        { name: 'boots to a login prompt', status: 'passed', durationMs: 2900, measured: '2.9s', threshold: '<= 2.0m' },
        { name: 'kernel answers uname', status: 'failed', durationMs: 0, measured: 'Plan9', threshold: 'matches /Linux/', message: 'wanted Linux' },
        { name: 'shuts down', status: 'passed', durationMs: 10 },
      ],
      // Console output is data: markup, CDATA terminators, colour escapes and control bytes must survive as text.
      consoleTail: 'line 1\npanic: <script>alert(1)</script> ]]> \x1b[31mred\x1b[0m \x07 done',
      attachments: [
        { name: 'console', path: `${REPORTS}/tests/smoke-lab-linux-1/console.log` },
        { name: 'pstack', path: `${REPORTS}/tests/smoke-lab-linux-1/pstack.txt` },
      ],
      reproduce: "npx bhyve-smoke run smoke --host lab --guest linux --repeat-each 2 --grep '^smoke/lab/linux#1$'",
    }),
    test({
      id: 'wrlock-reboot/lab/linux', suite: 'wrlock-reboot', status: 'failed', vm: 'bsm-abc12345-3', durationMs: 95_000,
      checks: [
        { name: 'reboot 1 comes back', status: 'passed', durationMs: 7000, measured: '7.1s', threshold: '<= 2.0m' },
        { name: 'no hang', status: 'failed', kind: 'liveness', type: 'HangDetected', durationMs: 0, threshold: 'heartbeat, vCPU progress and every write-lock cycle within their thresholds', message: 'wrlock-cycle watch: one write-lock cycle has not returned for 30.2 s' },
      ],
      stuckFrames: [{ thread: 'vcpu 0', frame: 'vm_handle_rendezvous' }],
      known: [{ id: 'illumos#14026', summary: 'vCPU stuck in rendezvous under the write lock', where: 'kernel-stacks', line: 'vm_handle_rendezvous+0x4f' }],
      consoleTail: Array.from({ length: 40 }, (_, i) => `console line ${i + 1}`).join('\n'),
      attachments: [
        { name: 'console', path: `${REPORTS}/tests/wrlock-reboot-lab-linux/console.log` },
        { name: 'screen 01 boot', path: `${REPORTS}/tests/wrlock-reboot-lab-linux/screen-01-boot.png` },
        { name: 'bhyvectl-stats', path: `${REPORTS}/tests/wrlock-reboot-lab-linux/bhyvectl-stats.txt` },
        { name: 'screen 02 hang', path: `${REPORTS}/tests/wrlock-reboot-lab-linux/screen-02-hang.png` },
        { name: 'kernel-stacks', path: `${REPORTS}/tests/wrlock-reboot-lab-linux/kernel-stacks.txt` },
      ],
      kept: 'bsm-abc12345-3 on lab (local); its console is the unix socket /tmp/bhyve-lab-0/vmm/bsm-abc12345-3/console.sock; remove it with `bhyve-smoke clean`',
      reproduce: 'npx bhyve-smoke run wrlock-reboot --host lab --guest linux',
    }),
    test({ id: 'smoke/lab/freebsd', guest: 'freebsd', status: 'error', error: { type: 'InfraError', message: 'host lab: unreachable' }, consoleTail: 'no vm was made' }),
    test({ id: 'smoke/lab/windows', guest: 'windows', status: 'skipped', skipReason: 'suite smoke does not run on windows guests' }),
    test({ id: 'smoke/lab/aborted', guest: 'aborted', status: 'error', error: { type: 'Aborted', message: 'interrupted by SIGINT' } }),
    test({
      id: 'wrlock-iperf/lab/linux', suite: 'wrlock-iperf', status: 'flaky', attempt: 1, vm: 'bsm-abc12345-5',
      attempts: [{ status: 'error', error: 'lab: bhyve exited 4 as it started: vm_reinit: Device busy' }, { status: 'passed' }],
      checks: [
        { name: 'unstressed throughput is measurable', status: 'passed', durationMs: 10_000, measured: '0.28 Gbit/s', threshold: '> 0' },
        { name: 'throughput under the hard dose', status: 'passed', durationMs: 10_000, measured: '0.61 of unstressed', threshold: '>= 0.30' },
        { name: 'update-under-wrlock windows part', status: 'skipped', durationMs: 0, message: 'no windows guest on this host' },
      ],
    }),
  ],
};

/** The recorded 40 wrlock-iperf runs, as 40 single-test runs merged back into one (a nightly job's shards). */
export function merged40(): RunResult {
  const recorded: RunResult = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../fixtures/recorded/lab-wrlock-iperf.results.json'), 'utf8'));
  const shuffled = [...recorded.tests].sort((a, b) => String(a.repeat).localeCompare(String(b.repeat)));
  return mergeRuns(shuffled.map((t, i) => ({
    source: `run-${i}/results.json`,
    run: { ...recorded, runId: `r${String(i).padStart(2, '0')}`, tests: [{ ...t, attachments: [{ name: 'console', path: `${REPORTS}/run-${i}/tests/x/console.log` }] }] },
  })));
}
