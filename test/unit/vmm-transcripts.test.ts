// What the harness reads of a bhyve host's vmm, against real output of the
// tools (fixtures/transcripts/vmm/SOURCES.md): stacks of a hung bhyve, bhyvectl
// stats, kstat lines, dladm listings. The recipes that are shell run under
// /bin/sh with a stand-in tool on PATH that prints the transcript.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseFindstack, parseProcstatKk, stuckFrames, VMM_FUNCTION } from '../../harness/platform/stacks.ts';
import { kstatProgress, statsProgress } from '../../harness/platform/vcpu-stats.ts';
import { vnicLinks } from '../../harness/platform/links.ts';
import { freebsdPlatform } from '../../harness/platform/freebsd.ts';
import { illumosPlatform } from '../../harness/platform/illumos.ts';
import { labPlatform } from '../../harness/platform/lab.ts';
import { LAB_BIN } from '../helpers/lab.ts';
import { illumosGetStats } from '../helpers/get-stats-transcript.ts';

const transcript = (name: string) => readFileSync(join(import.meta.dirname, '../../fixtures/transcripts/vmm', name), 'utf8');
const root = mkdtempSync(join(tmpdir(), 'bsm-vmm-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Runs a recipe under /bin/sh with `tool` on PATH answering with `script`. */
function withStandIn(tool: string, script: string, recipe: string): string {
  const bin = mkdtempSync(join(root, 'bin-'));
  writeFileSync(join(bin, tool), `#!/bin/sh\n${script}`);
  chmodSync(join(bin, tool), 0o755);
  return execFileSync('/bin/sh', ['-c', recipe], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8' });
}

describe('stacks of a hung bhyve', () => {
  it('illumos ::findstack -v (bug #14026): each bhyve thread and the vmm function it is stuck in', () => {
    const threads = parseFindstack(transcript('mdb-findstack-illumos-14026.txt'));
    assert.deepEqual(threads.map((t) => t.thread), ['bhyve/36 [vcpu 0]', 'bhyve/37 [vcpu 1]']);
    assert.deepEqual(threads[0].frames.slice(0, 5), ['_resume_from_idle+0x12b', 'swtch+0x133', 'turnstile_block+0x25b', 'rw_enter_sleep+0x1a5', 'vmm_write_lock+0x87']);
    const stuck = stuckFrames(transcript('mdb-findstack-illumos-14026.txt'), { evidence: 'kernel-stacks', parse: parseFindstack, ours: (f) => VMM_FUNCTION.test(f) });
    assert.deepEqual(stuck, [
      { thread: 'bhyve/36 [vcpu 0]', frame: 'vmm_write_lock+0x87' },
      { thread: 'bhyve/37 [vcpu 1]', frame: 'vcpu_set_state_locked+0x94' },
    ]);
  });

  it('FreeBSD procstat -kk: columns cut where the header has them; a thread with no vmm frame names none', () => {
    const reading = freebsdPlatform().stacks!;
    const threads = parseProcstatKk(transcript('procstat-kk-freebsd15.txt'));
    assert.deepEqual(threads.map((t) => [t.thread, t.frames[0], t.frames.length]), [['mevent', 'mi_switch+0x17c', 12], ['blk-2:0-0', 'mi_switch+0x17c', 11]]);
    assert.deepEqual(stuckFrames(transcript('procstat-kk-freebsd15.txt'), reading), []);
    // A thread name with a space (bhyve names vCPU threads "vcpu N") stays whole.
    const header = transcript('procstat-kk-freebsd15.txt').split('\n')[0];
    const vcpu = `${header}\n44748 101745 bhyve               vcpu 0              mi_switch+0x17c vcpu_set_state_locked+0x1a0 vcpu_lock_one+0x2c vmmdev_ioctl+0x3b0\n`;
    assert.deepEqual(stuckFrames(vcpu, reading), [{ thread: 'vcpu 0', frame: 'vcpu_set_state_locked+0x1a0' }]);
    // The kernel's VM system is not vmm (sys/vm/: vm_fault, vm_page_*, vm_map_*, vmspace_*): a guest paging in
    // sits in vm_fault under vmm's vm_handle_paging, which is the frame named; a thread in the VM system alone names none.
    const paging = `${header}\n44748 101746 bhyve               vcpu 1              mi_switch+0x17c sleepq_wait+0x2c vm_page_alloc_domain+0x40 vm_fault_allocate+0x61 vm_fault+0x9a vm_handle_paging+0x5e vm_run+0x3c4 vmmdev_ioctl+0x8d3\n` +
      '44748 101747 bhyve               blk-4:0-0           mi_switch+0x17c vm_wait_domain+0x3b vm_map_find+0x10 vmspace_fork+0x20 vm_object_deallocate+0x4\n';
    assert.deepEqual(stuckFrames(paging, reading), [{ thread: 'vcpu 1', frame: 'vm_handle_paging+0x5e' }]);
    for (const f of ['vm_fault', 'vm_fault_trap', 'vm_page_alloc', 'vm_map_lookup', 'vm_map_find', 'vm_object_deallocate', 'vmspace_fork', 'vm_wait_domain', 'vm_mmap_object']) assert.equal(reading.ours(f), false, f);
    for (const f of ['vm_run', 'vm_handle_rendezvous', 'vm_smp_rendezvous', 'vm_map_mmio', 'vm_mmap_memseg', '_vm_gpa_hold', 'vcpu_lock_one', 'vmmdev_ioctl', 'vmx_run', 'svm_run', 'vlapic_icrlo_write_handler']) assert.equal(reading.ours(f), true, f);
  });
});

describe('vCPU counters', () => {
  it('bhyvectl --get-stats (illumos, propolis#378): the recipe picks one stat per vCPU from the %-40s\\t%ld lines', () => {
    const file = join(root, 'stats.txt');
    writeFileSync(file, illumosGetStats());
    const recipe = statsProgress('bhyvectl', 'total number of vm exits');
    const out = withStandIn('bhyvectl', `cat ${file}\n`, recipe.command('vm1', 2));
    assert.deepEqual(recipe.parse(out, 'vm1', 2), { counters: new Map([[0, 12969], [1, 12969]]) });
    assert.match(out, /^R 0\nvcpu1 stats:\n[\s\S]*\nX 0 0\nR 1\n/, 'each read is announced before it is made, and its status after');
  });

  it('illumos vmm kstats: the sum of a vCPU\'s six state times, for the vm\'s own vCPUs, its instance found by vm_name', () => {
    // The line shape of every kstat -p line (real output, TAB shown as spaces on the page):
    for (const line of transcript('kstat-p-cpu_stat.txt').trim().split('\n')) assert.match(line, /^[a-z_]+:\d+:[\w]+:\w+\s+\d+$/);
    // The vmm kstats in that shape, with the names vmm_kstat_init() gives (all 32 vCPUs exist; a vm of 2 reads 2).
    const states = ['time_init', 'time_run', 'time_idle', 'time_emu_kern', 'time_emu_user', 'time_sched'];
    const lines = [
      'vmm:1:vm:vm_name\tother-vm', 'vmm:3:vm:vm_name\tbsm-x-1',
      ...Array.from({ length: 32 }, (_, c) => states.map((s, i) => `vmm:3:vcpu${c}:${s}\t${(c + 1) * 1000 + i}`)).flat(),
      'vmm:3:vcpu0:snaptime\t999999999',
    ];
    const file = join(root, 'kstat.txt');
    writeFileSync(file, `${lines.join('\n')}\n`);
    // kstat -p MODULE:INSTANCE:NAME:STAT, each field a name or /regex/ (kstat(8)); the stand-in filters as kstat would.
    const standIn = `spec=$2
m=$(echo "$spec" | cut -d: -f1); i=$(echo "$spec" | cut -d: -f2); n=$(echo "$spec" | cut -d: -f3); s=$(echo "$spec" | cut -d: -f4)
awk -F '\\t' -v m="$m" -v i="$i" -v n="$n" -v s="$s" '
function ok(v, p) { if (p == "") return 1; if (p ~ /^\\//) { gsub(/^\\/|\\/$/, "", p); return v ~ p } return v == p }
{ split($1, k, ":"); if (ok(k[1], m) && ok(k[2], i) && ok(k[3], n) && ok(k[4], s)) print }' ${file}
`;
    const out = withStandIn('kstat', standIn, kstatProgress.command('bsm-x-1', 2));
    const sum = (c: number) => states.reduce((n, _, i) => n + (c + 1) * 1000 + i, 0);
    assert.deepEqual(kstatProgress.parse(out, 'bsm-x-1', 2), { counters: new Map([[0, sum(0)], [1, sum(1)]]) });
    assert.equal(out.trim().split('\n').length, 1 + 2 + 2 * states.length, 'whether the device is there, the vm_name lines, then only the vm\'s own vCPUs\' times');
    assert.match(out, /^nodev\n/, 'this machine has no /dev/vmm');
    assert.deepEqual(kstatProgress.parse(out, 'bsm-x-2', 2), { absent: 'no vmm kstat has vm_name bsm-x-2, and no /dev/vmm/bsm-x-2' });
  });

  it('illumos without the vmm kstats (before #13723): a vm whose device is there and no kstat names is a host without counters, not a vm gone', () => {
    const names = 'vmm:1:vm:vm_name\tother-vm\n';
    assert.deepEqual(kstatProgress.parse(`dev\n${names}`, 'bsm-x-1', 2), { unavailable: 'no vmm kstat names bsm-x-1 although /dev/vmm/bsm-x-1 exists: this kernel keeps no vmm kstats (they came with illumos #13723)' });
    assert.deepEqual(kstatProgress.parse('dev\n', 'bsm-x-1', 2), { unavailable: 'no vmm kstat names bsm-x-1 although /dev/vmm/bsm-x-1 exists: this kernel keeps no vmm kstats (they came with illumos #13723)' });
    assert.ok('absent' in kstatProgress.parse(`nodev\n${names}`, 'bsm-x-1', 2), 'between two bhyves of a reboot the vm is simply not there');
    // A vCPU whose kstats the kernel has not made yet (made at first use on newer kernels) has not run: the others still count.
    assert.deepEqual(kstatProgress.parse('dev\nvmm:3:vm:vm_name\tbsm-x-1\nvmm:3:vcpu0:time_run\t7\n', 'bsm-x-1', 2), { counters: new Map([[0, 7]]) });
  });
});

describe('boot ids', () => {
  it('illumos: the kernel\'s boot_time kstat (kstat -p); anything else is refused', () => {
    const { parse } = illumosPlatform().bootId;
    assert.equal(parse('unix:0:system_misc:boot_time\t1764930000\n'), '1764930000');
    assert.throws(() => parse('kstat: invalid statistic\n'), /kstat -p unix:0:system_misc:boot_time` printed what bhyve-smoke cannot read/);
  });

  it('FreeBSD: kern.boot_id, which a clock step leaves alone (not kern.boottime, which tc_setclock() moves)', () => {
    const { command, parse } = freebsdPlatform().bootId;
    assert.equal(command, 'sysctl -x kern.boot_id');
    // sysctl.c show_var(): an opaque with an empty format, dumped in hex with -x.
    assert.equal(parse('kern.boot_id: Format: Length:16 Dump:0x9d1c0b7e44a3f0c2b1e6a5d4c3b2a190\n'), '9d1c0b7e44a3f0c2b1e6a5d4c3b2a190');
    assert.throws(() => parse(''), /sysctl -x kern\.boot_id` printed what bhyve-smoke cannot read: nothing/, 'sysctl -n prints nothing for an opaque: never an empty id');
    assert.throws(() => parse('kern.boottime: { sec = 1764930000, usec = 123456 } Fri Dec  5 10:20:00 2025\n'), /cannot read/);
  });

  it('the lab: the uuid its host reset writes, or Linux\'s', () => {
    assert.match(labPlatform().bootId.parse(`${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')}`), /^[0-9a-f-]{36}$/);
    assert.throws(() => labPlatform().bootId.parse('cat: boot-id: Permission denied\n'), /cannot read/);
  });
});

describe('dladm', () => {
  const env = { ...process.env, BHYVE_LAB_RUNDIR: join(root, 'lab') };
  const dladm = (...args: string[]) => execFileSync(join(LAB_BIN, 'dladm'), args, { env, encoding: 'utf8' });

  it('the lab answers in the real shape: show-vnic\'s columns, one field unescaped, several joined by : with : escaped', () => {
    dladm('create-vnic', '-t', '-l', 'user0', 'bsm_ab12cd34_1');
    const realHeader = transcript('dladm-show-vnic-omnios.txt').split('\n')[0].trim().split(/\s+/);
    assert.deepEqual(dladm('show-vnic').split('\n')[0].trim().split(/\s+/), realHeader);
    assert.match(transcript('dladm-show-vnic-p-macaddress.txt').trim(), /^[0-9a-f]{1,2}(:[0-9a-f]{1,2}){5}$/);
    assert.match(dladm('show-vnic', '-p', '-o', 'macaddress', 'bsm_ab12cd34_1').trim(), /^[0-9a-f]{1,2}(:[0-9a-f]{1,2}){5}$/);
    assert.match(dladm('show-vnic', '-p', '-o', 'link,macaddress').trim(), /^bsm_ab12cd34_1:[0-9a-f]{1,2}(\\:[0-9a-f]{1,2}){5}$/);
    // The listing the reaper reads, back to vm names; a VNIC not named as ours is nobody's vm.
    dladm('create-vnic', '-t', '-l', 'user0', 'foreign0');
    const links = vnicLinks(join(LAB_BIN, 'dladm'), { what: '', command: '' });
    assert.deepEqual(links.list.parse(dladm('show-vnic', '-p', '-o', 'link,over')), [{ link: 'bsm_ab12cd34_1', vm: 'bsm-ab12cd34-1' }]);
  });
});
