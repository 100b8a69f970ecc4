// The zone platforms (SmartOS vmadm, OmniOS zones), checked against real
// output of the tools where there is some (fixtures/transcripts/zones, each
// file's source in SOURCES.md), and against the tools' documented formats
// where there is none: no SmartOS or OmniOS host runs here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { HostConfig } from '../../harness/config/schema.ts';
import { Host, platformFor } from '../../harness/host.ts';
import { LocalTransport } from '../../harness/transport/local.ts';
import { omniosZonecfg, parseBhyveZones, zonepathOf, zoneTaken } from '../../harness/platform/omnios.ts';
import { vnicName } from '../../harness/platform/links.ts';
import { destroySmartosVm, parseVmadmList, smartosPayload, smartosUuid, vmTaken } from '../../harness/platform/smartos.ts';
import type { PlatformKind, VmRequest } from '../../harness/platform/types.ts';
import { parseZoneList } from '../../harness/platform/zone-watch.ts';
import { ownedVms } from '../../harness/run/reap.ts';

const transcript = (name: string) => readFileSync(join(import.meta.dirname, '../../fixtures/transcripts/zones', name), 'utf8');
const platform = (kind: PlatformKind, over: Partial<HostConfig> = {}) =>
  platformFor(kind, { transport: 'ssh', ssh: 'root@h', platform: kind, capacity: 1, labels: [], nic: 'vnic0', ...over } as HostConfig);

const request = (over: Partial<VmRequest> = {}): VmRequest => {
  const vm = { name: 'bsm-r1-1', guest: 'linux', dir: '/var/tmp/bhyve-smoke/r1/bsm-r1-1', cpus: 2, memoryMiB: 1024, bootrom: 'uefi', image: { kind: 'smartos', uuid: '2f1dc911-6401-4fa4-8e9d-67ea2e39c271' } } as const;
  const p = platform('smartos');
  return { ...vm, console: p.console(vm.dir, vm.name), ...over } as VmRequest;
};

describe('zoneadm list -cp', () => {
  it('reads SmartOS and OmniOS listings: name, state, zonepath, brand and the debug id', () => {
    const smartos = parseZoneList(transcript('zoneadm-list-cp-smartos.txt'));
    assert.deepEqual(smartos.map((z) => [z.name, z.state, z.brand, z.debugId]), [
      ['global', 'running', 'liveimg', undefined],
      ['dc5cbce7-798a-4bc8-bdc5-61b4be00a22e', 'running', 'joyent-minimal', 21],
      ['7970c690-1738-4e58-a04f-8ce4ea8ebfca', 'installed', 'kvm', 22],
    ]);
    assert.equal(smartos[2].path, '/zones/7970c690-1738-4e58-a04f-8ce4ea8ebfca');
    const omnios = parseZoneList(transcript('zoneadm-list-cp-omnios.txt'));
    assert.deepEqual(omnios.map((z) => [z.name, z.state, z.path, z.brand, z.debugId]), [
      ['global', 'running', '/', 'ipkg', 0],
      ['cube-media', 'running', '/zones/cube-media', 'lipkg', 128],
      ['cube-ws', 'installed', '/zones/cube-ws', 'pkgsrc', 179],
    ]);
  });

  it('keeps a zonepath whole where zoneadm escaped its colons (zoneadm.c prints `\\:`)', () => {
    const [z] = parseZoneList('-:bsm-r1-1:installed:/zones/a\\:b:5a2c:bhyve:excl:7\n');
    assert.deepEqual(z, { name: 'bsm-r1-1', state: 'installed', path: '/zones/a:b', brand: 'bhyve', debugId: 7 });
  });

  it('on OmniOS only bhyve zones are vms: no other zone in a listing is ever taken for one', () => {
    assert.deepEqual(parseBhyveZones(transcript('zoneadm-list-cp-omnios.txt')), []);
    assert.deepEqual(parseBhyveZones('3:bsm-r1-1:running:/zones/bsm-r1-1:u:bhyve:excl:9'), [{ name: 'bsm-r1-1', id: 'bsm-r1-1' }]);
  });
});

describe('the ownership rule on every platform', () => {
  // Our run r1 owns `bsm-r1-*`; every other name below is someone else's, however close.
  const foreign = ['bsm-r10-1', 'bsm-r1', 'xbsm-r1-1', 'BSM-r1-1', 'bsm-r1x-2'];
  const listings: Array<[PlatformKind, string]> = [
    ['illumos', ['bsm-r1-1', ...foreign].join('\n')],
    ['freebsd', ['bsm-r1-1', ...foreign].join('\n')],
    ['smartos', [`${smartosUuid('bsm-r1-1')}:bsm-r1-1`, ...foreign.map((n, i) => `${smartosUuid(`other-${i}`)}:${n}`), '54f1cc77-68f1-42ab-acac-5c4f64f5d6e0:'].join('\n')],
    ['omnios', [
      transcript('zoneadm-list-cp-omnios.txt').trim(),
      '-:bsm-r1-1:installed:/zones/bsm-r1-1:u1:bhyve:excl:300',
      ...foreign.map((n, i) => `${10 + i}:${n}:running:/zones/${n}:u:bhyve:excl:${400 + i}`),
      '-:bsm-r1-2:installed:/zones/bsm-r1-2:u2:lipkg:excl:301',
    ].join('\n')],
  ];
  for (const [kind, listing] of listings) {
    it(`${kind}: only bsm-r1-* is ours`, () => {
      const owned = ownedVms(platform(kind), listing, 'bsm-r1-');
      assert.deepEqual(owned.map((v) => v.name), ['bsm-r1-1']);
      if (kind === 'smartos') assert.equal(owned[0].id, smartosUuid('bsm-r1-1'), 'vmadm deletes by uuid');
    });
  }

  it('a name already taken stops the vm before anything is made: a zone of any brand by name or zonepath, a SmartOS vm by uuid or alias', () => {
    const omnios = transcript('zoneadm-list-cp-omnios.txt');
    assert.equal(zoneTaken(omnios, 'cube-ws', '/zones/x')?.state, 'installed', 'an installed zone of another brand takes its name');
    assert.equal(zoneTaken(omnios, 'bsm-r1-1', '/zones/cube-media')?.name, 'cube-media', 'and its zonepath');
    assert.equal(zoneTaken(omnios, 'bsm-r1-1', '/zones/bsm-r1-1'), undefined);
    const listing = `${smartosUuid('bsm-r1-1')}:someone-else\n54f1cc77-68f1-42ab-acac-5c4f64f5d6e0:bsm-r1-2\n`;
    assert.equal(vmTaken(listing, smartosUuid('bsm-r1-1'), 'bsm-r1-1')?.name, 'someone-else', 'our uuid under another alias');
    assert.equal(vmTaken(listing, smartosUuid('bsm-r1-2'), 'bsm-r1-2')?.id, '54f1cc77-68f1-42ab-acac-5c4f64f5d6e0', 'our alias on another uuid');
    assert.equal(vmTaken(listing, smartosUuid('bsm-r1-3'), 'bsm-r1-3'), undefined);
  });

  it('SmartOS: the delete itself checks that the uuid still carries our alias (vmadm delete asks nothing)', () => {
    const command = destroySmartosVm({ name: 'bsm-r1-1', id: smartosUuid('bsm-r1-1') }, '/var/tmp/bhyve-smoke/r1/bsm-r1-1');
    const guard = /if \[ "\$\(\/usr\/vm\/sbin\/vmadm list -p -o alias uuid=([0-9a-f-]+) 2>\/dev\/null\)" = bsm-r1-1 \]; then \/usr\/vm\/sbin\/vmadm delete ([0-9a-f-]+) \|\| exit \$\?; fi/.exec(command);
    assert.ok(guard, command);
    assert.equal(guard[1], guard[2]);
    assert.equal(command.match(/vmadm delete/g)?.length, 1, 'no delete outside the guard');
  });
});

describe('SmartOS: the vmadm payload', () => {
  it('a uuid of our own, derived from the vm name: RFC 4122 version 4, distinct per name', () => {
    const u = smartosUuid('bsm-r1-1');
    assert.match(u, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(smartosUuid('bsm-r1-1'), u);
    assert.notEqual(smartosUuid('bsm-r1-2'), u);
  });

  it('brand bhyve, our name as alias, the imported image cloned by vmadm, virtio disk and NIC, com1 on a socket in the zone and com2 as vmadm would set it', () => {
    const p = smartosPayload(request(), 'admin');
    assert.deepEqual(p, {
      uuid: smartosUuid('bsm-r1-1'), alias: 'bsm-r1-1', brand: 'bhyve', autoboot: false, ram: 1024, vcpus: 2, bootrom: 'uefi',
      disks: [{ image_uuid: '2f1dc911-6401-4fa4-8e9d-67ea2e39c271', boot: true, model: 'virtio' }],
      nics: [{ nic_tag: 'admin', model: 'virtio', ips: ['dhcp'], primary: true }],
      // VM.js buildZonecfgUpdate() sets com1 and com2 only when neither is given: with our com1, com2 (the metadata agent's) is ours to keep.
      com1: 'socket,/tmp/vm.com1', com2: 'socket,/tmp/vm.ttyb', vnc_port: -1,
    });
  });

  it('takes bootrom bios or uefi only: a path is a config error naming the field (vmadm.8.md: only bios or uefi at provision)', () => {
    const pl = platform('smartos');
    assert.equal(pl.checkBootrom?.('uefi'), undefined);
    assert.equal(pl.checkBootrom?.('bios'), undefined);
    assert.match(pl.checkBootrom?.('/usr/share/bhyve/firmware/BHYVE_UEFI.fd') ?? '', /bios or uefi .*not "\/usr\/share/);
    assert.throws(() => pl.plan(new Host('t1', { transport: 'ssh', ssh: 'root@h', platform: 'smartos', capacity: 1, labels: [], nic: 'admin' }, new LocalTransport(), pl), request({ bootrom: '/x.fd' })),
      (e: Error) => e.name === 'ConfigError' && /^guests\.linux\.image\.bootrom: a SmartOS vm boots bios or uefi/.test(e.message));
  });

  it('a framebuffer keeps the brand fbuf (vnc_port 0) with its password; screenshots reach it in the zone', () => {
    const pl = platform('smartos');
    const fb = pl.framebuffer('/d', 'bsm-r1-1', { width: 1024, height: 768, password: 'pw' });
    const p = smartosPayload(request({ framebuffer: { ...fb, settings: { width: 1024, height: 768, password: 'pw' } } }), 'admin');
    assert.equal(p.vnc_port, 0);
    assert.equal(p.vnc_password, 'pw');
    assert.deepEqual(fb.endpoint, { kind: 'unix', path: `/zones/${smartosUuid('bsm-r1-1')}/root/tmp/vm.vnc` });
  });

  it('the brand turns com1 and bootrom into bhyve arguments as a real `vmadm start` shows: our com1 takes the shape of its com2 socket', () => {
    // zone '…': get_zcfg_var: '_ZONECFG_attr_com2=socket,/tmp/vm.ttyb' → -l com2,… ; bootrom=uefi → -l bootrom,/usr/share/bhyve/uefi-rom.bin
    const argv = transcript('vmadm-start-bhyve-argv.txt');
    const attrs = Object.fromEntries([...argv.matchAll(/_ZONECFG_attr_(\w+)=([^']*)'/g)].map((m) => [m[1], m[2]]));
    const args = [...argv.matchAll(/add_arg: argv\[\d+\]='([^']*)'/g)].map((m) => m[1]);
    assert.ok(args.includes(`com1,${attrs.com1}`), 'a com attribute goes to -l as it is');
    assert.match(attrs.com2, /^socket,\/tmp\/[\w.]+$/);
    assert.match(String(smartosPayload(request(), 'admin').com1), /^socket,\/tmp\/[\w.]+$/);
    const bootrom = args.find((a) => a.startsWith('bootrom,'))!.slice('bootrom,'.length);
    assert.equal(platform('smartos').imagePath(attrs.bootrom), bootrom, 'doctor checks the ROM the brand will load');
  });

  it('the console is com1\'s socket under the zone root, reachable from the global zone', () => {
    const c = platform('smartos').console('/d', 'bsm-r1-1');
    assert.deepEqual(c.attach, { kind: 'unix', path: `/zones/${smartosUuid('bsm-r1-1')}/root/tmp/vm.com1` });
  });

  it('reads `vmadm list -p -o uuid,alias`: UUID:ALIAS lines; an alias may hold a colon, a vm without one is skipped', () => {
    assert.deepEqual(parseVmadmList('54f1cc77-68f1-42ab-acac-5c4f64f5d6e0:web:01\n7970c690-1738-4e58-a04f-8ce4ea8ebfca:\n\n'), [{ id: '54f1cc77-68f1-42ab-acac-5c4f64f5d6e0', name: 'web:01' }]);
  });
});

describe('OmniOS: the zone configuration', () => {
  const vm = (over: Partial<VmRequest> = {}) => {
    const p = platform('omnios', { cloneRoot: 'rpool/bsm', nic: 'igb0' });
    return request({ bootrom: 'BHYVE_RELEASE_CSM', image: { kind: 'zfs', snapshot: 'rpool/img/deb@g' }, console: p.console('/d', 'bsm-r1-1'), ...over });
  };
  const config = (over: Partial<VmRequest> = {}) =>
    omniosZonecfg(vm(over), { zonepath: '/zones/bsm-r1-1', nic: 'igb0', dataset: 'rpool/bsm/bsm-r1-1', device: '/dev/zvol/rdsk/rpool/bsm/bsm-r1-1' });

  /** zonecfg command lines as resources: `add X` … `end` blocks of `set p=v`, and the global `set`s. */
  const resources = (text: string) => {
    const out: Array<{ type: string; props: Record<string, string> }> = [];
    let current: { type: string; props: Record<string, string> } = { type: 'global', props: {} };
    out.push(current);
    for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
      const add = /^add (\w+)$/.exec(line);
      const set = /^set ([\w-]+)=(.*)$/.exec(line);
      if (add && current.type === 'global') out.push((current = { type: add[1], props: {} }));
      else if (line === 'end') current = out[0];
      else if (set) current.props[set[1]] = set[2].replace(/^"(.*)"$/, '$1');
    }
    return out;
  };

  it('speaks the statements a real `zonecfg export` of a bhyve zone prints', () => {
    const real = resources(transcript('zonecfg-bhyve-export.txt'));
    const ours = resources(config());
    assert.equal(config().split('\n')[0], transcript('zonecfg-bhyve-export.txt').split('\n')[0], 'create -b');
    const known = new Set(real.flatMap((r) => Object.keys(r.props).map((p) => `${r.type}.${p}`)));
    // global-nic is not in the export, which sets none; `zonecfg info` lists it as a net property.
    assert.match(transcript('zonecfg-bhyve-info.txt'), /^ {8}global-nic not specified$/m);
    known.add('net.global-nic');
    for (const r of ours) for (const p of Object.keys(r.props)) assert.ok(known.has(`${r.type}.${p}`), `${r.type}.${p} is not in the real export`);
  });

  it('a bhyve zone with our clone as bootdisk (passed through as a device), a VNIC on the host link, com1 on a socket, no autoboot', () => {
    const r = resources(config());
    assert.deepEqual(r[0].props, { brand: 'bhyve', zonepath: '/zones/bsm-r1-1', autoboot: 'false', 'ip-type': 'exclusive' });
    const attrs = Object.fromEntries(r.filter((x) => x.type === 'attr').map((x) => [x.props.name, x.props.value]));
    assert.deepEqual(attrs, { bootdisk: 'rpool/bsm/bsm-r1-1', vcpus: '2', ram: '1024M', bootrom: 'BHYVE_RELEASE_CSM', console: 'socket,/tmp/vm.com1' });
    assert.deepEqual(r.find((x) => x.type === 'device')?.props, { match: '/dev/zvol/rdsk/rpool/bsm/bsm-r1-1' });
    assert.deepEqual(r.find((x) => x.type === 'net')?.props, { physical: vnicName('bsm-r1-1'), 'global-nic': 'igb0' });
  });

  /**
   * A `set` line as zonecfg's lexer reads it after `set` (usr/src/cmd/zonecfg/
   * zonecfg_lex.l, TSTATE): `=` is a token of its own, an unquoted token runs
   * up to a blank, `"`, `;`, `=`, `[`, `]`, `(` or `)`, a quoted one to the
   * next `"`. The grammar takes `set NAME = VALUE`: one token after the `=`.
   */
  const setTokens = (line: string) => [...line.replace(/^set /, '').matchAll(/"[^"\n]*"|=|[^ \t\n";=[\]()]+/g)].map((m) => m[0]);

  it('every value zonecfg reads as one token: fbuf options (with `=`) quoted, with or without a password', () => {
    const p = platform('omnios');
    for (const password of [undefined, 'a b']) {
      const settings = { width: 800, height: 600, ...(password ? { password } : {}) };
      const fb = p.framebuffer('/d', 'bsm-r1-1', settings);
      const text = config({ framebuffer: { ...fb, settings } });
      for (const line of text.split('\n').filter((l) => l.startsWith('set '))) {
        const tokens = setTokens(line);
        assert.equal(tokens.length, 3, `${line}: zonecfg reads ${JSON.stringify(tokens)}, not NAME = VALUE`);
        assert.equal(tokens[1], '=', line);
      }
      const vnc = resources(text).filter((x) => x.type === 'attr').find((a) => a.props.name === 'vnc')?.props.value;
      assert.equal(vnc, `unix=/tmp/vm.vnc,w=800,h=600${password ? `,password=${password}` : ''}`);
      assert.deepEqual(fb.endpoint, { kind: 'unix', path: '/zones/bsm-r1-1/root/tmp/vm.vnc' });
    }
    // The lexer's rule, shown on the line that broke: unquoted, the fbuf options are five tokens.
    assert.deepEqual(setTokens('set value=unix=/tmp/vm.vnc,w=800'), ['value', '=', 'unix', '=', '/tmp/vm.vnc,w', '=', '800']);
    assert.throws(() => config({ bootrom: 'x"y' }), (e: Error) => e.name === 'ConfigError' && /zone attribute bootrom/.test(e.message));
  });

  it('names that fit: the VNIC a valid link name, the zonepath under the host\'s zone root', () => {
    // libdladm dladm_valid_linkname(): at most 31 of [A-Za-z0-9_.], no leading digit, ending in a number with no leading zero.
    for (const n of ['bsm-r1-1', 'abcdefgh-k3j4h5g6-12345']) assert.match(vnicName(n), /^(?=.{1,31}$)[A-Za-z_.][A-Za-z0-9_.]*[^0-9](0|[1-9][0-9]*)$/);
    assert.notEqual(vnicName('bsm-r1-1'), vnicName('bsm-r1-2'));
    assert.equal(zonepathOf('/tank/zones/', 'bsm-r1-1'), '/tank/zones/bsm-r1-1');
    assert.equal(platform('omnios', { zoneRoot: '/tank/zones' }).console('/d', 'bsm-r1-1').attach.kind === 'unix' && (platform('omnios', { zoneRoot: '/tank/zones' }).console('/d', 'bsm-r1-1').attach as { path: string }).path, '/tank/zones/bsm-r1-1/root/tmp/vm.com1');
  });

  it('firmware by the brand\'s names (/usr/share/bhyve/firmware), or a path', () => {
    const p = platform('omnios');
    assert.equal(p.imagePath('BHYVE_RELEASE_CSM'), '/usr/share/bhyve/firmware/BHYVE_RELEASE_CSM.fd');
    assert.equal(p.imagePath('/opt/fw/OVMF.fd'), '/opt/fw/OVMF.fd');
  });
});
