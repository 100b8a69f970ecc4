// The wrlock hammer's doses on a lab vm: a cycle count, bursts, random gaps.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WrlockHammer } from '../../../harness/disturbance/wrlock-hammer.ts';
import { Timeline } from '../../../harness/timeline.ts';
import { Watchdog } from '../../../harness/watch/watchdog.ts';
import { labVmForSuite, vcpuTime } from '../../helpers/lab.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

describe('wrlock hammer doses', { timeout: 120_000 }, () => {
  const lab = labVmForSuite('hammer1');
  const { host } = lab;
  const hammerOf = (timeline = new Timeline()) => ({ timeline, hammer: new WrlockHammer(host, { vmm: lab.vm().name }, new Watchdog(timeline), timeline, 5_000) });
  const starts = (t: Timeline) => t.samples.filter((s) => s.series === 'wrlock.latency_ms').map((s) => s.t);

  it('runs exactly COUNT cycles, each timed, none failed, on a vm that runs meanwhile; the lab\'s tracer times them in its vmm', async () => {
    const timeline = new Timeline();
    const hammer = new WrlockHammer(host, { vmm: lab.vm().name }, new Watchdog(timeline), timeline, 5_000, host.platform.wrlockTrace!);
    const before = await vcpuTime(lab.vm());
    hammer.start({ rate: 'max', count: 20 });
    for (let i = 0; i < 100 && starts(timeline).length < 20; i++) await sleep(100);
    await sleep(300);
    const s = await hammer.stop();
    assert.equal(s.cycles, 20);
    assert.equal(s.failed, 0);
    assert.match(hammer.transcript, /Z E 20 0\nZ?.*DONE 20/s);
    // The tracer starts beside the loop: the first cycles may come before it traces, and are counted, not lost.
    assert.ok('latenciesUs' in s.kernel, JSON.stringify(s.kernel));
    const { latenciesUs, untraced } = s.kernel;
    assert.equal(latenciesUs.length + untraced, 20);
    assert.ok(latenciesUs.length >= 10, `only ${latenciesUs.length} of 20 cycles traced`);
    // Inside each round trip: the kernel's time is a part of what the hammer sees.
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    assert.ok(latenciesUs.every((us) => Number.isFinite(us) && us > 0));
    assert.ok(median(latenciesUs) / 1000 < median(s.latenciesMs), `kernel median ${median(latenciesUs)} µs against a round trip of ${median(s.latenciesMs)} ms`);
    assert.deepEqual(timeline.events.filter((e) => e.kind.startsWith('wrlock-trace')).map((e) => e.kind), ['wrlock-trace']);
    // Cycles against a vm with no running vCPU would succeed too (nothing to freeze): this one ran.
    assert.ok((await vcpuTime(lab.vm())) > before, 'the vm\'s vCPU made no progress while it was hammered');
  });

  it('bursts: cycles only in the on seconds, quiet in the off seconds', async () => {
    const { hammer, timeline } = hammerOf();
    hammer.start({ rate: 'max', pattern: { burst: { onS: 1, offS: 2 } } });
    await sleep(6_500);
    await hammer.stop();
    const t = starts(timeline);
    const gaps = t.slice(1).map((x, i) => x - t[i]);
    assert.ok(t.length > 10, `only ${t.length} cycles`);
    assert.ok(gaps.filter((g) => g >= 1_500).length >= 1, `no quiet period in gaps ${gaps.map(Math.round).join(',')}`);
  });

  it('random gaps average the rate and vary', async () => {
    const { hammer, timeline } = hammerOf();
    hammer.start({ rate: 20, pattern: 'random', seed: 7 });
    await sleep(4_000);
    await hammer.stop();
    const t = starts(timeline);
    const rate = (t.length - 1) / ((t.at(-1)! - t[0]) / 1000);
    // Measured here 16.1-17.1/s for a dose of 20/s (each cycle's own time and the awk that draws a gap come
    // on top of the gap); a halved or doubled rate must fail.
    assert.ok(rate > 12 && rate < 22, `rate ${rate.toFixed(1)}/s for a dose of 20/s`);
    const gaps = t.slice(1).map((x, i) => x - t[i]);
    assert.ok(Math.max(...gaps) - Math.min(...gaps) > 30, 'the gaps do not vary');
  });

  it("the lab's pin script binds QEMU's vCPU thread to the host CPU asked, and logs it", async () => {
    const vm = lab.vm();
    const pinning = host.platform.pinning;
    assert.ok(pinning.how === 'after start');
    const cpu = cpus().length - 1;
    const [vcpu0] = readFileSync(join(vm.dir, 'vcpus'), 'utf8').trim().split('\n').map((l) => l.split(' ')[1]);
    const allowed = () => /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${vcpu0}/status`, 'utf8'))?.[1];
    const script = join(vm.dir, 'pin-test.sh');
    writeFileSync(script, pinning.script(vm.name, [cpu]));
    const r = await execa('/bin/sh', [script, readFileSync(join(vm.dir, 'bhyve.pid'), 'utf8').trim()], { env: vm.env, reject: false });
    assert.equal(r.exitCode, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`new affinity list: ${cpu}\n[\\s\\S]*^pinned \\d+: vcpu 0 cpu ${cpu}$`, 'm'));
    assert.equal(allowed(), String(cpu));
  });

  it('rejects a malformed burst', () => {
    const { hammer } = hammerOf();
    assert.throws(() => hammer.start({ rate: 'max', pattern: { burst: { onS: 0, offS: 1 } } }), /burst pattern takes whole seconds on \(> 0\)/);
  });
});
