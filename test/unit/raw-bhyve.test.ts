// The raw-bhyve platforms' recipes as the upstream sources say the tools take
// them: bhyve's command line, each vm's own link and its teardown, bhyvectl's
// failure form, the OmniOS brand's firmware names, doctor's host checks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HostConfig } from '../../harness/config/schema.ts';
import { platformFor } from '../../harness/host.ts';
import { bhyvectlFailure, FREEBSD_ERRNO, ILLUMOS_ERRNO } from '../../harness/platform/bhyvectl.ts';
import { illumosBhyveArgv } from '../../harness/platform/illumos.ts';
import { tapLinks } from '../../harness/platform/links.ts';
import { omniosBootrom } from '../../harness/platform/omnios.ts';
import type { PlatformKind, VmLaunch } from '../../harness/platform/types.ts';

const platform = (kind: PlatformKind) => platformFor(kind, { transport: 'ssh', ssh: 'root@h', platform: kind, capacity: 1, labels: [], nic: 'igb0' } as HostConfig);
const launch: VmLaunch = { name: 'bsm-r1-1', cpus: 2, memoryMiB: 1024, bootrom: '/rom.fd', disk: '/dev/zvol/rdsk/p/d', console: 'socket,/c.sock', nic: 'bsm_r1_1' };

describe('bhyve\'s command line', () => {
  it('has no -w unless the guest asks for it: ignoring unimplemented MSRs "is intended for debug purposes" (bhyve(8)) and would hide an MSR regression', () => {
    assert.ok(!illumosBhyveArgv(launch).includes('-w'));
    assert.ok(illumosBhyveArgv({ ...launch, ignoreUnimplementedMsrs: true }).includes('-w'));
  });

  it('puts viona on the vm\'s own VNIC', () => {
    assert.ok(illumosBhyveArgv(launch).includes('6,virtio-net-viona,bsm_r1_1'));
  });
});

describe('a link per vm', () => {
  it('illumos: a temporary VNIC over hosts.nic named after the vm, removed after bhyve (retrying "link busy"), and teardown fails when it stays', () => {
    const p = platform('illumos');
    assert.equal(p.links!.create('bsm-r1-1', 'igb0', '/var/tmp/bhyve-smoke/r1/bsm-r1-1'),
      '/usr/sbin/dladm create-vnic -t -l igb0 bsm_r1_1 && echo bsm_r1_1 >/var/tmp/bhyve-smoke/r1/bsm-r1-1/link && echo bsm_r1_1');
    const destroy = p.destroyVm({ name: 'bsm-r1-1', id: 'bsm-r1-1' }, '/var/tmp/bhyve-smoke/r1/bsm-r1-1');
    const order = ['supervisor.pid', '--destroy', 'delete-vnic -t bsm_r1_1', 'rm -rf'].map((s) => destroy.indexOf(s));
    assert.ok(order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1])), `teardown order: ${destroy}`);
    assert.match(destroy, /exit \$rc$/, 'a link that stays fails the teardown');
  });

  it('FreeBSD: a tap made with `ifconfig tap create`, described with the vm\'s name, added to the bridge; removed only while it carries that name', () => {
    const create = tapLinks.create('bsm-r1-1', 'bridge0', '/v/bsm-r1-1');
    assert.match(create, /^t=\$\(ifconfig tap create\) && \[ -n "\$t" \] && echo "\$t" >\/v\/bsm-r1-1\/link && ifconfig "\$t" description bsm-r1-1 up && ifconfig bridge0 addm "\$t" && echo "\$t"$/);
    assert.match(tapLinks.destroy('bsm-r1-1', '/v/bsm-r1-1'), /grep -q "description: bsm-r1-1\$"; then ifconfig "\$t" destroy; fi$/);
    assert.deepEqual(tapLinks.list.parse('tap0 bsm-r1-1\ntap1 \ntap2 my vm\ntap3 bsm-r2-4\n'), [{ link: 'tap0', vm: 'bsm-r1-1' }, { link: 'tap3', vm: 'bsm-r2-4' }]);
    assert.ok(platform('freebsd').hostChecks('bridge0').some((c) => c.command === 'kldstat -q -m nmdm'), 'doctor checks nmdm(4), which the vms\' consoles need');
  });

  it('doctor: a VNIC is made over a physical link, an aggregation or an etherstub, never over a VNIC', () => {
    const check = platform('illumos').hostChecks('igb0')[0];
    assert.equal(check.command, '/usr/sbin/dladm show-link -p -o link,class igb0');
    assert.equal(check.judge!('igb0:phys', 0), true);
    assert.equal(check.judge!('stub0:etherstub', 0), true);
    assert.match(String(check.judge!('vnic0:vnic', 0)), /igb0 is a vnic link: a VNIC is made over a physical link/);
    assert.match(String(check.judge!('', 1)), /no link igb0 on the host/);
  });
});

describe('bhyvectl failures', () => {
  it('read as bhyvectl.c prints them: "errno = N" on stdout, the vm that cannot be opened, or the exit status', () => {
    assert.equal(bhyvectlFailure({ stdout: 'vm_pause error 149\nerrno = 149\n', stderr: '', exitCode: 255 }, ILLUMOS_ERRNO), 'errno 149 (EALREADY)');
    assert.equal(bhyvectlFailure({ stdout: 'errno = 37\n', stderr: '', exitCode: 255 }, FREEBSD_ERRNO), 'errno 37 (EALREADY)');
    assert.equal(bhyvectlFailure({ stdout: '', stderr: 'vm_open: x could not be opened: No such file or directory\n', exitCode: 1 }, ILLUMOS_ERRNO), 'vm_open: x could not be opened: No such file or directory');
    assert.equal(bhyvectlFailure({ stdout: '', stderr: '', exitCode: 6 }, ILLUMOS_ERRNO), 'exit 6 (ENXIO?)');
    assert.equal(bhyvectlFailure({ stdout: '', stderr: '', exitCode: 124, timedOut: true }, ILLUMOS_ERRNO), 'it did not return (blocked in the kernel?)');
  });
});

describe('OmniOS bootrom names', () => {
  it('resolve as the brand\'s boot.py does: .fd added only when missing, a path only when absolute, the old names aliased', () => {
    assert.equal(omniosBootrom('BHYVE_RELEASE_CSM'), '/usr/share/bhyve/firmware/BHYVE_RELEASE_CSM.fd');
    assert.equal(omniosBootrom('BHYVE_RELEASE.fd'), '/usr/share/bhyve/firmware/BHYVE_RELEASE.fd');
    assert.equal(omniosBootrom('/opt/roms/mine.bin'), '/opt/roms/mine.bin');
    assert.equal(omniosBootrom('vendor/x'), '/usr/share/bhyve/firmware/vendor/x.fd');
    assert.equal(omniosBootrom('BHYVE_RELEASE_CSM-2.40'), '/usr/share/bhyve/firmware/BHYVE_RELEASE_CSM.fd');
    assert.equal(platform('omnios').imagePath('BHYVE_RELEASE.fd'), "/usr/share/bhyve/firmware/BHYVE_RELEASE.fd");
  });
});
