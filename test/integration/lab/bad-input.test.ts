// Bad command lines get bhyve-like errors, a non-zero status, and leave
// nothing behind: no run folder, no QEMU.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { bhyveArgs, LAB_BIN, labGuestDir, labRunRoot, startLabVm } from '../../helpers/lab.ts';

const bhyve = (args: string[], env: Record<string, string>) =>
  execa(join(LAB_BIN, 'bhyve'), args, { env, reject: false, timeout: 20_000 });
const bhyvectl = (args: string[], env: Record<string, string>) =>
  execa(join(LAB_BIN, 'bhyvectl'), args, { env, reject: false, timeout: 20_000 });

describe('lab bad input', () => {
  const cases: Array<[string, string[], RegExp, number?]> = [
    // getopt's unknown option is bhyve_usage(1): exit 1. -p is one on illumos (pinning is FreeBSD's: bhyverun_machdep.c).
    ['an unknown option', ['-Z', 'vm1'], /illegal option -- Z/, 1],
    ['-p vcpu:hostcpu, which illumos bhyve compiles out', ['-p', '0:1', '-l', `bootrom,${labGuestDir()}`, 'vm1'], /illegal option -- p\nusage: bhyve /, 1],
    ['a missing vm name', ['-c', '1', '-l', `bootrom,${labGuestDir()}`], /missing vm name/],
    ['a malformed -s slot', ['-s', '40,virtio-blk,/dev/null', '-l', `bootrom,${labGuestDir()}`, 'vm1'], /invalid PCI slot info field "40"/],
    ['an unknown -s device', ['-s', '4,ahci-cd,/x.iso', '-l', `bootrom,${labGuestDir()}`, 'vm1'], /cannot emulate PCI device "ahci-cd"/],
    ['a disk that does not exist', ['-s', '4,virtio-blk,/nonexistent.img', '-l', `bootrom,${labGuestDir()}`, 'vm1'], /Could not open backing file: \/nonexistent.img/],
    ['a malformed -l', ['-l', 'com1,socket', '-l', `bootrom,${labGuestDir()}`, 'vm1'], /invalid lpc device configuration 'com1,socket'/],
    ['a bootrom that is no lab boot bundle', ['-l', 'bootrom,/usr/share/bhyve/BHYVE_UEFI.fd', 'vm1'], /not a lab boot bundle/],
    ['a bad memory size', ['-m', '12X', '-l', `bootrom,${labGuestDir()}`, 'vm1'], /invalid memsize '12X'/],
    ['a vm name with shell metacharacters', ['-l', `bootrom,${labGuestDir()}`, 'vm;rm -rf /'], /invalid vm name/],
  ];
  for (const [what, args, message, status = 4] of cases) {
    it(`bhyve rejects ${what} with status ${status} and starts nothing`, async () => {
      const run = labRunRoot();
      const r = await bhyve(args, run.env);
      assert.equal(r.exitCode, status);
      assert.match(String(r.stderr), message);
      assert.deepEqual(readdirSync(run.root), []);
      run.cleanup();
    });
  }

  it('bhyvectl: unknown option and missing --vm print usage and exit 1', async () => {
    const run = labRunRoot();
    const unknown = await bhyvectl(['--vm=x', '--frobnicate'], run.env);
    assert.equal(unknown.exitCode, 1);
    assert.match(String(unknown.stderr), /unrecognized option '--frobnicate'[\s\S]*Usage: bhyvectl --vm=<vmname>\n {7}\[--cpu=<vcpu_number>\]\n/, 'usage() of bhyvectl.c, line for line where the lab has the option');
    assert.equal((await bhyvectl(['--get-stats'], run.env)).exitCode, 1);
    run.cleanup();
  });

  it('bhyvectl: an unknown vm cannot be opened (ENOENT), exit 1', async () => {
    const run = labRunRoot();
    for (const op of ['--wrlock-cycle', '--destroy', '--get-stats']) {
      const r = await bhyvectl(['--vm=nosuchvm', op], run.env);
      assert.equal(r.exitCode, 1);
      assert.match(String(r.stderr), /vm_open: nosuchvm could not be opened: No such file or directory/);
    }
    const escape = await bhyvectl(['--vm=../vmm', '--destroy'], run.env);
    assert.equal(escape.exitCode, 1, 'a vm name must not reach outside the run folder');
    run.cleanup();
  });

  it('a second bhyve for a running vm fails (vm_reinit refuses a vm whose vCPUs run: EBUSY, exit 4) and leaves the first alone', async () => {
    const run = labRunRoot();
    const vm = startLabVm('dup1', run.env);
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const second = await bhyve(bhyveArgs('dup1', join(run.root, 'other.sock')), run.env);
      assert.equal(second.exitCode, 4);
      assert.equal(String(second.stderr), 'vm_reinit: Device busy', 'perror("vm_reinit") in bhyverun.c do_open(), and nothing else');
      assert.equal((await vm.bhyvectl('--wrlock-cycle')).exitCode, 0, 'the first bhyve must still serve its vm');
      assert.ok(existsSync(join(vm.dir, 'qemu.pid')));
    } finally {
      await vm.bhyvectl('--destroy');
      run.cleanup();
    }
  });
});
