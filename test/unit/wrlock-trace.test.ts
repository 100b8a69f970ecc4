// The write-lock cycle timed in the kernel (harness/platform/wrlock-trace.ts):
// the DTrace probe judged on real dtrace output (fixtures/transcripts/dtrace/
// SOURCES.md), the tracer's lines read, and what a hammered test says and
// records with and without a tracer (steps.ts judgeHammer).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DTRACE_WRLOCK_PROGRAM, dtraceWrlockTrace, judgeDtraceProbe, listsProbe, readTraceLine, VM_WRLOCK_CYCLE } from '../../harness/platform/wrlock-trace.ts';
import { UnexpectedOutput } from '../../harness/platform/host-output.ts';
import { judgeCapabilities } from '../../harness/platform/capabilities.ts';
import { illumosPlatform } from '../../harness/platform/illumos.ts';
import { freebsdPlatform } from '../../harness/platform/freebsd.ts';
import { judgeHammer } from '../../harness/steps.ts';
import type { HammerSummary } from '../../harness/disturbance/wrlock-hammer.ts';
import { Checks } from '../../harness/verdict/checks.ts';
import { Metrics } from '../../harness/verdict/metrics.ts';
import type { SuiteContext } from '../../harness/suite.ts';

const transcript = (name: string) => readFileSync(join(import.meta.dirname, '../../fixtures/transcripts/dtrace', name), 'utf8');

describe('the DTrace probe of an illumos host', () => {
  it("VM_WRLOCK_CYCLE is vmm_dev.h's (VMM_LOCK_IOC_BASE | 0xff), and the program traces bhyvectl's ioctl of it", () => {
    assert.equal(VM_WRLOCK_CYCLE, 0x766cff);
    assert.match(DTRACE_WRLOCK_PROGRAM, /syscall::ioctl:entry \/execname == "bhyvectl" && arg1 == 0x766cff\//);
    assert.match(dtraceWrlockTrace.command, /^exec \/usr\/sbin\/dtrace -q /, 'quiet: nothing but what printf prints');
  });

  it('a listing row is a yes; no privileges, no probe or no dtrace is a no that says why (real dtrace output)', () => {
    // The listing's shape on a real row (the syscall provider's empty MODULE column).
    const listing = transcript('list-syscall-poll-macos.txt');
    assert.equal(listsProbe(listing, 'syscall', 'poll', 'entry'), true);
    assert.equal(listsProbe(listing, 'syscall', 'ioctl', 'entry'), false);
    assert.equal(judgeDtraceProbe(listing.replace(' poll entry', 'ioctl entry')), true);
    // A header alone is no listing of ioctl: not read as a yes.
    assert.match(String(judgeDtraceProbe(listing)), /^could not tell/);

    assert.equal(judgeDtraceProbe(transcript('no-privileges-macos.txt')),
      'dtrace: failed to initialize dtrace: DTrace requires additional privileges (the syscall provider needs the dtrace_user privilege: root in the global zone, or a zone with limitpriv including dtrace_user)');
    assert.equal(judgeDtraceProbe(transcript('list-no-match-macos.txt')), 'dtrace lists no syscall::ioctl:entry probe (dtrace: failed to match :ruby::: No probe matches description)');
    assert.equal(judgeDtraceProbe('no /usr/sbin/dtrace on the host\n'), 'no /usr/sbin/dtrace on the host');
  });

  it('the capability follows the probe on illumos; FreeBSD has no cycle to trace', () => {
    const usage = 'Usage: bhyvectl --vm=<vmname>\n       [--wrlock-cycle]\n';
    const links = { ok: true, detail: 'a VNIC per vm' };
    const without = judgeCapabilities(illumosPlatform(), { usage, devices: 'fbuf\n', trace: transcript('no-privileges-macos.txt') }, links)['wrlock-trace'];
    assert.deepEqual([without.present, /additional privileges/.test(without.detail)], [false, true]);
    const withIt = judgeCapabilities(illumosPlatform(), { usage, devices: 'fbuf\n', trace: transcript('list-syscall-poll-macos.txt').replace(' poll entry', 'ioctl entry') }, links)['wrlock-trace'];
    assert.deepEqual(withIt, { present: true, detail: dtraceWrlockTrace.timing });
    assert.match(judgeCapabilities(freebsdPlatform(), { usage, devices: '' }, links)['wrlock-trace'].detail, /no --wrlock-cycle: no cycle to trace/);
  });

  it("the tracer's lines are read; dtrace's own notices (a tracer run without -q) are refused, naming the line", () => {
    const command = dtraceWrlockTrace.command;
    assert.deepEqual(readTraceLine('ready', command), { kind: 'ready' });
    assert.deepEqual(readTraceLine('wrlock-cycle 4242 183517 0', command), { kind: 'cycle', pid: 4242, ns: 183517, errno: 0 });
    assert.equal(readTraceLine('', command), undefined, 'dtrace -q ends with a blank line');
    for (const line of transcript('pid-ioctl-not-quiet-smartos.txt').trim().split('\n')) {
      assert.throws(() => readTraceLine(line, command), (e: unknown) => e instanceof UnexpectedOutput && e.message.includes(JSON.stringify(line)));
    }
    assert.throws(() => readTraceLine('wrlock-cycle 4242 99999999999999999999 0', command), /out of range/);
  });
});

describe('a hammered test with and without the kernel timing', () => {
  const judged = (kernel: HammerSummary['kernel']) => {
    const check = new Checks();
    const metrics = new Metrics();
    const summary: HammerSummary = { cycles: 4, failed: 0, failures: {}, latenciesMs: [9, 10, 11, 30], kernel };
    judgeHammer({ check, metrics, thresholds: { wrlockCycleMs: 2000 } } as unknown as SuiteContext, summary);
    return { check, metrics };
  };

  it('traced: the hold metrics in µs beside the round trip, and a check saying which timing it is and how many cycles it saw', () => {
    const { check, metrics } = judged({ timing: dtraceWrlockTrace.timing, latenciesUs: [180, 200, 50_210], untraced: 1, said: ['dtrace: 2 drops on CPU 1'] });
    assert.deepEqual(metrics.values.map((v) => [v.metric, v.unit]), [['wrlock-cycle-p50', 'ms'], ['wrlock-cycle-p99', 'ms'], ['wrlock-hold-p50', 'µs'], ['wrlock-hold-p99', 'µs']]);
    assert.equal(metrics.values.find((v) => v.metric === 'wrlock-hold-p50')?.value, 200);
    const hold = check.results.find((r) => r.name === 'write-lock cycle in the kernel p99');
    assert.equal(hold?.status, 'passed');
    assert.match(hold?.measured ?? '', /^p50 200 µs, p99 \d+ms; 3 of 4 cycles traced; dtrace: 2 drops on CPU 1 — in the kernel: bhyvectl's VM_WRLOCK_CYCLE ioctl/);
  });

  it('not traced: no hold metric is made up, and the check is skipped with the reason', () => {
    const { check, metrics } = judged({ off: 'host h has no wrlock-trace capability: dtrace: failed to initialize dtrace: DTrace requires additional privileges' });
    assert.ok(!metrics.values.some((v) => v.metric.startsWith('wrlock-hold')));
    const hold = check.results.find((r) => r.name === 'write-lock cycle in the kernel p99');
    assert.deepEqual([hold?.status, hold?.message], ['skipped', 'not timed in the kernel: host h has no wrlock-trace capability: dtrace: failed to initialize dtrace: DTrace requires additional privileges']);
    const none = judged({ timing: 'x', latenciesUs: [], untraced: 4, failed: 'the tracer failed: it ended (exit 1)', said: [] });
    assert.match(none.check.results.find((r) => r.name === 'write-lock cycle in the kernel p99')?.message ?? '', /timed none of 4 cycles \(the tracer failed: it ended \(exit 1\)\)/);
  });
});
