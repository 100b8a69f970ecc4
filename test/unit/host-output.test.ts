// Every parser of host output reads the shape it expects and nothing else:
// real output (a transcript, or the lab's and our own scripts' output made
// here) parses; output in another shape — a changed column count, an extra
// header, a message in another language — is an infrastructure error naming
// the command, the shape, and quoting what the host printed.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { UnexpectedOutput } from '../../harness/platform/host-output.ts';
import { parseZoneList } from '../../harness/platform/zone-watch.ts';
import { parseVmadmList, smartosPlatform } from '../../harness/platform/smartos.ts';
import { parseBhyveZones } from '../../harness/platform/omnios.ts';
import { DEV_VMM_LISTING, namesListing } from '../../harness/platform/teardown.ts';
import { shQuote } from '../../harness/transport/quote.ts';
import { tapLinks, vnicLinks } from '../../harness/platform/links.ts';
import { kstatProgress, statsProgress } from '../../harness/platform/vcpu-stats.ts';
import { parseExits, SUPERVISOR_SH } from '../../harness/platform/supervisor.ts';
import { parseFingerprint } from '../../harness/platform/fingerprint.ts';
import { parseFindstack, parseGdbThreads, parseProcstatKk } from '../../harness/platform/stacks.ts';
import { HAMMER_SH, readHammerLine } from '../../harness/disturbance/wrlock-hammer.ts';
import { LAB_BIN } from '../helpers/lab.ts';
import { illumosGetStats } from '../helpers/get-stats-transcript.ts';
import { bhyveDevices, bhyvectlUsage, judgeCapabilities, parseBhyvectlUsage, parseDeviceList } from '../../harness/platform/capabilities.ts';
import { ILLUMOS_ERRNO, wrlockCycleFailure } from '../../harness/platform/bhyvectl.ts';
import { labPlatform } from '../../harness/platform/lab.ts';
import { freebsdPlatform } from '../../harness/platform/freebsd.ts';
import { illumosPlatform } from '../../harness/platform/illumos.ts';

const fixture = (path: string) => readFileSync(join(import.meta.dirname, '../../fixtures', path), 'utf8');
const root = mkdtempSync(join(tmpdir(), 'bsm-shape-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Runs `script` under /bin/sh with stand-in tools on PATH. */
function sh(script: string, tools: Record<string, string> = {}, args: string[] = []): string {
  const bin = mkdtempSync(join(root, 'bin-'));
  for (const [tool, body] of Object.entries(tools)) {
    writeFileSync(join(bin, tool), `#!/bin/sh\n${body}`);
    chmodSync(join(bin, tool), 0o755);
  }
  return execFileSync('/bin/sh', ['-c', script, 'sh', ...args], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8' });
}

/** The parser refuses `output` with an error naming `command` and quoting `quoted` (a line of what the host printed). */
function refuses(parse: () => unknown, command: RegExp, quoted: string): void {
  assert.throws(parse, (e: unknown) => {
    assert.ok(e instanceof UnexpectedOutput, `an UnexpectedOutput, got ${e}`);
    assert.match(e.message, command, 'names the command');
    assert.match(e.message, /expected /, 'says what it expected');
    assert.ok(e.message.includes(`| ${quoted}`), `quotes ${JSON.stringify(quoted)} in:\n${e.message}`);
    return true;
  });
}

describe('zone listings (zoneadm list -cp)', () => {
  it('reads OmniOS and SmartOS zones as zoneadm.c zone_print() prints them (8 fields, the debug id possibly empty)', () => {
    assert.deepEqual(parseZoneList(fixture('transcripts/zones/zoneadm-list-cp-omnios.txt')).map((z) => [z.name, z.state, z.brand, z.debugId]), [
      ['global', 'running', 'ipkg', 0], ['cube-media', 'running', 'lipkg', 128], ['cube-ws', 'installed', 'pkgsrc', 179],
    ]);
    assert.deepEqual(parseZoneList(fixture('transcripts/zones/zoneadm-list-cp-smartos.txt')).map((z) => z.debugId), [undefined, 21, 22]);
    assert.deepEqual(parseBhyveZones(fixture('transcripts/zones/zoneadm-list-cp-omnios.txt')), []);
  });

  it('refuses a changed column count, the human-readable header, and a localized message', () => {
    refuses(() => parseZoneList('0:global:running:/:ipkg:shared\n'), /zoneadm list -cp/, '0:global:running:/:ipkg:shared');
    refuses(() => parseZoneList('  ID NAME             STATUS     PATH                           BRAND    IP\n   0 global           running    /                              ipkg     shared\n'), /zoneadm list -cp/, '  ID NAME             STATUS     PATH                           BRAND    IP');
    refuses(() => parseZoneList('zoneadm: Zone konnte nicht gefunden werden\n', 'zoneadm -z x list -p'), /zoneadm -z x list -p/, 'zoneadm: Zone konnte nicht gefunden werden');
  });
});

describe('vm listings', () => {
  it('vmadm list -p -o uuid,alias: UUID:ALIAS lines (vmadm.8.md; no published output, the uuids are real zones\')', () => {
    // The SmartOS transcript's zones, as vmadm would list them with and without an alias.
    const uuids = parseZoneList(fixture('transcripts/zones/zoneadm-list-cp-smartos.txt')).slice(1).map((z) => z.name);
    assert.deepEqual(parseVmadmList(`${uuids[0]}:bsm-ab12cd34-1\n${uuids[1]}:\n`), [{ id: uuids[0], name: 'bsm-ab12cd34-1' }]);
    assert.deepEqual(smartosPlatform().listVms.parse(''), [], 'no vm at all is an empty listing');
  });

  it('vmadm: refuses the table without -p and a changed column count', () => {
    refuses(() => parseVmadmList('UUID                                  TYPE  RAM      STATE             ALIAS\n'), /vmadm list -p -o uuid,alias/, 'UUID                                  TYPE  RAM      STATE             ALIAS');
    refuses(() => parseVmadmList('dc5cbce7-798a-4bc8-bdc5-61b4be00a22e\n'), /vmadm list/, 'dc5cbce7-798a-4bc8-bdc5-61b4be00a22e');
  });

  it('/dev/vmm: one vm a line; refuses `ls -l` and a localized error on stdout', () => {
    assert.deepEqual(DEV_VMM_LISTING.parse('bsm-ab12cd34-1\nother\n'), [{ name: 'bsm-ab12cd34-1', id: 'bsm-ab12cd34-1' }, { name: 'other', id: 'other' }]);
    refuses(() => DEV_VMM_LISTING.parse('total 0\ncrw------- 1 root sys 301, 1 Nov 29 10:00 bsm-ab12cd34-1\n'), /ls \/dev\/vmm/, 'total 0');
    refuses(() => DEV_VMM_LISTING.parse("ls: Zugriff auf '/dev/vmm' nicht möglich\n"), /ls \/dev\/vmm/, "ls: Zugriff auf '/dev/vmm' nicht möglich");
  });
});

describe('link listings', () => {
  const env = { ...process.env, BHYVE_LAB_RUNDIR: join(root, 'lab') };
  const dladm = (...args: string[]) => execFileSync(join(LAB_BIN, 'dladm'), args, { env, encoding: 'utf8' });
  const links = vnicLinks(join(LAB_BIN, 'dladm'), { what: '', command: '' });

  it('dladm show-vnic -p -o link,over (the lab answers as libofmt prints); refuses the table and a third column', () => {
    dladm('create-vnic', '-t', '-l', 'user0', 'bsm_ab12cd34_1');
    assert.deepEqual(links.list.parse(dladm('show-vnic', '-p', '-o', 'link,over')), [{ link: 'bsm_ab12cd34_1', vm: 'bsm-ab12cd34-1' }]);
    const table = fixture('transcripts/vmm/dladm-show-vnic-omnios.txt');
    refuses(() => links.list.parse(table), /show-vnic -p -o link,over/, table.split('\n')[0].trimEnd());
    refuses(() => links.list.parse('bsm_ab12cd34_1:user0:2:8:0:20:a4:1b\n'), /show-vnic/, 'bsm_ab12cd34_1:user0:2:8:0:20:a4:1b');
  });

  it("FreeBSD taps: the listing loop's `tapN DESCRIPTION` lines, read through a stand-in ifconfig; refuses an error line", () => {
    const ifconfig = 'case "$1 $2" in "-g tap") echo "tap0 tap1" ;; "tap0 ") printf "tap0: flags=8902<BROADCAST>\\n\\tdescription: bsm-ab12cd34-1\\n" ;; *) echo "$1: flags=0" ;; esac\n';
    const out = sh(tapLinks.list.command, { ifconfig });
    assert.deepEqual(tapLinks.list.parse(out), [{ link: 'tap0', vm: 'bsm-ab12cd34-1' }]);
    refuses(() => tapLinks.list.parse('ifconfig: interface group tap does not exist\n'), /ifconfig -g tap/, 'ifconfig: interface group tap does not exist');
  });

  it('a listing that fails fails, never an empty list: only a /dev/vmm that is not there (no vm ever made) or no tap group means none', () => {
    const vmm = join(root, 'vmm');
    mkdirSync(vmm, { recursive: true });
    assert.throws(() => sh(namesListing(shQuote(vmm)).command, { ls: 'echo "ls: cannot open directory $1: Permission denied" >&2; exit 2\n' }), /Permission denied/);
    assert.equal(sh(namesListing(shQuote(join(root, 'no-such-folder'))).command), '');
    assert.equal(DEV_VMM_LISTING.command, 'if [ -e /dev/vmm ]; then ls /dev/vmm; fi');
    // ifconfig -g of a group that does not exist exits 0 quietly (ifgroup.c printgroup()); any other failure is the listing's.
    assert.equal(sh(tapLinks.list.command, { ifconfig: 'exit 0\n' }), '');
    assert.throws(() => sh(tapLinks.list.command, { ifconfig: 'echo "ifconfig: SIOCGIFGMEMB: Operation not permitted" >&2; exit 1\n' }), /Operation not permitted/);
    // A tap listed but unreadable fails the listing; one destroyed between the two reads is skipped.
    const unreadable = 'case "$1" in -g) echo tap0 ;; *) echo "ifconfig: $1: Device busy" >&2; exit 1 ;; esac\n';
    assert.throws(() => sh(tapLinks.list.command, { ifconfig: unreadable }), /tap0: Device busy/);
    const gone = join(root, 'taps-read');
    const destroyedMeanwhile = `case "$1" in -g) if [ -e ${gone} ]; then echo tap0; else touch ${gone}; echo "tap0 tap1"; fi ;; tap0) printf "tap0: flags=0\\n\\tdescription: bsm-ab12cd34-1\\n" ;; *) echo "ifconfig: interface $1 does not exist" >&2; exit 1 ;; esac\n`;
    assert.deepEqual(tapLinks.list.parse(sh(tapLinks.list.command, { ifconfig: destroyedMeanwhile })), [{ link: 'tap0', vm: 'bsm-ab12cd34-1' }]);
  });
});

describe('vCPU counters', () => {
  const stats = illumosGetStats();
  const recipe = statsProgress('bhyvectl', 'total number of vm exits');

  it('bhyvectl --get-stats: refuses a renamed stat, an extra header, a failed call and a localized vm_open message; a vm that cannot be opened is absent', () => {
    const file = join(root, 'stats.txt');
    writeFileSync(file, stats);
    assert.deepEqual(recipe.parse(sh(recipe.command('vm1', 1), { bhyvectl: `cat ${file}\n` }), 'vm1', 1), { counters: new Map([[0, 12969]]) });
    const sample = (body: string, status = 0) => `R 0\n${body}\nX 0 ${status}\n`;
    refuses(() => recipe.parse(sample(stats.replace('total number of vm exits', 'vm exits, total')), 'vm1', 1), /bhyvectl --vm=vm1 --cpu=0 --get-stats/, 'vcpu1 stats:');
    refuses(() => recipe.parse(sample(`bhyvectl 2.0 statistics\n${stats}`), 'vm1', 1), /--get-stats/, 'bhyvectl 2.0 statistics');
    refuses(() => recipe.parse(sample('errno = 16', 255), 'vm1', 1), /--get-stats/, 'errno = 16');
    refuses(() => recipe.parse(sample('vm_open: vm1 konnte nicht geöffnet werden', 1), 'vm1', 1), /--get-stats/, 'vm_open: vm1 konnte nicht geöffnet werden');
    assert.deepEqual(recipe.parse(sample('vm_open: vm1 could not be opened: No such file or directory', 1), 'vm1', 1), { absent: 'vm1 could not be opened' });
    // A read that printed nothing (VM_STATS failing is silent, exit 0) is not a zero.
    assert.throws(() => recipe.parse(sample(''), 'vm1', 1), /--get-stats[\s\S]*no `total number of vm exits` line[\s\S]*\(no output\)/);
  });

  it('vmm kstats: refuses the kstat table without -p and a changed field count', () => {
    const ok = 'dev\nvmm:3:vm:vm_name\tbsm-x-1\nvmm:3:vcpu0:time_run\t10\nvmm:3:vcpu0:time_idle\t5\n';
    assert.deepEqual(kstatProgress.parse(ok, 'bsm-x-1', 1), { counters: new Map([[0, 15]]) });
    refuses(() => kstatProgress.parse('dev\nmodule: vmm                             instance: 3\nname:   vm                              class:    misc\n', 'bsm-x-1', 1), /kstat -p vmm/, 'module: vmm                             instance: 3');
    refuses(() => kstatProgress.parse(`${ok}vmm:3:vcpu0:time_run:ns\t10\n`, 'bsm-x-1', 1), /kstat -p vmm/, 'vmm:3:vcpu0:time_run:ns\t10');
    // The vm's instance found, but no times for any of its vCPUs: fields renamed, not a vCPU standing still.
    refuses(() => kstatProgress.parse('dev\nvmm:3:vm:vm_name\tbsm-x-1\n', 'bsm-x-1', 1), /kstat -p vmm/, 'vmm:3:vm:vm_name\tbsm-x-1');
    refuses(() => kstatProgress.parse('vmm:3:vm:vm_name\tbsm-x-1\n', 'bsm-x-1', 1), /kstat -p vmm/, 'vmm:3:vm:vm_name\tbsm-x-1');
  });
});

describe("the harness's own host scripts", () => {
  it("the supervisor's exit log: its real lines parse; a partial last line waits; a localized date is refused", () => {
    const dir = mkdtempSync(join(root, 'vm-'));
    writeFileSync(join(dir, 'supervise.sh'), SUPERVISOR_SH);
    sh(`sh ${dir}/supervise.sh ${dir} sh -c 'exit 3'`);
    const log = readFileSync(join(dir, 'exits'), 'utf8');
    assert.deepEqual(parseExits(log).map((e) => e.status), [3]);
    assert.deepEqual(parseExits(`${log}2026-11-29T20:0`).map((e) => e.status), [3]);
    refuses(() => parseExits('So 29. Nov 20:00:00 UTC 2026 0\n', `${dir}/exits`), /cat .*\/exits/, 'So 29. Nov 20:00:00 UTC 2026 0');
  });

  it("the fingerprint: the lab's recording parses; an error line or an empty value is refused", () => {
    const lab = fixture('transcripts/hosts/lab/fingerprint.txt');
    assert.equal(parseFingerprint(lab).cpus, '2');
    refuses(() => parseFingerprint(`psrinfo: Befehl nicht gefunden\n${lab}`), /fingerprint recipe/, 'psrinfo: Befehl nicht gefunden');
    refuses(() => parseFingerprint(lab.replace(/^memory=.*$/m, 'memory=')), /fingerprint recipe.*nothing for memory/s, 'memory=');
  });

  it('the hammer loop: every line it prints is read; any other line is refused, quoting the loop\'s last lines', () => {
    // Each cycle's `P` line names the bhyvectl that made it (the kernel's timing is joined by it): its own pid, not a subshell's.
    const pids = join(mkdtempSync(join(root, 'pids-')), 'pids');
    const out = sh(`sh -c "$1" hammer bhyvectl vm1 0 3 steady 0 0 1`, { bhyvectl: `case "$2" in --wrlock-cycle) echo $$ >>${pids};; esac; exit 0\n` }, [HAMMER_SH]);
    const lines = out.trim().split('\n');
    const read = lines.map((l, i) => readHammerLine(l, lines.slice(0, i + 1), 'vm1'));
    assert.deepEqual(read.map((l) => l.kind), [...Array(10).fill(0).map((_, i) => (i % 2 ? 'CE' : 'C')), 'S', 'P', 'E', 'S', 'P', 'E', 'S', 'P', 'E', 'DONE']);
    assert.deepEqual(read.flatMap((l) => (l.kind === 'P' ? [`${l.n} ${l.pid}`] : [])), readFileSync(pids, 'utf8').trim().split('\n').map((pid, i) => `${i + 1} ${pid}`));
    refuses(() => readHammerLine('sh: 1: bhyvectl: Permission denied', ['S 1', 'sh: 1: bhyvectl: Permission denied'], 'vm1'), /hammer loop on vm1/, 'sh: 1: bhyvectl: Permission denied');
    refuses(() => readHammerLine('E 1 ', ['S 1', 'E 1 '], 'vm1'), /hammer loop/, 'S 1');
  });

  it('the hammer loop keeps what bhyvectl printed: a vm that cannot be opened (exit 1) is named, not EPERM', () => {
    // bhyvectl.c main(): vm_open failed, the message on stderr, exit 1; the cycle itself prints nothing and exits with the errno.
    const out = sh(`sh -c "$1" hammer bhyvectl vm1 0 2 steady 0 0 1`, { bhyvectl: 'case "$2" in --wrlock-cycle) echo "vm_open: vm1 could not be opened: No such file or directory" >&2; exit 1;; esac\n' }, [HAMMER_SH]);
    const lines = out.trim().split('\n');
    const read = lines.map((l, i) => readHammerLine(l, lines.slice(0, i + 1), 'vm1')).filter((l) => l.kind === 'O' || l.kind === 'E');
    assert.deepEqual(read, [
      { kind: 'O', n: 1, text: 'vm_open: vm1 could not be opened: No such file or directory' }, { kind: 'E', n: 1, rc: 1 },
      { kind: 'O', n: 2, text: 'vm_open: vm1 could not be opened: No such file or directory' }, { kind: 'E', n: 2, rc: 1 },
    ]);
    assert.equal(wrlockCycleFailure(1, 'vm_open: vm1 could not be opened: No such file or directory', ILLUMOS_ERRNO), 'the vm could not be opened (vm_open: vm1 could not be opened: No such file or directory)');
    assert.equal(wrlockCycleFailure(1, 'VM:vm1 is not created.', ILLUMOS_ERRNO), 'the vm could not be opened (VM:vm1 is not created.)');
    assert.equal(wrlockCycleFailure(1, '', ILLUMOS_ERRNO), 'errno 1 (EPERM)', 'an exit 1 with nothing printed is the ioctl\'s EPERM');
    assert.equal(wrlockCycleFailure(6, '', ILLUMOS_ERRNO), 'errno 6 (ENXIO)');
  });
});

describe('thread stacks', () => {
  it('mdb ::findstack -v and procstat -kk transcripts parse; an mdb error and procstat without its header are refused', () => {
    assert.equal(parseFindstack(fixture('transcripts/vmm/mdb-findstack-illumos-14026.txt')).length, 2);
    assert.equal(parseProcstatKk(fixture('transcripts/vmm/procstat-kk-freebsd15.txt')).length, 2);
    refuses(() => parseFindstack('mdb: failed to initialize target: No such file or directory\n'), /findstack/, 'mdb: failed to initialize target: No such file or directory');
    const noHeader = fixture('transcripts/vmm/procstat-kk-freebsd15.txt').split('\n').slice(1).join('\n');
    refuses(() => parseProcstatKk(noHeader), /procstat -kk/, noHeader.split('\n')[0].trimEnd().slice(0, 60));
  });

  it("the lab's pstack (gdb) of a real process parses; gdb's refusal to attach is refused", async () => {
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const out = execFileSync(join(LAB_BIN, 'pstack'), [String(sleeper.pid)], { encoding: 'utf8' });
      assert.ok(parseGdbThreads(out).length >= 1, out);
    } finally {
      sleeper.kill();
    }
    refuses(() => parseGdbThreads('Could not attach to process.  If your uid matches the uid of the target\n'), /pstack/, 'Could not attach to process.  If your uid matches the uid of the target');
  });
});

describe('capability probes', () => {
  const lab = labPlatform(join(LAB_BIN, '..'));
  const usage = execFileSync('/bin/sh', ['-c', bhyvectlUsage(lab)], { encoding: 'utf8' });
  const devices = execFileSync('/bin/sh', ['-c', bhyveDevices(lab)], { encoding: 'utf8' });
  const links = { ok: true, detail: 'a VNIC per vm' };

  it("read from the lab's bhyvectl usage text and bhyve -s help, both builds of bhyvectl", () => {
    const trace = execFileSync('/bin/sh', ['-c', lab.wrlockTrace!.probe.command], { encoding: 'utf8', env: { ...process.env, BHYVE_LAB_RUNDIR: mkdtempSync(join(root, 'lab-')) } });
    const caps = judgeCapabilities(lab, { usage, devices, trace }, links);
    assert.deepEqual(Object.fromEntries(Object.entries(caps).map(([c, f]) => [c, f.present])), { wrlock: true, 'wrlock-trace': true, 'vcpu-stats': true, framebuffer: true, links: true });
    assert.match(caps['wrlock-trace'].detail, /^in the lab's vmm: its bhyvectl's own clock/);
    const without = labPlatform(join(LAB_BIN, '..'), undefined, false);
    const old = judgeCapabilities(without, { usage: execFileSync('/bin/sh', ['-c', bhyvectlUsage(without)], { encoding: 'utf8' }), devices }, links);
    assert.deepEqual(old.wrlock, { present: false, detail: `${without.bhyvectl}'s usage lists no --wrlock-cycle` });
    assert.deepEqual(old['wrlock-trace'], { present: false, detail: 'its bhyvectl has no --wrlock-cycle: no cycle to trace' });
    assert.equal(old['vcpu-stats'].present, true);
  });

  it('FreeBSD lacks the hook whatever its usage says; illumos reads its vCPU counters from kstats', () => {
    assert.match(judgeCapabilities(freebsdPlatform(), { usage, devices }, links).wrlock.detail, /freebsd's bhyvectl has no --wrlock-cycle/);
    assert.match(judgeCapabilities(illumosPlatform(), { usage: usage.replace('[--get-stats]', ''), devices }, links)['vcpu-stats'].detail, /vmm kstats/);
  });

  it('an answer in another shape is no capability, and the reason quotes it', () => {
    // A bhyve without `-s help` takes "help" for a slot; a bhyvectl wrapper that prints something else.
    const caps = judgeCapabilities(lab, { usage: 'bhyvectl: Befehl nicht gefunden\n', devices: 'Invalid PCI slot info field "help"\n' }, links);
    assert.equal(caps.framebuffer.present, false);
    assert.match(caps.framebuffer.detail, /^could not tell: `\S+ -s help` printed what bhyve-smoke cannot read[\s\S]*\| Invalid PCI slot info field "help"/);
    assert.equal(caps.wrlock.present, false);
    assert.match(caps.wrlock.detail, /could not tell: [\s\S]*no usage line[\s\S]*\| bhyvectl: Befehl nicht gefunden/);
    refuses(() => parseDeviceList('fbuf\nvirtio net\n', 'bhyve -s help'), /bhyve -s help/, 'virtio net');
    refuses(() => parseBhyvectlUsage('usage: bhyvectl [-v]\n', 'bhyvectl'), /bhyvectl/, 'usage: bhyvectl [-v]');
  });
});
