// A host's crash as its platform records it, read from real output
// (fixtures/transcripts/crash): FMA's panic defect on illumos (fmdump -Vp),
// savecore's info.N and kgdb's backtrace on FreeBSD; mdb run on a saved
// dump, compressed or not; and the rates a side's exposure bounds.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { mdbOnDump, parseFmdumpCases, parseFmdumpPanic } from '../../harness/platform/illumos-crash.ts';
import { parseCrashFolder, parseFreebsdCrash } from '../../harness/platform/freebsd-crash.ts';
import { UnexpectedOutput } from '../../harness/platform/host-output.ts';
import { crashLine } from '../../harness/host-life/crash.ts';
import { binomialUpper, describeExposure, poissonUpper } from '../../harness/verdict/exposure.ts';

const transcript = (name: string) => readFileSync(new URL(`../../fixtures/transcripts/crash/${name}`, import.meta.url), 'utf8');
const root = mkdtempSync(join(tmpdir(), 'bsm-crash-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('an illumos panic, as FMA records it', () => {
  it('reads the panic string, the stack and the saved dump of a real `fmdump -Vp -u` record (4-space nesting, cut in the stack)', () => {
    const r = parseFmdumpPanic(transcript('fmdump-Vp-u-illumos-kvm-13.txt'));
    assert.equal(r.panic, 'BAD TRAP: type=e (#pf Page fault) rp=ffffff003d46c750 addr=4 occurred in module "apix" due to a NULL pointer dereference');
    assert.deepEqual(r.stack, ['unix:die+dd', 'unix:trap+17db', 'unix:cmntrap+e6', 'apix:']);
    assert.equal(r.frame, undefined, 'no vmm or viona frame in an apix panic');
    assert.deepEqual(r.dump, { dir: '/var/crash/11', files: ['vmdump.14'] });
    assert.equal(crashLine(r), 'panic: BAD TRAP: type=e (#pf Page fault) rp=ffffff003d46c750 addr=4 occurred in module "apix" due to a NULL pointer dereference — no vmm or viona frame in its stack (top: unix:die+dd)');
  });

  it('reads OmniOS\'s 8-space nesting, and savecore off (savecore-succcess = 0) as no dump, saying why', () => {
    assert.deepEqual(parseFmdumpPanic(transcript('fmdump-Vp-u-omnios-1613.txt')).dump, { dir: '/var/crash/', files: ['vmdump.1'] });
    const off = parseFmdumpPanic(transcript('fmdump-Vp-u-exfat-159.txt'));
    assert.match('none' in off.dump ? off.dump.none : '', /^savecore saved no dump \(savecore-succcess = 0/);
  });

  it('names the first vmm frame of a bhyve panic\'s stack (illumos #13253\'s, in savecore\'s `module:func+off () | ` form)', () => {
    const console = transcript('panic-console-illumos-13253.txt').split('\n');
    const panicstack = console.slice(2).filter(Boolean).map((l) => `${l.split(' ')[1]} () | `).join('');
    const record = transcript('fmdump-Vp-u-exfat-159.txt').replace(/\n$/, `\n                panicstr = ${console[0]}\n                panicstack = ${panicstack}\n                crashtime = 1599905030\n        (end fault-list[0])\n`);
    const r = parseFmdumpPanic(record);
    assert.equal(r.frame, 'vmm:vmm_zsd_key+37dddca1');
    assert.equal(r.stack.length, 10);
    assert.equal(r.crashTime, '2020-09-12T10:03:50.000Z');
    assert.equal(crashLine(r), 'panic: bad pending MMIO state — in vmm:vmm_zsd_key+37dddca1');
  });

  it('refuses a record it cannot read, quoting it: no header, or no panic defect', () => {
    assert.throws(() => parseFmdumpPanic('fmdump: failed to open /var/fm/fmd/fltlog: No such file or directory\n'), (e) => e instanceof UnexpectedOutput && /no record header/.test(e.message));
    assert.throws(() => parseFmdumpPanic(transcript('fmdump-Vp-u-exfat-159.txt').replace('defect.sunos.kernel.panic', 'fault.cpu.intel.l2cache')), /no defect\.sunos\.kernel\.panic/);
  });

  it('lists the cases of `fmdump -c` (fault.c\'s `%-20s %-32s %s` rows), with or without its header, and nothing else', () => {
    const rows = ['TIME                 UUID                                 SUNW-MSG-ID EVENT',
      'May 16 18:27:32.5537 0df0c568-5003-42db-b95b-395698d77f02 SUNOS-8000-KL Diagnosed',
      'May 30 2014 14:46:39 9ff35fb5-4f15-6249-c4d8-adefef86aa23 SUNOS-8000-KL Diagnosed'].join('\n');
    assert.deepEqual(parseFmdumpCases(rows), ['0df0c568-5003-42db-b95b-395698d77f02', '9ff35fb5-4f15-6249-c4d8-adefef86aa23']);
    assert.deepEqual(parseFmdumpCases(''), []);
    assert.throws(() => parseFmdumpCases('fmdump: /var/fm/fmd/fltlog is empty\n'), UnexpectedOutput);
  });
});

describe('mdb on a saved dump', () => {
  const fake = (dir: string) => {
    mkdirSync(dir, { recursive: true });
    const mdb = join(dir, 'mdb');
    writeFileSync(mdb, '#!/bin/sh\necho "mdb $*"\n');
    const savecore = join(dir, 'savecore');
    // savecore -f DUMP DIR: writes unix.N and vmcore.N into DIR (savecore.c), here empty stand-ins.
    writeFileSync(savecore, '#!/bin/sh\nn=${2##*.}; : >"$3/unix.$n"; : >"$3/vmcore.$n"; echo "savecore $*"\n');
    for (const f of [mdb, savecore]) chmodSync(f, 0o755);
    return { mdb, savecore };
  };

  it('reads an uncompressed dump in place: ::status, ::msgbuf, $C, ::stacks of vmm and viona', () => {
    const dir = join(root, 'plain');
    const tools = fake(join(dir, 'bin'));
    const out = execFileSync('/bin/sh', ['-c', mdbOnDump(dir, ['unix.3', 'vmcore.3'], tools)!], { encoding: 'utf8', env: { ...process.env } });
    // vmcore.3 does not exist here, so it would expand a vmdump: make it exist and run again.
    writeFileSync(join(dir, 'vmcore.3'), '');
    const again = execFileSync('/bin/sh', ['-c', mdbOnDump(dir, ['unix.3', 'vmcore.3'], tools)!], { encoding: 'utf8' });
    assert.equal(again, ['::status', '::msgbuf', '$C', '::stacks -m vmm', '::stacks -m viona'].map((q) => `> ${q}\nmdb -e ${q} ${dir}/unix.3 ${dir}/vmcore.3\n`).join(''));
    assert.match(out, /savecore -f/, 'without vmcore.3 it expands vmdump.3');
  });

  it('expands a compressed dump (vmdump.N) into a folder of its own with savecore -f, reads it there and removes it', () => {
    const dir = join(root, 'compressed');
    const tools = fake(join(dir, 'bin'));
    const before = readdirSync('/var/tmp').filter((f) => f.startsWith('bhyve-smoke-dump.'));
    const out = execFileSync('/bin/sh', ['-c', mdbOnDump(dir, ['vmdump.7'], tools)!], { encoding: 'utf8' });
    const tmp = /^savecore -f \S+\/vmdump\.7 (\S+)$/m.exec(out)?.[1];
    assert.ok(tmp?.startsWith('/var/tmp/bhyve-smoke-dump.'), out);
    assert.match(out, new RegExp(`^mdb -e ::status ${tmp}/unix\\.7 ${tmp}/vmcore\\.7$`, 'm'));
    assert.equal(existsSync(tmp!), false, 'the expanded dump is removed');
    assert.deepEqual(readdirSync('/var/tmp').filter((f) => f.startsWith('bhyve-smoke-dump.')), before);
    assert.equal(mdbOnDump(dir, ['METRICS.csv'], tools), undefined, 'no dump number, no mdb');
  });
});

describe('a FreeBSD panic, as savecore and crashinfo record it', () => {
  it('reads info.N (labels with or without their indent) and the backtrace of core.txt.N', () => {
    const r = parseFreebsdCrash(transcript('info.0-freebsd14.txt'), transcript('kgdb-unread-msgbuf-freebsd.txt'), 'bounds\ncore.txt.0\ninfo.0\ninfo.last\nminfree\nvmcore.0\nvmcore.last\n', '0');
    assert.equal(r.panic, 'Duplicate free of 0xfffff80339ef3000 from zone 0xfffffe001ec2ea00(malloc-2048) slab 0xfffff80325789168(0)');
    assert.equal(r.crashTime, '2023-05-17 14:07:58 +0100');
    assert.deepEqual(r.stack, ['db_trace_self_wrapper+0x2b', 'vpanic+0x132', 'panic+0x43', 'tcp_discardcb+0x25b']);
    assert.equal(r.frame, undefined);
    assert.deepEqual(r.dump, { dir: '/var/crash', files: ['vmcore.0'] });
    const indented = transcript('info.0-freebsd14.txt').replace(/^(?!Dump header)(?!tj@)/gm, '  ');
    assert.equal(parseFreebsdCrash(indented, '', '', '0').panic, r.panic);
  });

  it('names a vmm frame of the backtrace, not the VM system\'s, and lists info.N records only', () => {
    const bt = '#0  0xffffffff80b5e5a4 in vm_fault (map=0x0) at /usr/src/sys/vm/vm_fault.c:1500\n#1  0xffffffff82a1b2c3 in vm_handle_rendezvous (vcpu=0xfffff8000) at /usr/src/sys/amd64/vmm/vmm.c:1402\n';
    assert.equal(parseFreebsdCrash(transcript('info.0-freebsd14.txt'), bt, '', '0').frame, 'vm_handle_rendezvous');
    assert.deepEqual(parseCrashFolder('bounds\ninfo.10\ninfo.2\ninfo.last\nvmcore.2\n'), ['2', '10']);
    assert.throws(() => parseFreebsdCrash('ls: /var/crash/info.3: No such file or directory\n', '', '', '3'), /Dump header from device/);
  });
});

describe('the rates a side\'s exposure bounds', () => {
  it('are exact 95% upper bounds: Clopper–Pearson for events in trials, Poisson over an exposure', () => {
    assert.ok(Math.abs(binomialUpper(0, 4000) - 0.000749) < 1e-6, 'no hang in 4,000 reboots: < 0.075%');
    assert.ok(Math.abs(binomialUpper(1, 10) - 0.3942) < 1e-3);
    assert.ok(Math.abs(poissonUpper(0) - 2.996) < 1e-3);
    assert.ok(Math.abs(poissonUpper(3) - 7.754) < 1e-3);
    assert.equal(describeExposure({ tests: 36, wrlockCycles: 12345, guestReboots: 4000, vmSeconds: 1800, hangs: 0, hostDeaths: 1 }),
      '36 tests, 12,345 write-lock cycles, 4,000 guest reboots, 0.50 vm-hours; hangs 0 (0 in 4,000 reboots: < 0.075%; < 243 per million write-lock cycles at 95%); host deaths 1 (< 9.5 per vm-hour at 95%)');
  });
});
