// A vm: one running instance of a guest on a host, owned by one run. It is
// made as its platform makes vms (raw bhyve under the host-side supervisor,
// or a zone of the bhyve brand), reached through its serial
// console, and always destroyed by the runner (unless kept for inspection).
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GuestConfig } from './config/schema.ts';
import { CheckFailure, InfraError } from './errors.ts';
import type { GuestAccess } from './guest/adapters.ts';
import type { GuestAdapter } from './guest/adapter.ts';
import { RemoteShell, type RemoteShellAdapter } from './guest/remote-shell.ts';
import { ConsoleSession } from './guest/console.ts';
import type { Host } from './host.ts';
import { parseExits } from './platform/supervisor.ts';
import { UnexpectedOutput } from './platform/host-output.ts';
import { DESTROY_MS } from './platform/teardown.ts';
import type { Timeline } from './timeline.ts';
import type { ConsoleSpec, FramebufferSettings, FramebufferSpec, VmPlan, VmRequest } from './platform/types.ts';
import { Screen } from './evidence/screen.ts';
import { diskImageFor } from './image/disk-image.ts';
import { Secrets } from './secrets.ts';
import type { Duplex } from 'node:stream';
import { shQuote } from './transport/quote.ts';
import { bhyvectlFailure } from './platform/bhyvectl.ts';
import { pinnedAfterStart } from './platform/vcpu-pinning.ts';

const CONSOLE_CONNECT_MS = 30_000;
const LOGIN_STEP_MS = 20_000;
/** A newline at a quiet console brings the login prompt back. */
const POKE_EVERY_MS = 3_000;
const EXIT_POLL_MS = 500;

export interface VmOptions {
  host: Host;
  name: string;
  guestName: string;
  guest: GuestConfig;
  access: GuestAccess;
  /** For serial access; empty for ssh (a key on the host). */
  password: string;
  /** The run's folder on the host. */
  runDir: string;
  /** The guest's framebuffer (guests.<name>.framebuffer), its VNC password resolved. */
  framebuffer?: FramebufferSettings;
  timeline: Timeline;
  commandTimeoutMs: number;
}

export interface CommandResult {
  command: string;
  output: string;
  status: number;
}

export class Vm {
  readonly name: string;
  readonly host: Host;
  readonly dir: string;
  readonly console: ConsoleSession;
  readonly consoleSpec: ConsoleSpec;
  /** The fbuf device and where its VNC is, when the guest has a screen. */
  readonly framebuffer?: FramebufferSpec;
  /** Its guest and VNC passwords: masked in everything written down about it. */
  readonly secrets: Secrets;
  /** Screenshots of the framebuffer (a no-op without one; `every(label)` during a long workload); the runner gives it its browser. */
  screen: Screen = Screen.none();
  /** How commands reach the guest: its serial console, or (ssh access) a shell over its OpenSSH server. */
  private readonly reach: Extract<GuestAccess, { kind: 'serial' }> | { kind: 'ssh'; adapter: RemoteShellAdapter; shell: RemoteShell };
  private reboots = 0;
  /** Exposure: guest reboots and forced resets done, and when its bhyve first started (vm-time runs from there). */
  private resets = 0;
  private startedAt?: number;
  /** How the platform makes, starts and removes the vm; set at provisioning. */
  private plan?: VmPlan;
  private vmmName?: string;
  /** Its vCPUs' pinning, as the host applied it (guests.X.pinVcpus), in words. */
  pinned?: string;

  constructor(private readonly o: VmOptions) {
    this.name = o.name;
    this.host = o.host;
    this.reach = o.access.kind === 'ssh'
      ? { kind: 'ssh', adapter: o.access.adapter, shell: new RemoteShell(o.host, o.access.target, o.access.adapter, `${o.name} on ${o.host.name}`) }
      : o.access;
    this.dir = `${o.runDir}/${o.name}`;
    this.consoleSpec = o.host.platform.console(this.dir, o.name);
    if (o.framebuffer) this.framebuffer = o.host.platform.framebuffer(this.dir, o.name, o.framebuffer);
    this.secrets = new Secrets([o.password, o.framebuffer?.password]);
    const attach = this.consoleSpec.attach;
    this.console = new ConsoleSession(
      () => (attach.kind === 'unix' ? o.host.transport.connectUnix(attach.path) : o.host.transport.openStream(attach.command)),
      `${o.name} on ${o.host.name}`,
      this.secrets,
    );
  }

  /** The name bhyvectl and the vmm kstats know the vm by: its name, or (a SmartOS zone) `SYSbhyve-<zone debug id>`. */
  get vmm(): string {
    return this.vmmName ?? this.name;
  }

  /** What the host's tools call the vm: its name, or the uuid vmadm knows it by. */
  get id(): string {
    return this.plan?.id ?? this.name;
  }

  get os() {
    return this.reach.adapter.os;
  }

  /** How the guest is updated (guests.<name>.update): a method, or auto-detect. */
  get updateMethod() {
    return this.o.guest.update;
  }

  /** The guest OS's commands for looking around (see guest/adapter.ts). */
  get probes() {
    return this.reach.adapter.probes;
  }

  /** Creates the vm's folder, and the vm as its platform makes them (a disk clone and bhyve under the supervisor, or a zone). */
  async provision(): Promise<void> {
    const { host, guest } = this.o;
    this.o.timeline.event('provision', `${this.name} on ${host.name}`);
    const dir = shQuote(this.dir);
    // A plan first: a host that cannot take the image is a config mistake, found before anything is made.
    const request: VmRequest = {
      name: this.name,
      dir: this.dir,
      cpus: guest.vcpus,
      memoryMiB: guest.memory.endsWith('G') ? Number(guest.memory.slice(0, -1)) * 1024 : Number(guest.memory.slice(0, -1)),
      guest: this.o.guestName,
      bootrom: guest.image.bootrom,
      ...(guest.ignoreUnimplementedMsrs ? { ignoreUnimplementedMsrs: true } : {}),
      ...(guest.pinVcpus ? { pinVcpus: guest.pinVcpus } : {}),
      image: diskImageFor(guest, host.name, host.config.pool),
      console: this.consoleSpec,
      ...(this.framebuffer && this.o.framebuffer ? { framebuffer: { ...this.framebuffer, settings: this.o.framebuffer } } : {}),
    };
    this.plan = host.platform.plan(host, request);
    await host.exec(`mkdir -p ${dir} && chmod 700 ${dir}`, { doing: `creating ${this.dir}` });
    // The command line carries the VNC password; the runner masks it in all it records of this vm (vm.secrets).
    this.startedAt ??= Date.now();
    const started = await this.plan.start();
    this.vmmName = started.vmm;
    this.o.timeline.event('started', started.commandLine);
    // bhyve can fail as it starts (a device that cannot initialize: exit 4): say so with its log, at once.
    let connected = false;
    try {
      await Promise.race([this.console.connect(CONSOLE_CONNECT_MS), this.exitedBefore(() => connected)]);
    } finally {
      connected = true;
    }
    // Pinned once bhyve runs (re-pinned at every start of it); a pinning that failed is said, never run unpinned.
    if (request.pinVcpus) {
      this.pinned = await pinnedAfterStart(host, request, request.pinVcpus);
      this.o.timeline.event('vcpus-pinned', this.pinned);
    }
  }

  /** Rejects when bhyve exits before `done()` turns true, with what it said; never resolves otherwise. */
  private async exitedBefore(done: () => boolean): Promise<never> {
    while (!done()) {
      const exits = await this.exits();
      if (exits.length && !done()) {
        const log = await this.host.exec(`tail -n 20 ${shQuote(`${this.dir}/bhyve.log`)} 2>/dev/null; true`, { doing: `reading the bhyve log of ${this.name}` });
        throw new InfraError(`${this.name}: bhyve exited ${exits[0].status} as it started${log.stdout.trim() ? `:\n${log.stdout.trim()}` : ''}`, { output: log.stdout });
      }
      await sleep(EXIT_POLL_MS);
    }
    return new Promise<never>(() => {});
  }

  /** The framebuffer's plain RFB stream, through the host's transport. */
  connectFramebuffer(): Promise<Duplex> {
    const at = this.framebuffer?.endpoint;
    if (!at) return Promise.reject(new Error(`${this.name} has no framebuffer`));
    return at.kind === 'unix' ? this.host.transport.connectUnix(at.path) : this.host.transport.connectTcp(at.host, at.port);
  }

  /** Waits for the login prompt: the guest is ready. */
  async waitReady(timeoutMs: number): Promise<number> {
    const started = Date.now();
    await this.untilReady(timeoutMs, 'login prompt');
    const ms = Date.now() - started;
    this.o.timeline.event('ready', `${ms} ms`);
    void this.screen.capture('boot');
    return ms;
  }

  /** The login prompt on the console, or (ssh access) a shell over ssh. */
  private async untilReady(timeoutMs: number, what: string): Promise<void> {
    if (this.reach.kind === 'ssh') return this.reach.shell.waitReady(timeoutMs);
    await this.console.expect(this.reach.adapter.loginPrompt, timeoutMs, what, { text: '\n', everyMs: POKE_EVERY_MS });
  }

  /** Logs in on the console. The password is typed, never logged or recorded. Over ssh each command authenticates with its key. */
  async login(): Promise<void> {
    if (this.reach.kind === 'ssh') {
      this.o.timeline.event('logged-in', 'ssh');
      return;
    }
    const { adapter } = this.reach;
    const con = this.console;
    con.clear();
    con.write('\n');
    await con.expect(adapter.loginPrompt, LOGIN_STEP_MS, 'login prompt', { text: '\n', everyMs: POKE_EVERY_MS });
    con.write(`${this.o.guest.credentials.user}\n`);
    await con.expect(adapter.passwordPrompt, LOGIN_STEP_MS, 'password prompt');
    con.write(`${this.o.password}\n`);
    const m = await con.expect(new RegExp(`${adapter.shellPrompt.source}|Login incorrect`), LOGIN_STEP_MS, 'shell prompt after login');
    if (/Login incorrect/.test(m[0])) {
      throw new InfraError(`console ${this.name}: login as ${this.o.guest.credentials.user} was refused (check guests.${this.o.guestName}.credentials)`);
    }
    con.write(adapter.shellSetup);
    await con.expect(adapter.shellPrompt, LOGIN_STEP_MS, 'shell prompt after setup');
    this.o.timeline.event('logged-in');
  }

  /** Runs a command in the guest; a non-zero status is a failed check unless allowed. */
  async run(command: string, opts: { timeoutMs?: number; allowFailure?: boolean } = {}): Promise<CommandResult> {
    const timeoutMs = opts.timeoutMs ?? this.o.commandTimeoutMs;
    const reach = this.reach;
    const result = { command, ...(reach.kind === 'ssh' ? await reach.shell.run(command, timeoutMs) : await this.runOnConsole(reach.adapter, command, timeoutMs)) };
    if (result.status !== 0 && !opts.allowFailure) {
      throw new CheckFailure(`\`${command}\` in ${this.name} exited ${result.status}:\n${result.output.trim().slice(-2000)}`);
    }
    return result;
  }

  /** Types a framed command on the console and reads its output and status back. */
  private async runOnConsole(adapter: GuestAdapter, command: string, timeoutMs: number): Promise<{ output: string; status: number }> {
    const framed = adapter.frame(command, `BSM${randomBytes(4).toString('hex')}`);
    this.console.clear();
    this.console.write(framed.line);
    const deadline = Date.now() + timeoutMs;
    let text = '';
    for (;;) {
      const m = await this.console.expect(/[\s\S]+/, Math.max(1, deadline - Date.now()), `the end of \`${command}\``);
      text += m[0];
      const parsed = framed.parse(text);
      if (parsed) return parsed;
    }
  }

  /** Runs a command until its output matches (a guest still settling after boot). Returns the last output. */
  async poll(command: string, pattern: RegExp, timeoutMs: number, everyMs = 1_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { output } = await this.run(command, { allowFailure: true });
      if (pattern.test(output) || Date.now() + everyMs > deadline) return output;
      await sleep(everyMs);
    }
  }

  /** Starts the guest's heartbeat loop (watch/heartbeat.ts reads it). */
  async startHeartbeat(intervalMs: number): Promise<void> {
    const seconds = Math.max(1, Math.round(intervalMs / 1000));
    // Over ssh the loop runs in a session of its own; its beats reach the same listener as the console's.
    if (this.reach.kind === 'ssh') this.reach.shell.startHeartbeat(seconds, (uptime) => this.console.onHeartbeat(uptime));
    else await this.run(this.reach.adapter.heartbeat(seconds));
  }

  /** Where the host reaches this vm's iperf3 server: the platform's forward, or the guest's address. */
  async iperf3Target(): Promise<string> {
    const p = this.host.platform;
    if (p.iperf3Target) {
      const r = await this.host.exec(p.iperf3Target(this.name), { doing: `finding the iperf3 forward of ${this.name}` });
      const target = r.stdout.trim();
      if (/^[\w.-]+:\d+$/.test(target)) return target;
      throw new UnexpectedOutput({ command: r.command, expected: `HOST:PORT, where the host reaches the iperf3 server of ${this.name}` }, r.stdout, target ? 'not that' : 'no forward for the vm');
    }
    const ip = (await this.run(this.probes.ipv4)).output.trim();
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip)) throw new InfraError(`${this.name}: no IPv4 address in the guest (got ${JSON.stringify(ip)})`);
    return `${ip}:5201`;
  }

  /** bhyve's exits so far, from the supervisor's log. */
  async exits(): Promise<Array<{ at: string; status: number }>> {
    const r = await this.host.exec(`cat ${shQuote(`${this.dir}/exits`)} 2>/dev/null; true`, { doing: `reading the exits of ${this.name}` });
    return parseExits(r.stdout, `${this.dir}/exits`);
  }

  /** Waits until bhyve has exited `count` times in all; returns the last status. */
  async waitForExit(count: number, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const exits = await this.exits();
      if (exits.length >= count) return exits[count - 1].status;
      if (Date.now() > deadline) throw new InfraError(`${this.name}: bhyve did not exit within ${timeoutMs} ms`, { output: this.console.tail(2000) });
      await sleep(EXIT_POLL_MS);
    }
  }

  /** Guest-initiated reboot: bhyve exits 0, the supervisor restarts it, the guest comes back. Returns ms to ready. */
  async reboot(timeoutMs: number): Promise<number> {
    const before = (await this.exits()).length;
    await this.screen.settle();
    this.o.timeline.event('reboot-requested');
    const started = Date.now();
    this.console.clear();
    await this.send(this.reach.adapter.rebootCommand);
    const status = await this.waitForExit(before + 1, timeoutMs);
    if (status !== 0) throw new CheckFailure(`${this.name}: reboot ended bhyve with exit ${status}, expected 0 (rebooted)`);
    this.o.timeline.event('rebooted');
    this.resets++;
    await this.untilReady(Math.max(1, timeoutMs - (Date.now() - started)), 'login prompt after reboot');
    const ms = Date.now() - started;
    this.o.timeline.event('ready', `${ms} ms after reboot`);
    void this.screen.capture(`reboot ${++this.reboots}`);
    return ms;
  }

  /** Guest-initiated poweroff: bhyve must exit 1 and the supervisor stop. */
  async shutdown(timeoutMs: number): Promise<number> {
    const before = (await this.exits()).length;
    await this.screen.settle();
    this.o.timeline.event('shutdown-requested');
    await this.send(this.reach.adapter.poweroffCommand);
    const status = await this.waitForExit(before + 1, timeoutMs);
    this.o.timeline.event('powered-off', `bhyve exit ${status}`);
    return status;
  }

  /** Sends a command the guest's shell will not answer (reboot, poweroff). */
  private async send(command: string): Promise<void> {
    if (this.reach.kind === 'ssh') {
      this.reach.shell.stopHeartbeat();
      await this.reach.shell.fireAndForget(command);
    } else {
      this.console.write(`${command}\n`);
    }
  }

  /** Host-forced reset (`bhyvectl --force-reset`): bhyve exits 0 and the supervisor (or the zone brand) restarts it. */
  async forceReset(): Promise<void> {
    await this.screen.settle();
    this.o.timeline.event('force-reset');
    await this.bhyvectl('--force-reset', `resetting ${this.name}`);
    this.resets++;
  }

  /** Host-forced poweroff (`bhyvectl --force-poweroff`): bhyve exits 1 and the supervisor stops. */
  async forcePoweroff(): Promise<void> {
    await this.screen.settle();
    this.o.timeline.event('force-poweroff');
    await this.bhyvectl('--force-poweroff', `powering off ${this.name}`);
  }

  /** One bhyvectl call on this vm; a failure names the errno bhyvectl printed (platform/bhyvectl.ts). */
  private async bhyvectl(option: string, doing: string): Promise<void> {
    const p = this.host.platform;
    const r = await this.host.exec(`${shQuote(p.bhyvectl)} --vm=${shQuote(this.vmm)} ${option}`, { doing, check: false });
    if (r.exitCode !== 0 || r.timedOut) {
      throw new InfraError(`host ${this.host.name}: bhyvectl ${option} of ${this.name} failed while ${doing}: ${bhyvectlFailure(r, p.errnoNames)}`, { command: r.command, output: `${r.stdout}${r.stderr}`, doing });
    }
  }

  /** Stops the supervisor and bhyve and removes everything of the vm from the host. Idempotent. */
  /** What the vm went through so far: guest reboots and forced resets, and seconds since its bhyve first started. */
  get exposure(): { guestReboots: number; vmSeconds: number } {
    return { guestReboots: this.resets, vmSeconds: this.startedAt === undefined ? 0 : Math.round((Date.now() - this.startedAt) / 100) / 10 };
  }

  async destroy(): Promise<void> {
    this.console.close();
    if (this.reach.kind === 'ssh') this.reach.shell.stopHeartbeat();
    const plan = this.plan;
    if (!plan) return;
    // Only what this vm made: a plan that stopped before creating anything leaves the host as it found it, but for the folder.
    const command = plan.created ? plan.destroy : `rm -rf ${shQuote(this.dir)}`;
    await this.host.exec(command, { doing: `destroying ${this.name}`, timeoutMs: DESTROY_MS });
    this.plan = undefined;
    // Looked for, not trusted: bhyvectl --destroy exits 0 whatever became of the vm.
    const left = plan.created ? await this.remains(plan) : [];
    if (left.length) {
      throw new InfraError(`${this.name} on ${this.host.name}: teardown left ${left.join(', ')}; the run record keeps them for \`bhyve-smoke clean\``);
    }
    this.o.timeline.event('destroyed');
  }

  /** What of the vm is still on its host: in the platform's vm listing, its link, its folder and disk clone. */
  private async remains(plan: VmPlan): Promise<string[]> {
    const p = this.host.platform;
    const doing = `checking that ${this.name} is gone`;
    const listed = await this.host.exec(p.listVms.command, { doing });
    const left = p.listVms.parse(listed.stdout).filter((v) => v.id === plan.id || v.name === this.name).map((v) => `vm ${v.id} (still in \`${p.listVms.command}\`)`);
    if (p.links) {
      const links = await this.host.exec(p.links.list.command, { doing });
      left.push(...p.links.list.parse(links.stdout).filter((l) => l.vm === this.name).map((l) => `link ${l.link}`));
    }
    left.push(...(await this.host.exec(plan.remains, { doing })).stdout.split('\n').map((l) => l.trim()).filter(Boolean));
    return left;
  }
}
