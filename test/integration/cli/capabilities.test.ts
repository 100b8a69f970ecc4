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
    });
  });
});
