// vCPU pinning (harness/platform/vcpu-pinning.ts): FreeBSD's -p on bhyve's
// command line; illumos's pbind of the "vcpu N" threads, run by /bin/sh over a
// stand-in /proc and pbind; the supervisor pinning every bhyve it starts; the
// config's pinVcpus and a profile's; calibrate's noise with and without.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { bhyvePinArgs, pbindPinningAt, PIN_LOG, PIN_SCRIPT } from '../../harness/platform/vcpu-pinning.ts';
import { freebsdBhyveArgv } from '../../harness/platform/freebsd.ts';
import { SUPERVISOR_SH } from '../../harness/platform/supervisor.ts';
import { configSchema, withProfile } from '../../harness/config/schema.ts';
import { BUILTIN_CONFIG } from '../../harness/config/defaults.ts';
import { pinningNoise } from '../../harness/verdict/calibrate.ts';
import type { TestResult } from '../../harness/report/results.ts';

const root = mkdtempSync(join(tmpdir(), 'bsm-pin-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('pinning on each platform', () => {
  it('FreeBSD: bhyve -p vcpu:hostcpu, one per vCPU, before the vm name (bhyve(8): "a -p option is required for every guest vCPU to be pinned")', () => {
    assert.deepEqual(bhyvePinArgs([2, 3]), ['-p', '0:2', '-p', '1:3']);
    const argv = freebsdBhyveArgv({ name: 'bsm-r1-1', cpus: 2, memoryMiB: 512, bootrom: '/rom', disk: '/d', console: '/dev/nmdm0A', nic: 'tap0', pinVcpus: [2, 3] });
    assert.deepEqual(argv.slice(-5), ['-p', '0:2', '-p', '1:3', 'bsm-r1-1']);
    assert.ok(!freebsdBhyveArgv({ name: 'v', cpus: 1, memoryMiB: 512, bootrom: '/rom', disk: '/d', console: 'c', nic: 't' }).includes('-p'));
  });

  /** A stand-in /proc with bhyve's LWPs (lwpname NUL-padded to 32 bytes, as the kernel keeps it) and a pbind that logs. */
  const illumos = (pid: number, names: Record<number, string>, pbindFails = false) => {
    const dir = mkdtempSync(join(root, 'illumos-'));
    for (const [lwp, name] of Object.entries(names)) {
      mkdirSync(join(dir, 'proc', String(pid), 'lwp', lwp), { recursive: true });
      writeFileSync(join(dir, 'proc', String(pid), 'lwp', lwp, 'lwpname'), Buffer.concat([Buffer.from(name), Buffer.alloc(32 - name.length)]));
    }
    const pbind = join(dir, 'pbind');
    writeFileSync(pbind, pbindFails
      ? '#!/bin/sh\necho "pbind: cannot bind lwpid ${3}: Invalid argument" >&2; exit 1\n'
      // pbind.c bind_out(): "%s id %s: was not bound, now %d\n", the word "lwp" and PID/LWPID.
      : `#!/bin/sh\necho "$*" >>${dir}/calls; echo "lwp id $3: was not bound, now $2"\n`);
    chmodSync(pbind, 0o755);
    const script = join(dir, PIN_SCRIPT);
    return { dir, script, write: (cpus: number[]) => writeFileSync(script, pbindPinningAt(join(dir, 'proc'), pbind).script('vm', cpus)) };
  };
  const run = (script: string, pid: number) => spawnSync('/bin/sh', [script, String(pid)], { encoding: 'utf8', timeout: 20_000 });

  it('illumos: pbind -b CPU PID/LWPID of the thread named "vcpu N", each vCPU; what it did logged, `pinned PID: …` last', () => {
    const pid = process.pid;
    const host = illumos(pid, { 1: 'bhyve', 7: 'vcpu 1', 8: 'vcpu 0', 9: 'blk-4:0-0', 12: 'mevent' });
    host.write([3, 5]);
    const r = run(host.script, pid);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, `lwp id ${pid}/8: was not bound, now 3\nlwp id ${pid}/7: was not bound, now 5\npinned ${pid}: vcpu 0 cpu 3, vcpu 1 cpu 5\n`);
    assert.equal(readFileSync(join(host.dir, 'calls'), 'utf8'), `-b 3 ${pid}/8\n-b 5 ${pid}/7\n`);
  });

  it('illumos: a pbind that fails, or a bhyve gone before its vCPU threads are there, is `pinning failed PID: …` with why', () => {
    const failing = illumos(process.pid, { 8: 'vcpu 0' }, true);
    failing.write([64]);
    const r = run(failing.script, process.pid);
    assert.equal(r.status, 1);
    assert.equal(r.stdout.trim(), `pinning failed ${process.pid}: pbind -b 64 ${process.pid}/8: pbind: cannot bind lwpid ${process.pid}/8: Invalid argument`);
    // A bhyve that exited (its pid gone), whose threads are not all named: not waited for 30 s.
    const gone = spawnSync('/bin/true').pid!;
    const early = illumos(gone, { 8: 'vcpu 0' });
    early.write([1, 2]);
    const e = run(early.script, gone);
    assert.deepEqual([e.status, e.stdout.trim()], [1, `pinning failed ${gone}: bhyve exited before its vCPUs were pinned`]);
  });

  it('the supervisor runs the pin script beside every bhyve it starts: a guest reboot (exit 0) is pinned anew', () => {
    const dir = mkdtempSync(join(root, 'vm-'));
    writeFileSync(join(dir, 'supervise.sh'), SUPERVISOR_SH);
    writeFileSync(join(dir, PIN_SCRIPT), 'echo "pinned $1: vcpu 0 cpu 1"\n');
    // A bhyve that reboots its guest once (exit 0), then powers off (exit 1), each start living a moment.
    const bhyve = join(dir, 'bhyve');
    writeFileSync(bhyve, `#!/bin/sh\nsleep 0.3\nif [ -e ${dir}/rebooted ]; then exit 1; fi\ntouch ${dir}/rebooted\nexit 0\n`);
    chmodSync(bhyve, 0o755);
    execFileSync('/bin/sh', [join(dir, 'supervise.sh'), dir, bhyve, 'vm']);
    const log = readFileSync(join(dir, PIN_LOG), 'utf8').trim().split('\n');
    assert.equal(log.length, 2, log.join('\n'));
    assert.ok(log.every((l) => /^pinned \d+: vcpu 0 cpu 1$/.test(l)));
    assert.notEqual(log[0].split(' ')[1], log[1].split(' ')[1], 'each start is its own bhyve');
  });
});

describe('pinVcpus in the config', () => {
  const config = (guest: object, profiles: object = {}) => configSchema.safeParse({ ...BUILTIN_CONFIG, guests: { linux: { ...BUILTIN_CONFIG.guests.linux, ...guest } }, profiles });

  it('one host CPU per vCPU, for guests there are; a profile pins or unpins a guest for its runs', () => {
    assert.ok(config({ vcpus: 2, pinVcpus: [0, 1] }).success);
    const short = config({ vcpus: 2, pinVcpus: [1] });
    assert.match(JSON.stringify(short.error?.issues), /guests","linux","pinVcpus".*one host CPU per vCPU: 2 vCPUs, 1 host CPU given/);
    assert.match(JSON.stringify(config({}, { gate: { pinVcpus: { windows: [1] } } }).error?.issues), /profiles","gate","pinVcpus","windows".*no guest windows/);
    const parsed = config({ pinVcpus: [1] }, { unpinned: { pinVcpus: { linux: false } }, other: { pinVcpus: { linux: [0] } } });
    assert.ok(parsed.success);
    assert.equal(withProfile(parsed.data!, parsed.data!.profiles.unpinned).guests.linux.pinVcpus, undefined);
    assert.deepEqual(withProfile(parsed.data!, parsed.data!.profiles.other).guests.linux.pinVcpus, [0]);
    assert.deepEqual(parsed.data!.guests.linux.pinVcpus, [1], 'the config itself is left as it is');
  });
});

describe('calibrate: noise with and without pinning', () => {
  const test = (mbps: number, pinned?: string) => ({
    id: 't', suite: 'wrlock-iperf', guest: 'linux', host: 'lab', status: 'passed', durationMs: 1, checks: [],
    metrics: [{ metric: 'throughput', value: mbps, unit: 'Mbit/s', better: 'higher', dims: { dose: 'hard', direction: 'host-to-guest' } }],
    ...(pinned ? { vcpusPinned: pinned } : {}),
  }) as unknown as TestResult;

  it('side by side per series, only when both kinds of test are there', () => {
    const tests = [test(100), test(140), test(80), test(100, 'vcpu 0 cpu 1'), test(104, 'vcpu 0 cpu 1'), test(96, 'vcpu 0 cpu 1')];
    const noise = pinningNoise(tests)!;
    assert.deepEqual([noise.unpinned, noise.pinned, noise.as], [3, 3, ['vcpu 0 cpu 1']]);
    assert.equal(noise.series.length, 1);
    assert.ok(noise.series[0].unpinned! > 5 * noise.series[0].pinned!, JSON.stringify(noise.series));
    assert.equal(pinningNoise(tests.slice(0, 3)), undefined);
  });
});
