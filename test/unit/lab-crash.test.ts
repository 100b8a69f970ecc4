// The lab host going down as a kernel panic takes an illumos host down, and
// stopping answering for a while: its faults (panic-at-wrlock, panic-on-reboot,
// host-hang), the tools they start (lab-panic, lab-hang, the lab's own, by
// path, never this machine's), and the crash records read back with fmdump
// and dumpadm in illumos-gate's formats (fmdump.c, fault.c, libnvpair,
// panic_diag.c, dconf.c). No QEMU: a vm's fault is fired through the same
// code its bhyve runs, with a stand-in monitor.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { parseFaults } from '../../fixtures/lab/lib/config.mjs';
import { controlOps } from '../../fixtures/lab/lib/control.mjs';
import { consoleHandler } from '../../fixtures/lab/lib/bhyve.mjs';
import { readState } from '../../fixtures/lab/lib/vm-state.mjs';

const LAB = resolve(import.meta.dirname, '../../fixtures/lab');
const root = mkdtempSync(join(tmpdir(), 'bsm-crash-'));
after(() => rmSync(root, { recursive: true, force: true }));

// Stand-ins for every command that could take this machine down, first on PATH: none may be called.
const traps = join(root, 'traps');
const called = join(root, 'called');
mkdirSync(traps);
for (const t of ['reboot', 'shutdown', 'halt', 'poweroff', 'init', 'systemctl', 'uadmin', 'telinit']) {
  writeFileSync(join(traps, t), `#!/bin/sh\necho "$0 $*" >>${called}; exit 0\n`);
  chmodSync(join(traps, t), 0o755);
}
const run = join(root, 'run');
mkdirSync(run);
const env = { ...process.env, PATH: `${traps}:${process.env.PATH}`, BHYVE_LAB_RUNDIR: run, BHYVE_LAB_REBOOT_SECONDS: '0' };
const lab = (tool: string, ...args: string[]) => spawnSync(join(LAB, 'bin', tool), args, { env, encoding: 'utf8' });
const bootId = () => readFileSync(join(run, 'boot-id'), 'utf8').trim();
const down = () => existsSync(join(run, 'down'));

interface PanicRecord { uuid: string; crashtime: number; panicstr: string; panicstack: string; dumpdir: string; pendingTime: [number, number] | null; diagTime: [number, number] | null }
const panics = (): PanicRecord[] => (existsSync(join(run, 'fm', 'panics.json')) ? JSON.parse(readFileSync(join(run, 'fm', 'panics.json'), 'utf8')) : []);

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; !cond();) {
    if (Date.now() > end) assert.fail(`waited ${ms} ms for ${what}`);
    await sleep(25);
  }
}
/** A panic started detached has run to its end: recorded, diagnosed, the host up and the panic lock free for the next. */
const panicDone = (n: number) => () =>
  panics().length === n && panics()[n - 1].diagTime !== null && !down() &&
  spawnSync('flock', ['-n', join(run, 'panic.lock'), 'true']).status === 0;

const WRLOCK_STACK = 'vmm:vmm_zsd_key+37dddca1 () | vmm:vm_handle_mmio_emul+150 () | vmm:vm_run+43a () | vmm:vmmdev_do_ioctl+1173 () | ' +
  'vmm:vmm_ioctl+17c () | genunix:cdev_ioctl+2b () | specfs:spec_ioctl+45 () | genunix:fop_ioctl+5b () | genunix:ioctl+153 () | unix:brand_sys_syscall+304 () | ';
const REBOOT_STACK = 'unix:rewrite_syscall+0 () | unix:trap+12b7 () | unix:_cmntrap+1cd () | vmm:vmm_kstat_update_vcpu+6b () | kstat:read_kstat_data+f5 () | ' +
  'kstat:kstat_ioctl+5b () | genunix:cdev_ioctl+2b () | specfs:spec_ioctl+45 () | genunix:fop_ioctl+5b () | genunix:ioctl+153 () | unix:brand_sys_syscall32+290 () | ';
const SHORT_HDR = 'TIME                 UUID                                 SUNW-MSG-ID EVENT';

describe('the lab host\'s crash faults', () => {
  it('parses panic-at-wrlock=N, panic-on-reboot and host-hang=S@N, and refuses them malformed, saying what they take', () => {
    assert.deepEqual(parseFaults('panic-at-wrlock=3').panicAtWrlock, 3);
    assert.equal(parseFaults('panic-on-reboot').panicOnReboot, true);
    assert.deepEqual(parseFaults('host-hang=5@2').hostHang, { seconds: 5, atWrlock: 2 });
    const unset = parseFaults('slow-wrlock=1');
    assert.deepEqual(['panicAtWrlock', 'panicOnReboot', 'hostHang'].filter((k) => k in unset), [], 'unset, they are absent');
    assert.throws(() => parseFaults('panic-at-wrlock=0'), /fault "panic-at-wrlock=0": panic-at-wrlock takes the write-lock cycle that panics the host, counted from 1, e\.g\. panic-at-wrlock=3/);
    assert.throws(() => parseFaults('panic-at-wrlock'), /panic-at-wrlock takes the write-lock cycle/);
    assert.throws(() => parseFaults('host-hang=5'), /fault "host-hang=5": host-hang takes SECONDS@CYCLE, both from 1: .* e\.g\. host-hang=5@3/);
    assert.throws(() => parseFaults('host-hang=0@1'), /host-hang takes SECONDS@CYCLE/);
    assert.throws(() => parseFaults('panic-on-reboot=1'), /unknown fault "panic-on-reboot=1" \(known: .*panic-at-wrlock=N, panic-on-reboot, host-hang=S@N\)/);
  });
});

describe('lab-panic, fmdump and dumpadm', () => {
  let uuid = '';

  it('with no panic yet, fmdump prints fmdump.c\'s header and no row (main() prints it before reading the log)', () => {
    const r = lab('fmdump', '-c', 'defect.sunos.kernel.panic');
    assert.deepEqual([r.status, r.stdout, r.stderr], [0, `${SHORT_HDR}\n`, '']);
  });

  it('lab-panic wrlock: the host gets a new boot id, is up again, and a crash record holds illumos bug 13253\'s panic', () => {
    assert.equal(lab('lab-host-reset').status, 0);
    const before = bootId();
    const r = lab('lab-panic', 'wrlock');
    assert.deepEqual([r.status, r.stdout, r.stderr], [0, '', '']);
    assert.notEqual(bootId(), before);
    assert.match(bootId(), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(down(), false, 'up again');
    const [p, ...rest] = panics();
    assert.equal(rest.length, 0);
    assert.match(p.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a random v4 uuid, lowercase');
    assert.equal(p.panicstr, 'bad pending MMIO state');
    assert.equal(p.panicstack, WRLOCK_STACK);
    assert.equal(p.dumpdir, join(run, 'crash'));
    assert.ok(Math.abs(p.crashtime - Date.now() / 1000) < 30, 'crashtime is now, in epoch seconds');
    assert.ok(p.pendingTime && p.diagTime, 'diagnosed when the host came up');
    assert.ok(p.diagTime[0] * 1e6 + p.diagTime[1] >= p.pendingTime[0] * 1e6 + p.pendingTime[1] / 1000, 'the case is solved after the pending-dump report');
    assert.ok(p.pendingTime[0] >= p.crashtime);
    uuid = p.uuid;
  });

  it('fmdump -c defect.sunos.kernel.panic (and fmdump alone) lists it as flt_short() prints: "%-20s %-32s %s"', () => {
    for (const args of [['-c', 'defect.sunos.kernel.panic'], [], ['-c', 'defect.sunos.*'], ['-clist.suspect']]) {
      const r = lab('fmdump', ...args);
      assert.equal(r.status, 0, args.join(' '));
      const [hdr, row, end] = r.stdout.split('\n');
      assert.deepEqual([hdr, end], [SHORT_HDR, ''], args.join(' '));
      const date = row.slice(0, 20);
      assert.match(date, /^[A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2}\.\d{4}$/, 'fmdump_date(): %b %d %T.%4.4llu, within six months');
      assert.equal(row, `${date.padEnd(20)} ${uuid.padEnd(32)} SUNOS-8000-KL Diagnosed`);
    }
    assert.equal(lab('fmdump', '-c', 'fault.*').stdout, `${SHORT_HDR}\n`, 'another class: no row');
  });

  it('fmdump -Vp -u UUID prints its list.suspect as flt_pretty() does, line for line (tabs, a blank line after the fault list)', () => {
    const r = lab('fmdump', '-Vp', '-u', uuid);
    assert.deepEqual([r.status, r.stderr], [0, '']);
    const lines = r.stdout.split('\n');
    const p = panics()[0];
    const expected: (string | RegExp)[] = [
      'TIME                           UUID                                 SUNW-MSG-ID',
      new RegExp(`^([A-Z][a-z]{2} \\d{2} \\d{4} \\d{2}:\\d{2}:\\d{2})\\.(\\d{9}) ${uuid} SUNOS-8000-KL$`),
      '',
      '  TIME                 CLASS                                 ENA',
      /^ {2}[A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2}\.\d{4} ireport\.os\.sunos\.panic\.dump_pending_on_device 0x0000000000000000$/,
      '',
      'nvlist version: 0',
      '\tversion = 0x0',
      '\tclass = list.suspect',
      `\tuuid = ${uuid}`,
      '\tcode = SUNOS-8000-KL',
      /^\tdiag-time = (\d+) (\d{1,6})$/,
      '\tde = fmd:///module/software-diagnosis',
      '\tfault-list-sz = 0x1',
      '\tfault-list = (array of embedded nvlists)',
      '\t(start fault-list[0])',
      '\tnvlist version: 0',
      '\t\tversion = 0x0',
      '\t\tclass = defect.sunos.kernel.panic',
      '\t\tcertainty = 0x64',
      `\t\tasru = sw:///:path=${run}/crash/.${uuid}`,
      `\t\tresource = sw:///:path=${run}/crash/.${uuid}`,
      '\t\tsavecore-succcess = 0',
      `\t\tos-instance-uuid = ${uuid}`,
      '\t\tpanicstr = bad pending MMIO state',
      `\t\tpanicstack = ${WRLOCK_STACK}`,
      `\t\tcrashtime = ${p.crashtime}`,
      /^\t\tpanic-time = (Sun|Mon|Tue|Wed|Thu|Fri|Sat) [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4} UTC$/,
      '\t(end fault-list[0])',
      '',
      '\tfault-status = 0x1',
      '\tseverity = Major',
      '\t__ttl = 0x1',
      /^\t__tod = 0x([0-9a-f]+) 0x([0-9a-f]+)$/,
      '',
      '',
    ];
    assert.equal(lines.length, expected.length, r.stdout);
    expected.forEach((e, i) => (typeof e === 'string' ? assert.equal(lines[i], e, `line ${i + 1}`) : assert.match(lines[i], e, `line ${i + 1}`)));
    // The record's time is its TOD (__tod) and the case's diag-time; panic-time is crashtime as "%c %Z".
    const [, when, nsec] = lines[1].match(expected[1] as RegExp)!;
    const [, tsec, tnsec] = lines[33].match(/0x([0-9a-f]+) 0x([0-9a-f]+)/)!;
    const [, dsec, dusec] = lines[11].match(/(\d+) (\d+)/)!;
    assert.deepEqual([parseInt(tsec, 16), parseInt(tnsec, 16)], [Number(dsec), Number(dusec) * 1000]);
    assert.equal(Number(nsec), Number(dusec) * 1000);
    const d = new Date(Number(dsec) * 1000);
    assert.equal(when, `${d.toUTCString().slice(8, 11)} ${String(d.getUTCDate()).padStart(2, '0')} ${d.getUTCFullYear()} ${d.toISOString().slice(11, 19)}`);
    const c = new Date(p.crashtime * 1000).toUTCString(); // "Sat, 16 May 2026 18:27:24 GMT"
    const [, wd, day, mon, year, time] = c.match(/^(\w+), (\d+) (\w+) (\d+) (\S+) GMT$/)!;
    assert.equal(lines[27], `\t\tpanic-time = ${wd} ${mon} ${day.replace(/^0/, '').padStart(2, ' ')} ${time} ${year} UTC`);
  });

  it('fmdump: an unknown uuid prints nothing and exits 0; an unknown option prints getopt\'s line and the synopsis, exit 2; one the lab does not answer, the synopsis too', () => {
    const none = lab('fmdump', '-Vp', '-u', '00000000-0000-4000-8000-000000000000');
    assert.deepEqual([none.status, none.stdout, none.stderr], [0, '', '']);
    const bad = lab('fmdump', '-x');
    assert.deepEqual([bad.status, bad.stdout], [2, '']);
    assert.match(bad.stderr, /^fmdump: illegal option -- x\nUsage: fmdump \[\[-e \| -i \| -I\] \| -A \] \[-f\] \[-mvVp\] \[-c class\] \[-R root\]\n/);
    assert.match(bad.stderr, /\t-n {2}select events containing named nvpair \(with matching value\)\n$/);
    for (const args of [['-v'], ['-V', '-u', uuid], ['-e'], ['-u', uuid], ['/var/fm/fmd/fltlog'], ['-c']]) {
      const r = lab('fmdump', ...args);
      assert.deepEqual([r.status, r.stdout], [2, ''], args.join(' '));
      assert.match(r.stderr, /Usage: fmdump /, args.join(' '));
    }
  });

  it('dumpadm prints dconf_print()\'s five lines, savecore disabled, the lab\'s savecore directory; an argument exits 2', () => {
    const r = lab('dumpadm');
    assert.deepEqual([r.status, r.stderr], [0, '']);
    assert.equal(r.stdout, [
      '      Dump content: kernel pages',
      '       Dump device: /dev/zvol/dsk/rpool/dump (dedicated)',
      `Savecore directory: ${run}/crash`,
      '  Savecore enabled: no',
      '   Save compressed: on',
      '',
    ].join('\n'));
    const n = lab('dumpadm', '-n');
    assert.deepEqual([n.status, n.stdout, n.stderr], [2, '', 'dumpadm: the lab\'s dumpadm only prints its configuration\n']);
  });

  it('lab-panic refuses anything but wrlock or reboot', () => {
    for (const args of [[], ['oops'], ['wrlock', 'x']]) {
      const r = lab('lab-panic', ...args);
      assert.deepEqual([r.status, r.stderr], [2, 'usage: lab-panic wrlock|reboot\n'], args.join(' '));
    }
  });
});

describe('lab-hang', () => {
  it('lab-hang 1: the host is down while it runs, up after, with the same boot id', async () => {
    const before = bootId();
    const hang = spawn(join(LAB, 'bin', 'lab-hang'), ['1'], { env, stdio: 'ignore' });
    const exited = new Promise<number | null>((res) => hang.on('exit', (code) => res(code)));
    await until('the host to go down', down, 5000);
    assert.equal(await exited, 0);
    assert.equal(down(), false, 'up again');
    assert.equal(bootId(), before, 'no reset: the same boot');
    assert.equal(lab('lab-hang', '0').status, 2);
  });
});

describe('a vm\'s faults start them, detached, after the request that fired them returns', () => {
  // A vm as its bhyve sees it, its monitor a stand-in that answers every command; the host tools
  // start from this process's environment, as from bhyve's.
  function vm(faults: string) {
    const state = readState(join(root, 'no-vm'), 'bsm-crash');
    const lines: string[] = [];
    const qmp = { execute: async () => ({}) } as unknown as Parameters<typeof controlOps>[0]['qmp'];
    const handle = { qmp, faults: parseFaults(faults), state, save: () => {}, qemuPid: 0, requestExit: () => {}, log: (l: string) => lines.push(l) };
    return { handle, ops: controlOps(handle), lines };
  }
  const saved = { ...process.env };
  before(() => Object.assign(process.env, { BHYVE_LAB_RUNDIR: run, BHYVE_LAB_REBOOT_SECONDS: '0', PATH: env.PATH }));
  after(() => {
    for (const k of ['BHYVE_LAB_RUNDIR', 'BHYVE_LAB_REBOOT_SECONDS', 'PATH']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it('panic-at-wrlock=2: the second write-lock cycle returns 0, then the host panics (wrlock), once', async () => {
    const n = panics().length;
    const before = bootId();
    const { ops, lines } = vm('panic-at-wrlock=2');
    assert.equal(await ops['wrlock-cycle'](), 0);
    await sleep(300);
    assert.equal(bootId(), before, 'the first cycle does nothing');
    assert.equal(await ops['wrlock-cycle'](), 0, 'the cycle that panics returns first');
    await until('the panic to run its course', panicDone(n + 1));
    assert.notEqual(bootId(), before);
    assert.equal(panics()[n].panicstr, 'bad pending MMIO state');
    assert.equal(await ops['wrlock-cycle'](), 0);
    await sleep(300);
    assert.equal(panics().length, n + 1, 'once');
    assert.deepEqual(lines, ['fault panic-at-wrlock: write-lock cycle 2 panics the lab host']);
  });

  it('host-hang=1@1: the first cycle returns 0, then the host stops answering for a second, same boot id, once', async () => {
    const before = bootId();
    const { ops } = vm('host-hang=1@1');
    assert.equal(await ops['wrlock-cycle'](), 0);
    await until('the host to go down', down, 5000);
    await until('the host to answer again', () => !down(), 5000);
    assert.equal(bootId(), before);
    assert.equal(await ops['wrlock-cycle'](), 0);
    await sleep(300);
    assert.equal(down(), false, 'once');
  });

  it('panic-on-reboot: the console\'s "reboot: Restarting system" marks the vm rebooting and panics the host with illumos bug 14281\'s stack, once', async () => {
    const n = panics().length;
    const before = bootId();
    const { handle, lines } = vm('panic-on-reboot');
    const onConsole = consoleHandler({ ...handle, quit: () => {} });
    onConsole.onText('[   12.3] reboot: Restarting system\r\n');
    assert.equal(handle.state.phase, 'rebooting');
    onConsole.onText('reboot: Restarting system\r\n');
    await until('the panic to run its course', panicDone(n + 1));
    await sleep(300);
    assert.equal(panics().length, n + 1, 'once');
    assert.notEqual(bootId(), before);
    const p = panics()[n];
    assert.deepEqual([p.panicstr, p.panicstack], ['BAD TRAP: type=e (#pf Page fault) rp=fffffe007ae3d910 addr=fffffe8bf48b83d0', REBOOT_STACK]);
    assert.deepEqual(lines, ['fault panic-on-reboot: the guest\'s reboot panics the lab host']);
    const listed = lab('fmdump').stdout.split('\n').filter(Boolean).slice(1).map((l) => l.split(/ +/)[3]);
    assert.deepEqual(listed, panics().map((r) => r.uuid), 'fmdump lists every panic, oldest first');
  });

  it('never reached this machine\'s reboot, shutdown, halt, poweroff, init or systemctl', () => {
    assert.equal(existsSync(called), false, existsSync(called) ? readFileSync(called, 'utf8') : '');
  });
});
