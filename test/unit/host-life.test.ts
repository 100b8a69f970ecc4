// A host's life as its platform tells it: the build it runs (each platform's
// build recipe under /bin/sh with stand-in tools answering as the real ones
// print), its boot environments (beadm, bectl, piadm in the formats their
// sources print), and a reboot that is the lab's own, never this machine's.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildId, matchesBuild, parseBuild } from '../../harness/host-life/build.ts';
import { freebsdPlatform, parseBectlList } from '../../harness/platform/freebsd.ts';
import { illumosPlatform, parseBeadmList } from '../../harness/platform/illumos.ts';
import { labPlatform, LOCAL_LAB_DIR } from '../../harness/platform/lab.ts';
import { parsePiadmList } from '../../harness/platform/smartos.ts';
import { UnexpectedOutput } from '../../harness/platform/host-output.ts';

const root = mkdtempSync(join(tmpdir(), 'bsm-life-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Runs `script` under /bin/sh with stand-in tools on PATH (and nothing else of this machine's, when `only`). */
function sh(script: string, tools: Record<string, string>, env: Record<string, string> = {}): string {
  const bin = mkdtempSync(join(root, 'bin-'));
  for (const [tool, body] of Object.entries(tools)) {
    writeFileSync(join(bin, tool), `#!/bin/sh\n${body}`);
    chmodSync(join(bin, tool), 0o755);
  }
  return execFileSync('/bin/sh', ['-c', script], { env: { ...process.env, ...env, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8' });
}

describe('the build a host runs', () => {
  it('illumos: uname -v, /etc/release\'s first line, the vmm driver modinfo lists and its sha256, DEBUG from the debug.illumos variant', () => {
    // modinfo.c prints "%3d %16lx %6lx %3d   %d  %s (%s)"; the vmm line is real output (omniosorg/illumos-omnios#429).
    const modinfo = `printf ' Id         Loadaddr   Size Info Rev Module Name\\n259 fffffffff8348000 23a8f8 278   1  vmm (vmm)\\n'`;
    const out = sh(illumosPlatform().build.replaceAll('/etc/release', join(root, 'release')).replaceAll('/usr/kernel/drv/amd64/vmm', join(root, 'vmm')), {
      uname: 'echo omnios-r151054-a1b2c3d4e5', modinfo, digest: `sha256sum "$3" | cut -d' ' -f1`, pkg: 'printf "variant.debug.illumos\\tfalse\\n"',
    }, {});
    writeFileSync(join(root, 'vmm'), 'a vmm driver');
    writeFileSync(join(root, 'release'), '  OmniOS v11 r151054a\n  Copyright 2024\n');
    const again = sh(illumosPlatform().build.replaceAll('/etc/release', join(root, 'release')).replaceAll('/usr/kernel/drv/amd64/vmm', join(root, 'vmm')), {
      uname: 'echo omnios-r151054-a1b2c3d4e5', modinfo, digest: `sha256sum "$3" | cut -d' ' -f1`, pkg: 'printf "variant.debug.illumos\\tfalse\\n"',
    });
    assert.throws(() => parseBuild(out), UnexpectedOutput, 'an unreadable vmm file is no sha256');
    const b = parseBuild(again);
    assert.deepEqual(b, { platform: 'omnios-r151054-a1b2c3d4e5', release: 'OmniOS v11 r151054a', vmm: { file: join(root, 'vmm'), loaded: true, sha256: b.vmm.sha256 }, debug: false });
    assert.match(b.vmm.sha256, /^[0-9a-f]{64}$/);
    assert.equal(buildId(b), `omnios-r151054-a1b2c3d4e5 · vmm ${b.vmm.sha256.slice(0, 12)}`);
    assert.ok(matchesBuild(b, 'omnios-r151054-a1b2c3d4e5') && matchesBuild(b, `vmm:${b.vmm.sha256.slice(0, 8)}`) && !matchesBuild(b, 'omnios-r151054-other'));
  });

  it('FreeBSD: uname -v, freebsd-version -ku, the vmm.ko kldstat -v names and its sha256, DEBUG from kern.features.invariants', () => {
    writeFileSync(join(root, 'vmm.ko'), 'a vmm module');
    // kldstat.c with -v: "%2d %4d %*p %8zx %s" then " (%s)" (real: pr1ntf/iohyve#287).
    const out = sh(freebsdPlatform().build, {
      uname: 'echo "FreeBSD 14.1-RELEASE-p5 GENERIC"',
      'freebsd-version': 'printf "14.1-RELEASE-p5\\n14.1-RELEASE-p6\\n"',
      kldstat: `printf 'Id Refs Address                Size Name\\n 7    1 0xffffffff824e6000   3571f0 vmm.ko (${join(root, 'vmm.ko')})\\n\\tContains modules:\\n\\t\\t Id Name\\n\\t\\t 10 vmm\\n'`,
      sha256: 'sha256sum "$2" | cut -d" " -f1',
      sysctl: 'echo "sysctl: unknown oid \'kern.features.invariants\'" >&2; exit 1',
    });
    const b = parseBuild(out);
    assert.deepEqual([b.platform, b.release, b.vmm.file, b.vmm.loaded, b.debug], ['FreeBSD 14.1-RELEASE-p5 GENERIC', '14.1-RELEASE-p5 14.1-RELEASE-p6', join(root, 'vmm.ko'), true, false]);
  });

  it('refuses a build recipe\'s output it cannot read, naming what is missing', () => {
    assert.throws(() => parseBuild('platform=x\nrelease=y\n'), /nothing for vmm-file, vmm-loaded, vmm-sha256, debug/);
    assert.throws(() => parseBuild('uname: not found\n'), /cannot read/);
  });
});

describe('boot environments', () => {
  it('beadm list -H (beadm.c print_be_nodes(); beadm.8 example 18): N running, R next, T once, an empty flags field none', () => {
    const example = 'BE2;;;;55296;static;1211397974\nBE3;;;;339968;static;1219771706\nBE4;;;;16541696;static;1220664051\nBE5;215b8387-4968-627c-d2d0-f4a011414bab;NR;/;7786206208;static;1221004384\n';
    assert.deepEqual(parseBeadmList(example).map((b) => `${b.name}:${b.active ? 'N' : ''}${b.next ? 'R' : ''}${b.once ? 'T' : ''}`), ['BE2:', 'BE3:', 'BE4:', 'BE5:NR']);
    assert.deepEqual(parseBeadmList('BE5;u;R;;1;static;2\nBE6;;NT;/;1;static;3\n').map((b) => [b.name, b.active, b.next, b.once]), [['BE5', false, true, false], ['BE6', true, false, true]]);
    assert.throws(() => parseBeadmList('BE  Active Mountpoint Space Policy Created\n'), /beadm list -H/, 'the human table is not the parsable one');
  });

  it('bectl list -H (bectl_list.c print_info(): tabs, flags N R T or -) and piadm list -H (piadm.sh list(), the piadm.8 example\'s rows)', () => {
    assert.deepEqual(parseBectlList('default\tNR\t/\t4.94G\t2021-11-13 15:43\nn250511\t-\t-\t1.2G\t2022-01-01 10:00\n').map((b) => [b.name, b.active, b.next]), [['default', true, true], ['n250511', false, false]]);
    const piadm = '20200714T195617Z   standalone/boot                next         yes   no\n20200715T192200Z   standalone/boot                none         no    yes\n';
    assert.deepEqual(parsePiadmList(piadm).map((b) => [b.name, b.active, b.next]), [['20200714T195617Z', true, false], ['20200715T192200Z', false, true]]);
    assert.throws(() => parsePiadmList('PI STAMP           BOOTABLE FILESYSTEM            BOOT IMAGE   NOW   NEXT\n'), /piadm list -H/);
  });
});

describe('the lab host\'s reboot', () => {
  it('is the lab\'s own, by its path, and never reaches this machine\'s reboot, shutdown, halt, poweroff, init or systemctl', () => {
    const p = labPlatform();
    assert.ok(p.reboot.startsWith(`setsid ${LOCAL_LAB_DIR}/bin/lab-reboot `), p.reboot);
    for (const word of ['reboot', 'shutdown', 'halt', 'poweroff', 'systemctl', 'init']) {
      assert.doesNotMatch(p.reboot.replace(`${LOCAL_LAB_DIR}/bin/lab-reboot`, ''), new RegExp(`\\b${word}\\b`), `${word} outside the lab's path`);
    }
    // Run with stand-ins for every command that could take this machine down on PATH: none is called.
    const run = join(root, 'lab-run');
    mkdirSync(run, { recursive: true });
    const marker = join(root, 'called');
    const trap = `echo "$0 $*" >>${marker}; exit 0\n`;
    sh(`${LOCAL_LAB_DIR}/bin/lab-reboot`, Object.fromEntries(['reboot', 'shutdown', 'halt', 'poweroff', 'init', 'systemctl', 'uadmin', 'telinit'].map((t) => [t, trap])), { BHYVE_LAB_RUNDIR: run, BHYVE_LAB_REBOOT_SECONDS: '0' });
    assert.equal(existsSync(marker), false, existsSync(marker) ? readFileSync(marker, 'utf8') : '');
    assert.match(readFileSync(join(run, 'boot-id'), 'utf8'), /^[0-9a-f-]{36}\n$/, 'the lab host did reboot: a new boot id');
    assert.equal(existsSync(join(run, 'down')), false, 'and is up again');
  });
});

describe('the lab\'s boot environments', () => {
  it('answer as beadm.c does (list -H, activate, unknown BE exit 163), and a lab reboot boots the one activated, with its stamp and faults as the build', () => {
    const run = mkdtempSync(join(root, 'lab-be-'));
    const env = { ...process.env, BHYVE_LAB_RUNDIR: run, BHYVE_LAB_REBOOT_SECONDS: '0' };
    const lab = (tool: string, ...args: string[]) => spawnSync(join(LOCAL_LAB_DIR, 'bin', tool), args, { env, encoding: 'utf8' });
    assert.equal(lab('beadm', 'create', '-o', 'bhyve-lab:stamp=lab-2026.12.9', '-o', 'bhyve-lab:faults=slow-wrlock=10', 'cand').stdout, 'Created successfully\n');
    const before = parseBeadmList(lab('beadm', 'list', '-H').stdout);
    assert.deepEqual(before.filter((b) => b.active).length, 1, 'one boot environment runs');
    assert.ok(before.some((b) => b.name === 'cand' && !b.active && !b.next));
    const unknown = lab('beadm', 'activate', 'nope');
    assert.deepEqual([unknown.status, unknown.stdout], [163, '']);
    assert.match(unknown.stderr, /^nope does not exist or appear to be a valid BE\./);
    assert.equal(lab('beadm', 'activate', 'cand').stdout, 'Activated successfully\n');
    assert.deepEqual(parseBeadmList(lab('beadm', 'list', '-H').stdout).find((b) => b.name === 'cand'), { name: 'cand', active: false, next: true, once: false });
    assert.equal(lab('lab-reboot').status, 0);
    assert.deepEqual(parseBeadmList(lab('beadm', 'list', '-H').stdout).find((b) => b.name === 'cand'), { name: 'cand', active: true, next: true, once: false });
    const build = parseBuild(lab('lab-build').stdout);
    assert.equal(build.platform, 'lab-2026.12.9');
    assert.match(buildId(build), /^lab-2026\.12\.9 · vmm [0-9a-f]{12} · faults slow-wrlock=10$/);
  });
});
