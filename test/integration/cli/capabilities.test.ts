// A host's capabilities are probed, not assumed: a lab host whose bhyvectl
// lacks the write-lock hook (labWrlockHook: false, the lab's second build, as
// an illumos bhyvectl from before the hook) is healthy, doctor says what it
// lacks, and a run skips the stress suites on it with the probe's reason, in
// results.json, JUnit and the report; the host's capabilities are kept beside
// its fingerprint.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { BUILTIN_CONFIG } from '../../../harness/config/defaults.ts';
import type { RunResult } from '../../../harness/report/results.ts';
import { inSandbox } from '../../helpers/cli.ts';

const STRESS = ['wrlock-iperf', 'wrlock-reboot', 'update-under-wrlock', 'wrlock-dose'];
const REASON = /host lab has no wrlock capability: \S*\/bhyvectl-without-wrlock-cycle's usage lists no --wrlock-cycle/;

describe('host capabilities', { timeout: 300_000 }, () => {
  it('a lab host without the write-lock hook: doctor says so, the stress suites are skipped with the reason everywhere', async () => {
    await inSandbox(async (box) => {
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), stringify({ ...BUILTIN_CONFIG, hosts: { lab: { ...BUILTIN_CONFIG.hosts.lab, labWrlockHook: false } } }));
      const doctor = await box.run(['doctor']);
      assert.equal(doctor.exitCode, 0, `a host lacking a capability is still healthy:\n${doctor.stdout}${doctor.stderr}`);
      assert.match(String(doctor.stdout), /^ {2}lack wrlock: \S*bhyvectl-without-wrlock-cycle's usage lists no --wrlock-cycle$/m);
      assert.match(String(doctor.stdout), /^ {2}has  vcpu-stats: /m);

      const r = await box.run(['run', ...STRESS, '--output', 'out']);
      assert.equal(r.exitCode, 0, `${r.stdout}${r.stderr}`);
      const results: RunResult = JSON.parse(readFileSync(join(box.dir, 'out/results.json'), 'utf8'));
      assert.deepEqual(results.tests.map((t) => [t.suite, t.status]), STRESS.map((s) => [s, 'skipped']));
      for (const t of results.tests) assert.match(t.skipReason ?? '', REASON);
      const caps = results.hosts[0].capabilities;
      assert.equal(caps?.wrlock.present, false);
      assert.equal(caps?.['vcpu-stats'].present, true);
      assert.equal(caps?.framebuffer.present, true, 'the lab\'s bhyve -s help lists fbuf');
      assert.ok(results.hosts[0].fingerprint?.cpus, 'kept beside the fingerprint');

      const junit = readFileSync(join(box.dir, 'out/junit.xml'), 'utf8');
      assert.equal(junit.match(/<skipped message="host lab has no wrlock capability: [^"]*usage lists no --wrlock-cycle"/g)?.length, STRESS.length, junit);
      const report = readFileSync(join(box.dir, 'out/report.html'), 'utf8');
      assert.match(report, /<div class="missing" data-capability="wrlock"[^>]*>no wrlock: [^<]*usage lists no --wrlock-cycle<\/div>/);
      assert.ok((report.match(/host lab has no wrlock capability/g)?.length ?? 0) >= STRESS.length, 'each skipped test gives the reason in the report');

      // The nightly that would be green on such a host goes red with --fail-on-skip, listing the skips.
      const red = await box.run(['run', ...STRESS, '--fail-on-skip', '--output', 'red']);
      assert.equal(red.exitCode, 1, `${red.stdout}${red.stderr}`);
      for (const suite of STRESS) assert.match(String(red.stdout), new RegExp(`^--fail-on-skip: ${suite}/lab/linux was skipped — host lab has no wrlock capability`, 'm'));
      const redResults: RunResult = JSON.parse(readFileSync(join(box.dir, 'red/results.json'), 'utf8'));
      assert.deepEqual([redResults.exitCode, redResults.failOn], [1, { skip: true, flaky: false }]);
    });
  });

  it('--last-failed runs again only what failed or errored in the last run written to --output; nothing failed is said', async () => {
    await inSandbox(async (box) => {
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), stringify({ ...BUILTIN_CONFIG, hosts: { lab: { ...BUILTIN_CONFIG.hosts.lab, labWrlockHook: false } } }));
      const first = await box.run(['run', 'wrlock-iperf', 'wrlock-dose', '--output', 'out']);
      assert.equal(first.exitCode, 0, `${first.stdout}${first.stderr}`);
      const none = await box.run(['run', '--last-failed', '--output', 'out']);
      assert.equal(none.exitCode, 2);
      assert.match(String(none.stderr), /--last-failed: nothing failed in the last run \(\S+out\/results\.json, run \S+\): no test to run again/);
      // The last run as a night that failed wrlock-dose: only that runs again.
      const last: RunResult = JSON.parse(readFileSync(join(box.dir, 'out/results.json'), 'utf8'));
      last.tests = last.tests.map((t) => (t.suite === 'wrlock-dose' ? { ...t, status: 'failed' } : t));
      writeFileSync(join(box.dir, 'out/results.json'), JSON.stringify(last));
      const again = await box.run(['run', '--last-failed', '--output', 'out']);
      assert.equal(again.exitCode, 0, `${again.stdout}${again.stderr}`);
      const rerun: RunResult = JSON.parse(readFileSync(join(box.dir, 'out/results.json'), 'utf8'));
      assert.deepEqual(rerun.tests.map((t) => t.id), ['wrlock-dose/lab/linux']);
    });
  });

  it('a profile with failOnSkip fails a run with a skip, as --fail-on-skip does; merge of its shards too', async () => {
    await inSandbox(async (box) => {
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), stringify({
        ...BUILTIN_CONFIG,
        hosts: { lab: { ...BUILTIN_CONFIG.hosts.lab, labWrlockHook: false } },
        profiles: { ...BUILTIN_CONFIG.profiles, strict: { failOnSkip: true } },
      }));
      const shards = await Promise.all(['1/2', '2/2'].map(async (s) => box.run(['run', 'wrlock-iperf', 'wrlock-reboot', '--profile', 'strict', '--shard', s, '--output', `shard-${s[0]}`])));
      assert.deepEqual(shards.map((r) => r.exitCode), [1, 1], shards.map((r) => `${r.stdout}${r.stderr}`).join('\n'));
      const merged = await box.run(['merge', 'shard-1', 'shard-2', '--output', 'night']);
      assert.equal(merged.exitCode, 1, `${merged.stdout}${merged.stderr}`);
      assert.equal(String(merged.stdout).match(/^--fail-on-skip: /gm)?.length, 2, String(merged.stdout));
    });
  });
});
