// Config validation names the file, the field and what was expected; the plan
// is suites × hosts × guests × repeats, with skips that say why.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig, validate } from '../../harness/config/load.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BUILTIN_CONFIG } from '../../harness/config/defaults.ts';
import { planTests } from '../../harness/run/plan.ts';
import type { SuiteDefinition } from '../../harness/suite.ts';
import { resolveSettings } from '../../harness/cli/context.ts';
import { parseSshDestination } from '../../harness/transport/ssh.ts';
import { resolveFramebuffer } from '../../harness/run/credentials.ts';

const fakeSuite = (name: string, over: Partial<SuiteDefinition> = {}): SuiteDefinition => ({ name, description: name, guests: ['linux'], needs: [], run: async () => {}, ...over });
const suites = new Map([['smoke', fakeSuite('smoke')], ['wrlock', fakeSuite('wrlock', { needs: ['wrlock'], guests: ['linux', 'freebsd'] })]]);

describe('config validation', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['a wrong type', { ...BUILTIN_CONFIG, hosts: { lab: { transport: 'local', platform: 'lab', capacity: 'two' } } }, /^c\.yaml: hosts\.lab\.capacity: Invalid input: expected number, received string$/m],
    ['an unknown platform', { ...BUILTIN_CONFIG, hosts: { x: { transport: 'local', platform: 'solaris' } } }, /hosts\.x\.platform: Invalid option: expected one of "lab"\|"illumos"\|"freebsd"/],
    ['a guest name with shell metacharacters', { ...BUILTIN_CONFIG, guests: { 'lin;rm -rf': (BUILTIN_CONFIG.guests as Record<string, unknown>).linux } }, /guests\.lin;rm -rf: .*letters, digits/],
    ['an ssh host without a destination', { ...BUILTIN_CONFIG, hosts: { b: { transport: 'ssh', platform: 'illumos', nic: 'igb0' } } }, /hosts\.b\.ssh: required with transport "ssh"/],
    ['a duration without unit', { ...BUILTIN_CONFIG, testTimeout: '90' }, /testTimeout: .*a duration such as "90s"/],
    ['an unknown key', { ...BUILTIN_CONFIG, hostz: {} }, /\(top level\): Unrecognized key: "hostz"/],
    ['a framebuffer smaller than bhyve draws', { ...BUILTIN_CONFIG, guests: { l: { os: 'linux', image: { bootrom: 'b', disk: 'd' }, credentials: { passwordEnv: 'P' }, framebuffer: { width: 320 } } } }, /guests\.l\.framebuffer\.width: Too small: expected number to be >=640/],
    ['a VNC password in the config', { ...BUILTIN_CONFIG, guests: { l: { os: 'linux', image: { bootrom: 'b', disk: 'd' }, credentials: { passwordEnv: 'P' }, framebuffer: { password: 'x' } } } }, /guests\.l\.framebuffer: Unrecognized key: "password"/],
    ['an illumos host without the link its vms\' VNICs are made over', { ...BUILTIN_CONFIG, hosts: { b: { transport: 'ssh', ssh: 'root@b', platform: 'illumos' } } }, /^c\.yaml: hosts\.b\.nic: an illumos host needs nic: the link each vm's VNIC is made over$/m],
    ['a FreeBSD host without the bridge its vms\' taps are added to', { ...BUILTIN_CONFIG, hosts: { b: { transport: 'ssh', ssh: 'root@b', platform: 'freebsd' } } }, /^c\.yaml: hosts\.b\.nic: a freebsd host needs nic: the bridge each vm's tap is added to$/m],
    ['a password in the config', { ...BUILTIN_CONFIG, guests: { l: { os: 'linux', image: { bootrom: 'b', disk: 'd' }, credentials: { passwordEnv: 'P', password: 'secret' } } } }, /guests\.l\.credentials: Unrecognized key: "password"/],
  ];
  for (const [what, raw, message] of cases) {
    it(`rejects ${what}`, () => assert.throws(() => validate(raw, 'c.yaml'), (e: Error) => e.name === 'ConfigError' && message.test(e.message)));
  }

  it('loads a bhyve-smoke.config.ts with defineConfig from any folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bsm-cfg-'));
    try {
      writeFileSync(join(dir, 'bhyve-smoke.config.ts'), `import { defineConfig } from '${resolve(import.meta.dirname, '../../harness/config/schema.ts')}';
export default defineConfig({
  hosts: { b1: { transport: 'ssh', ssh: 'root@b1', platform: 'illumos', capacity: 3, nic: 'igb0' } },
  guests: { deb: { os: 'linux', image: { bootrom: '/fw.fd', disk: '/d.raw' }, credentials: { passwordEnv: 'P' } } },
});\n`);
      const { config, source } = await loadConfig(undefined, dir);
      assert.equal(source, join(dir, 'bhyve-smoke.config.ts'));
      assert.equal(config.hosts.b1.capacity, 3);
      assert.equal(config.guests.deb.memory, '256M');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts the built-in lab config with defaults filled in', () => {
    const c = validate(BUILTIN_CONFIG, 'built-in');
    assert.equal(c.prefix, 'bsm');
    assert.equal(c.thresholds.bootReady, '120s');
    assert.equal(c.hosts.lab.capacity, 2);
  });
});

describe('plan', () => {
  const config = validate({
    ...BUILTIN_CONFIG,
    hosts: { lab: { transport: 'local', platform: 'lab' }, bsd: { transport: 'ssh', ssh: 'root@bsd', platform: 'freebsd', nic: 'bridge0' } },
    guests: { ...BUILTIN_CONFIG.guests, win: { os: 'windows', image: { bootrom: 'b', disk: 'd' }, access: 'ssh', ssh: { address: '10.0.0.20', knownHosts: 'k', identityFile: 'i' }, credentials: { user: 'Administrator' } } },
  }, 'c');

  it('is suites × hosts × guests, skipping with the reason', () => {
    const tests = planTests(config, suites, { suites: [], repeatEach: 1 });
    assert.deepEqual(tests.map((t) => `${t.id}${t.skip ? ` (${t.skip})` : ''}`), [
      'smoke/lab/linux', 'smoke/lab/win (suite smoke does not run on windows guests)',
      'smoke/bsd/linux', 'smoke/bsd/win (suite smoke does not run on windows guests)',
      'wrlock/lab/linux', 'wrlock/lab/win (suite wrlock does not run on windows guests)',
      'wrlock/bsd/linux (host bsd (freebsd) has no wrlock capability)', 'wrlock/bsd/win (suite wrlock does not run on windows guests)',
    ]);
  });

  it('filters by suite, host, guest and grep, and repeats', () => {
    const tests = planTests(config, suites, { suites: ['smoke'], host: 'lab', guest: 'linux', repeatEach: 3 });
    assert.deepEqual(tests.map((t) => t.id), ['smoke/lab/linux#0', 'smoke/lab/linux#1', 'smoke/lab/linux#2']);
    assert.deepEqual(planTests(config, suites, { suites: [], grep: /^wrlock\/lab/, repeatEach: 1 }).map((t) => t.id), ['wrlock/lab/linux', 'wrlock/lab/win']);
  });

  it('names what is unknown', () => {
    assert.throws(() => planTests(config, suites, { suites: ['nope'], repeatEach: 1 }), /unknown suite "nope" \(known: smoke, wrlock\)/);
    assert.throws(() => planTests(config, suites, { suites: [], guest: 'beos', repeatEach: 1 }), /unknown guest "beos" \(configured: linux, win\)/);
    assert.throws(() => planTests(config, suites, { suites: [], host: 'h2', repeatEach: 1 }), /unknown host or pool "h2"/);
  });

  it('resolves settings command line first, then profile, then config', () => {
    const s = resolveSettings(config, 'gate', { timeout: '3m' });
    assert.equal(s.testTimeoutMs, 180_000);
    assert.equal(s.repeatEach, 20);
    assert.equal(resolveSettings(config, 'quick', {}).thresholds.bootReadyMs, 60_000);
    assert.throws(() => resolveSettings(config, 'nope', {}), /--profile: unknown profile "nope"/);
  });

  it('a profile changes only the thresholds and stress it names: the rest keep the config\'s, not the defaults', () => {
    const lab = validate(BUILTIN_CONFIG, 'builtin');
    const quick = resolveSettings(lab, 'quick', {}).thresholds;
    assert.equal(quick.bootReadyMs, 60_000, 'what the profile names');
    assert.equal(quick.throughputUnderHammer, 0.3, 'the lab config\'s own, not the default 0.5');
    assert.equal(quick.leaseStaleMs, 20_000);
    const withStress = validate({ ...BUILTIN_CONFIG, stress: { iperfPhase: '4s', reboots: 5 }, profiles: { p: { stress: { reboots: 2 } } } }, 'c.yaml');
    const t = resolveSettings(withStress, 'p', {}).thresholds;
    assert.deepEqual([t.reboots, t.iperfPhaseMs], [2, 4_000]);
  });

  it('plans by host labels, --grep-invert and the ids of the last run\'s failures', () => {
    const labelled = validate({ ...config, hosts: { ...config.hosts, lab: { ...config.hosts.lab, labels: ['nightly', 'fast'] } } } as never, 'c.yaml');
    assert.deepEqual([...new Set(planTests(labelled, suites, { suites: [], hostLabels: ['nightly'], repeatEach: 1 }).map((t) => t.host))], ['lab']);
    assert.throws(() => planTests(labelled, suites, { suites: [], hostLabels: ['nightly', 'slow'], repeatEach: 1 }), /--host-label nightly,slow: no host carries all of them \(hosts' labels: lab: nightly, fast;/);
    assert.deepEqual(planTests(config, suites, { suites: [], host: 'lab', grepInvert: /^wrlock/, repeatEach: 1 }).map((t) => t.id), ['smoke/lab/linux', 'smoke/lab/win']);
    assert.deepEqual(planTests(config, suites, { suites: [], host: 'lab', only: new Set(['wrlock/lab/win']), repeatEach: 1 }).map((t) => t.id), ['wrlock/lab/win']);
  });

  it('parses ssh destinations', () => {
    assert.deepEqual(parseSshDestination('ssh://root@10.1.2.3:2222'), { user: 'root', host: '10.1.2.3', port: 2222 });
    assert.deepEqual(parseSshDestination('bhyve1'), { user: undefined, host: 'bhyve1', port: undefined });
    assert.throws(() => parseSshDestination('ssh://root@host;id'), /expected ssh:\/\//);
  });
});

describe('framebuffer passwords', () => {
  const guest = (env?: string) => validate({ ...BUILTIN_CONFIG, guests: { w: { os: 'linux', image: { bootrom: 'b', disk: 'd' }, credentials: { passwordEnv: 'P' }, framebuffer: { ...(env ? { passwordEnv: env } : {}) } } } }, 'c.yaml').guests.w;

  it('come from the environment variable the config names, at most 8 characters, nothing bhyve\'s option list cannot carry', () => {
    assert.deepEqual(resolveFramebuffer('w', guest()), { width: 1024, height: 768 });
    process.env.BSM_TEST_VNC = 'pw123456';
    assert.equal(resolveFramebuffer('w', guest('BSM_TEST_VNC'))?.password, 'pw123456');
    const rejects = (value: string | undefined, message: RegExp) => {
      if (value === undefined) delete process.env.BSM_TEST_VNC;
      else process.env.BSM_TEST_VNC = value;
      assert.throws(() => resolveFramebuffer('w', guest('BSM_TEST_VNC')), (e: Error) => e.name === 'ConfigError' && message.test(e.message));
    };
    rejects(undefined, /guests\.w\.framebuffer\.passwordEnv: the environment variable BSM_TEST_VNC is not set/);
    rejects('123456789', /more than 8 characters/);
    rejects('a,b', /a comma or a space/);
    delete process.env.BSM_TEST_VNC;
  });
});
