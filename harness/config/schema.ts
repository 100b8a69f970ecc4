// The config: hosts, guests, thresholds and profiles, validated with zod.
// Durations are strings with units ('90s'); credentials are named by the
// environment variable that holds them, never written in the file.
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { PLATFORM_KINDS } from '../platform/types.ts';
import { UPDATE_METHODS } from '../workload/os-update/recipe.ts';
import { OWN_METRIC_NAME } from '../verdict/metrics.ts';
import { UPDATE_RECIPES } from '../workload/os-update/recipes.ts';

const duration = z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'a duration such as "90s", "2m" or "500ms"');
const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/, 'a name of letters, digits, "_" and "-" (at most 32)');
/** A ZFS dataset name: a pool, then its children, as zfs(8) takes them. */
const ZFS_DATASET = '[A-Za-z0-9][A-Za-z0-9_.:/-]*';
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');

export const hostSchema = z.strictObject({
  transport: z.enum(['local', 'ssh']),
  /** ssh destination: [user@]host[:port] or ssh://[user@]host[:port]. */
  ssh: z.string().optional(),
  /** known_hosts file to verify the host key against (default: the user's). */
  knownHosts: z.string().optional(),
  identityFile: z.string().optional(),
  platform: z.enum(PLATFORM_KINDS as [string, ...string[]]),
  /** Hosts sharing a pool are interchangeable: a test of the pool runs on any of them that is healthy and free. */
  pool: name.optional(),
  /** How many vms the host runs at once. */
  capacity: z.number().int().min(1).max(64).default(1),
  labels: z.array(z.string()).default([]),
  /**
   * The vm network. Each vm gets a link of its own (two vms cannot share one):
   * on illumos and OmniOS a VNIC made over this link (a physical link, an
   * aggregation or an etherstub), on FreeBSD a tap added to this bridge; on
   * SmartOS this is the nic tag of the vms' NIC. The lab's one link is user0.
   */
  nic: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$/, 'a link, bridge or nic tag name').optional(),
  /** The folder under which each vm's zone gets its zonepath (OmniOS; default /zones). */
  zoneRoot: z.string().regex(/^\/[A-Za-z0-9_.\/-]*$/, 'an absolute path such as "/zones"').optional(),
  /**
   * The ZFS dataset under which vms of ZFS images get their clones
   * (`<cloneRoot>/<vm name>`); needed when a guest's image on this host is a snapshot.
   */
  cloneRoot: z.string().regex(new RegExp(`^${ZFS_DATASET}$`), 'a ZFS dataset such as "rpool/bhyve-smoke"').optional(),
  /** The lab's folder on the host (lab platform only; default: this checkout's fixtures/lab). */
  labDir: z.string().optional(),
  /**
   * The lab's faults for every vm of this host (lab platform only), e.g.
   * `slow-wrlock=50`: a stand-in for a bad build, for A/B runs on the lab.
   */
  labFaults: z.string().regex(/^[a-z0-9=,@-]+$/, 'a lab fault list such as "slow-wrlock=50"').optional(),
  /**
   * false: the lab's bhyvectl without --wrlock-cycle, as an illumos bhyvectl
   * from before the hook (lab platform only): tests that need it are skipped.
   */
  labWrlockHook: z.boolean().optional(),
  /**
   * The build this host must run (host-life/build.ts matchesBuild): its
   * platform build as printed (`uname -v`, the PI stamp), or `vmm:HEX`, a
   * prefix of its vmm module's sha256. Another build is an infrastructure
   * error before any test starts. `--expect-build` sets it for every host.
   */
  expectBuild: z.string().min(1).optional(),
}).superRefine((h, ctx) => {
  for (const key of ['labDir', 'labFaults', 'labWrlockHook'] as const) {
    if (h[key] !== undefined && h.platform !== 'lab') ctx.addIssue({ code: 'custom', path: [key], message: `${key} is a lab option; this host's platform is ${h.platform}` });
  }
  const network = { illumos: 'the link each vm\'s VNIC is made over', omnios: 'the link each vm\'s VNIC is made over', freebsd: 'the bridge each vm\'s tap is added to', smartos: 'the nic tag of the vms\' NIC' }[h.platform];
  if (network && !h.nic) ctx.addIssue({ code: 'custom', path: ['nic'], message: `${/^[aeiou]/.test(h.platform) ? 'an' : 'a'} ${h.platform} host needs nic: ${network}` });
});

/**
 * A golden disk: a file (a path, or `{ file, sha256 }` to pin its bits), a ZFS
 * snapshot (`{ zfs: 'pool/images/debian12@golden' }`, pinned by its name and
 * guid), or a SmartOS image (`{ smartos: UUID }`, imported with imgadm).
 */
export const diskImageSchema = z.union([
  z.string().min(1),
  z.strictObject({ file: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in lower-case hex (64 characters)').optional() }),
  z.strictObject({ zfs: z.string().regex(new RegExp(`^${ZFS_DATASET}@[A-Za-z0-9_.:-]+$`), 'a ZFS snapshot: pool/dataset@snapshot') }),
  z.strictObject({ smartos: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'a SmartOS image UUID') }),
]);

/** A host CPU id (psrinfo's on illumos, cpuset's on FreeBSD, Linux's). */
const hostCpu = z.number().int().min(0).max(1023);

export const guestSchema = z.strictObject({
  os: z.enum(['linux', 'freebsd', 'windows']),
  image: z.strictObject({
    /** Firmware, or the lab's boot bundle (`@lab/guest`). */
    bootrom: z.string(),
    /** The golden disk; each vm boots from its own copy-on-write clone (harness/image/). */
    disk: diskImageSchema,
    /** The golden disk on particular hosts or pools, where it is not `disk` (a dataset per host). */
    on: z.record(z.string(), diskImageSchema).default({}),
  }),
  vcpus: z.number().int().min(1).max(32).default(1),
  memory: z.string().regex(/^\d+[MG]$/, 'a size such as "256M" or "2G"').default('256M'),
  /** The serial console (logging in with a password), or the guest's own OpenSSH server (a key). */
  access: z.enum(['serial', 'ssh']).default('serial'),
  /** For `access: ssh`: run on the bhyve host, which reaches its guests; the paths are on that host. */
  ssh: z.strictObject({
    address: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(22),
    /** The guest image's host key: ssh verifies it, always. */
    knownHosts: z.string().min(1),
    identityFile: z.string().min(1),
  }).optional(),
  credentials: z.strictObject({
    user: z.string().default('root'),
    /** The environment variable holding the password (serial access). */
    passwordEnv: envName.optional(),
  }),
  /**
   * A framebuffer (bhyve fbuf) whose screen the harness photographs through
   * noVNC: at the end of each boot, at a failure or hang, and every `every`
   * during long workloads. Windows shows its update progress and stop screens
   * only there.
   */
  framebuffer: z.strictObject({
    width: z.number().int().min(640).max(3840).default(1024),
    height: z.number().int().min(480).max(2160).default(768),
    /** The environment variable holding the VNC password (bhyve's fbuf password=, at most 8 characters). */
    passwordEnv: envName.optional(),
    /** Interval of screenshots during long workloads (the OS update). */
    every: duration.default('5m'),
  }).optional(),
  /**
   * How the update-under-wrlock suite updates the guest: `auto` finds the
   * guest's tool; `lab-synthetic` is the lab's stand-in, never a real update.
   */
  update: z.enum(['auto', ...UPDATE_METHODS]).default('auto'),
  /**
   * bhyve -w: ignore accesses to unimplemented MSRs ("intended for debug
   * purposes", bhyve(8)). Off, an MSR the guest needs and bhyve lacks is a
   * failure the suites see; on, it is hidden. Raw bhyve hosts only.
   */
  ignoreUnimplementedMsrs: z.boolean().default(false),
  /**
   * The host CPU each vCPU runs on, in vCPU order (one per vCPU): vCPUs that
   * stay put make quieter numbers (docs/noise.md). FreeBSD bhyve's `-p`;
   * on illumos, whose bhyve has no `-p`, pbind(8) of each "vcpu N" thread;
   * the lab's QEMU threads by taskset(1). Re-applied at every bhyve start.
   */
  pinVcpus: z.array(hostCpu).min(1).optional(),
}).superRefine((g, ctx) => {
  if (g.pinVcpus && g.pinVcpus.length !== g.vcpus) ctx.addIssue({ code: 'custom', path: ['pinVcpus'], message: `one host CPU per vCPU: ${g.vcpus} vCPU${g.vcpus === 1 ? '' : 's'}, ${g.pinVcpus.length} host CPU${g.pinVcpus.length === 1 ? '' : 's'} given` });
  if (g.os === 'windows' && g.access !== 'ssh') ctx.addIssue({ code: 'custom', path: ['access'], message: 'windows guests are reached over their OpenSSH server: set access: ssh and ssh: { address, knownHosts, identityFile }' });
  if (g.access === 'ssh' && !g.ssh) ctx.addIssue({ code: 'custom', path: ['ssh'], message: 'access: ssh needs ssh: { address, knownHosts, identityFile }' });
  // (A Windows guest on serial has its own error above; a password would not help it.)
  if (g.access === 'serial' && g.os !== 'windows' && !g.credentials.passwordEnv) ctx.addIssue({ code: 'custom', path: ['credentials', 'passwordEnv'], message: 'serial access logs in with a password: name the environment variable that holds it' });
  const methods = UPDATE_RECIPES[g.os].map((r) => r.method);
  if (g.update !== 'auto' && !methods.includes(g.update)) {
    ctx.addIssue({ code: 'custom', path: ['update'], message: `"${g.update}" is not an update for ${g.os} guests; use auto or one of ${methods.join(', ')}` });
  }
});

export const thresholdsSchema = z.strictObject({
  /** Power-on to a login prompt. */
  bootReady: duration.default('120s'),
  /** Reboot request to a login prompt. */
  rebootReady: duration.default('120s'),
  /** One command in the guest. */
  command: duration.default('60s'),
  /** An OS update run to completion (update-under-wrlock); keep testTimeout above it. */
  osUpdate: duration.default('30m'),
  /** One write-lock cycle; a longer one is a blocked write lock (a hang). */
  wrlockCycle: duration.default('2s'),
  /**
   * After a blocked cycle's evidence, how long it may still take to return.
   * One that does not has wedged the host: its vm is left as it is (destroying
   * it would block every vm operation on the host) and the host is out of the
   * run until it is rebooted.
   */
  wedgeGrace: duration.default('5s'),
  /**
   * A host that does not answer (its boot id read) for longer than this is
   * unresponsive: a finding on every test running there, as a host that
   * rebooted under them is (host-life/vitals.ts).
   */
  hostUnresponsive: duration.default('60s'),
  /** How long a host that died is waited for, to read its crash record, before its tests' findings are made without it. */
  hostReturn: duration.default('10m'),
  /** Once it is back, how long its crash record is waited for (savecore saves the dump at boot, and fmd diagnoses after). */
  crashRecordWait: duration.default('5m'),
  /**
   * A lease on a host's slot not renewed for this long is stale: its run died
   * (run/host-leases.ts). The next process that finds it breaks it; a run
   * renews its own every quarter of this.
   */
  leaseStale: duration.default('60s'),
  /** Silence between guest heartbeats; a longer one is a hang. Keep it near 3 heartbeat intervals. */
  heartbeatGap: duration.default('3s'),
  /** Throughput under each hammer dose, as a fraction of the same run's unstressed phase (paired). */
  throughputUnderHammer: z.number().min(0).max(1).default(0.5),
  /** The longest run of zero-throughput intervals allowed. */
  zeroThroughputRun: duration.default('3s'),
  /** After the hammer stops, throughput must be back to this fraction of unstressed ... */
  recovery: z.number().min(0).max(1).default(0.8),
  /** ... within this long. */
  recoveryWithin: duration.default('5s'),
});

export const stressSchema = z.strictObject({
  /** Reboots in a reboot loop (wrlock-reboot). */
  reboots: z.number().int().min(1).default(3),
  /** How long the guest stays up, hammered and watched, between reboots. */
  upBetweenReboots: duration.default('3s'),
  /** Length of each iperf3 phase (unstressed, light dose, hard dose, recovery). */
  iperfPhase: duration.default('10s'),
  /** The light dose: write-lock cycles per second. */
  lightRate: z.number().positive().default(10),
  /** wrlock-dose's ladder of hammer rates, cycles per second ('max': flat out). */
  doseLadder: z.array(z.union([z.number().positive(), z.literal('max')])).min(1).default([1, 3, 10, 30, 100, 'max']),
  /** How often the guest prints its heartbeat. */
  heartbeatInterval: duration.default('1s'),
});

// A metric's name, built in or a suite's own: whether a suite declares it is checked once the suites are loaded (checkGateMetrics).
const metricName = z.string().regex(OWN_METRIC_NAME, 'a metric name: lower-case words joined by "-"');
const fraction = z.number().gt(0).lt(1);

/** The A/B gate: how compare and `run --baseline` decide (see harness/verdict/statistics.ts). */
export const gateSchema = z.strictObject({
  /** A series is significant when its one-sided permutation p-value is below this. */
  significance: fraction.default(0.01),
  /** ... and flagged when also worse by more than this fraction of the baseline mean. */
  noiseThreshold: fraction.default(0.05),
  /** Random permutations per series (all of them when there are fewer distinct ones). */
  resamples: z.number().int().min(99).max(1_000_000).default(9999),
  seed: z.number().int().min(0).default(1),
  /**
   * holm: the significance level holds for the whole comparison (Holm–Bonferroni
   * over its series), so adding series does not add false alarms; none: per series.
   */
  familyWise: z.enum(['holm', 'none']).default('holm'),
  /** Gate runs: iterations in all, another one only while a series is flagged. */
  maxIterations: z.number().int().min(1).max(20).default(3),
  /**
   * The unit of a gate across boots (bhyve-smoke gate): `boot`, one sample a
   * boot (its tests' mean: tests of one boot share it, verdict/boots.ts); or
   * `test`, every test a sample — only where `calibrate` across reboots
   * showed boots do not matter (an ICC near 0).
   */
  bootUnit: z.enum(['boot', 'test']).default('boot'),
  /** Per-metric significance and noise threshold. */
  overrides: z.record(metricName, z.strictObject({ significance: fraction.optional(), noiseThreshold: fraction.optional() })).default({}),
  /** Series left out of the verdict (still reported), each with its reason. */
  ignore: z.array(z.strictObject({ metric: metricName, suite: z.string().optional(), guest: z.string().optional(), dose: z.string().optional(), reason: z.string().min(1) })).default([]),
});

/** A known issue: a failure whose console, evidence or messages match is labelled "known: ID". */
export const knownIssueSchema = z.strictObject({
  id: z.string().min(1),
  pattern: z.string().min(1).refine((p) => {
    try {
      new RegExp(p, 'm');
      return true;
    } catch {
      return false;
    }
  }, { error: (i) => `not a valid regular expression: ${JSON.stringify(i.input)}` }),
  /** Where to look (default: everywhere). */
  in: z.array(z.enum(['console', 'evidence', 'messages'])).default(['console', 'evidence', 'messages']),
  /** One line for the report: the bug and its status. */
  summary: z.string().optional(),
});

/**
 * A profile's overrides of a section: each key optional and none defaulted,
 * so a key the profile leaves out keeps the config's value (`partial()` would
 * fill the schema's default in over it: a profile naming bootReady put the
 * lab's throughputUnderHammer back to 0.5).
 */
function overridesOf<S extends z.ZodRawShape>(section: z.ZodObject<S>) {
  const shape = Object.fromEntries(Object.entries(section.shape).map(([k, v]) => [k, (v instanceof z.ZodDefault ? (v.unwrap() as z.ZodType) : (v as z.ZodType)).optional()]));
  return z.strictObject(shape) as unknown as ReturnType<z.ZodObject<S>['partial']>;
}

export const profileSchema = z.strictObject({
  thresholds: overridesOf(thresholdsSchema).optional(),
  stress: overridesOf(stressSchema).optional(),
  testTimeout: duration.optional(),
  globalTimeout: duration.optional(),
  repeatEach: z.number().int().min(1).optional(),
  retries: z.number().int().min(0).optional(),
  /** A skipped test fails the run (exit 1), as --fail-on-skip: a nightly whose host lost a capability goes red. */
  failOnSkip: z.boolean().optional(),
  /** A test that passed only on a retry fails the run (exit 1), as --fail-on-flaky-tests. */
  failOnFlakyTests: z.boolean().optional(),
  /** Per guest: its vCPUs pinned to these host CPUs in this profile's runs (as guests.X.pinVcpus), or false: not pinned. */
  pinVcpus: z.record(name, z.union([z.array(hostCpu).min(1), z.literal(false)])).optional(),
});

export const configSchema = z.strictObject({
  /** Prefix of every vm name: `<prefix>-<run id>-<n>`. */
  prefix: z.string().regex(/^[a-z][a-z0-9]{1,7}$/, '2 to 8 lower-case letters and digits').default('bsm'),
  hosts: z.record(name, hostSchema),
  guests: z.record(name, guestSchema),
  thresholds: thresholdsSchema.default(thresholdsSchema.parse({})),
  stress: stressSchema.default(stressSchema.parse({})),
  testTimeout: duration.default('15m'),
  globalTimeout: duration.default('4h'),
  profiles: z.record(name, profileSchema).default({}),
  gate: gateSchema.default(gateSchema.parse({})),
  knownIssues: z.array(knownIssueSchema).default([]),
  /** The user's suites: folders or files, relative to the config file (as Playwright's testDir). */
  suites: z.array(z.string().min(1)).default([]),
}).superRefine((c, ctx) => {
  // A profile pins guests there are, one host CPU per vCPU.
  for (const [p, profile] of Object.entries(c.profiles)) {
    for (const [g, cpus] of Object.entries(profile.pinVcpus ?? {})) {
      const guest = c.guests[g];
      const path = ['profiles', p, 'pinVcpus', g];
      if (!guest) ctx.addIssue({ code: 'custom', path, message: `no guest ${g} (guests: ${Object.keys(c.guests).join(', ')})` });
      else if (cpus && cpus.length !== guest.vcpus) ctx.addIssue({ code: 'custom', path, message: `one host CPU per vCPU: guest ${g} has ${guest.vcpus} vCPU${guest.vcpus === 1 ? '' : 's'}, ${cpus.length} host CPU${cpus.length === 1 ? '' : 's'} given` });
    }
  }
});

/** The config as a profile runs it: its guests' vCPU pinning overridden where the profile says (profiles.X.pinVcpus). */
export function withProfile(config: Config, profile: z.infer<typeof profileSchema> | undefined): Config {
  if (!profile?.pinVcpus) return config;
  const guests = { ...config.guests };
  for (const [g, cpus] of Object.entries(profile.pinVcpus)) {
    const { pinVcpus: _, ...rest } = guests[g];
    guests[g] = cpus === false ? rest : { ...rest, pinVcpus: cpus };
  }
  return { ...config, guests };
}

export type HostConfig = z.infer<typeof hostSchema>;
export type GuestConfig = z.infer<typeof guestSchema>;
export type Thresholds = z.infer<typeof thresholdsSchema>;
export type GateConfig = z.infer<typeof gateSchema>;
export type KnownIssue = z.infer<typeof knownIssueSchema>;
export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Typed config for bhyve-smoke.config.ts. */
export const defineConfig = (config: ConfigInput): ConfigInput => config;

/**
 * The gate section names only metrics there are: built in, or declared by a
 * loaded suite (`known`). Checked once the suites are loaded, as the schema
 * cannot know a user's suites; a misspelt name is a usage error naming where.
 */
export function checkGateMetrics(gate: GateConfig, source: string, known: ReadonlySet<string>): void {
  const named = [
    ...Object.keys(gate.overrides).map((m) => [`gate.overrides.${m}`, m] as const),
    ...gate.ignore.map((x, i) => [`gate.ignore.${i}.metric`, x.metric] as const),
  ];
  for (const [path, metric] of named) {
    if (!known.has(metric)) throw new ConfigError(`${source}: ${path}: unknown metric "${metric}" (known: ${[...known].join(', ')})`);
  }
}
