// Drives the lab's bhyve and bhyvectl directly, as a host's shell would, for
// the lab's own tests. Every vm gets a fresh run root so tests never share state.
import { execa, execaSync, type ResultPromise } from 'execa';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before } from 'node:test';
import { BUILTIN_CONFIG } from '../../harness/config/defaults.ts';
import { validate } from '../../harness/config/load.ts';
import { createHost, type Host } from '../../harness/host.ts';

export const LAB_BIN = resolve(import.meta.dirname, '../../fixtures/lab/bin');
export const labGuestDir = () =>
  join(process.env.BHYVE_LAB_CACHE ?? join(process.env.HOME ?? '/root', '.cache/bhyve-smoke/lab'), 'guest');
export const LAB_PASSWORD = 'lab-guest-secret';

/** The lab's default run root (as bhyve and bhyvectl pick it), and the vms in it. */
export const LAB_RUN_ROOT = `/tmp/bhyve-lab-${process.getuid?.() ?? 0}`;
export const labVmNames = (): string[] => (existsSync(`${LAB_RUN_ROOT}/vmm`) ? readdirSync(`${LAB_RUN_ROOT}/vmm`) : []);

/**
 * A run root of its own (short: unix socket paths are limited). Its cleanup
 * resets that lab host first, as a reboot would: a vm a test left there on
 * purpose (wedged, kept) must not outlive the root that records its pids.
 */
export function labRunRoot(): { root: string; env: Record<string, string>; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'bl-'));
  return {
    root,
    env: { BHYVE_LAB_RUNDIR: root },
    cleanup: () => {
      execaSync(join(LAB_BIN, 'lab-host-reset'), [], { env: { BHYVE_LAB_RUNDIR: root }, stdio: 'ignore' });
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * Runs a lab command with a deadline (a blocked bhyvectl comes back as
 * timedOut). It runs in a process group of its own, and the whole group is
 * killed at the deadline, children and all.
 */
export async function runBounded(file: string, args: string[], env: Record<string, string>, timeoutMs: number) {
  const child = execa(file, args, { env, reject: false, detached: true });
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }, timeoutMs);
  const r = await child;
  clearTimeout(timer);
  const timedOut = r.signal === 'SIGKILL';
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), timedOut };
}

export interface LabVm {
  name: string;
  dir: string;
  console: string;
  env: Record<string, string>;
  bhyve: ResultPromise;
  bhyvectl(...args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string; timedOut: boolean }>;
  consoleText(): string;
  waitForConsole(pattern: RegExp, timeoutMs: number, from?: number): Promise<void>;
  /** Starts bhyve again on the same vm, as the supervisor does after a reboot. */
  restart(): ResultPromise;
}

/** The VNIC a test vm gets (a link name takes no '-': libdladm dladm_valid_linkname()). */
export const labVnic = (vmName: string) => vmName.replace(/-/g, '_');

/** Makes a vm's VNIC over the lab's physical link, as a host does before bhyve starts. */
export function createLabVnic(vmName: string, env: Record<string, string>): void {
  const r = execaSync(join(LAB_BIN, 'dladm'), ['create-vnic', '-t', '-l', 'user0', labVnic(vmName)], { env, reject: false });
  // Already there is fine (a test that starts its vm twice); anything else is the test's mistake, said now.
  if (r.exitCode !== 0 && !/exists/.test(String(r.stderr))) throw new Error(`dladm create-vnic ${labVnic(vmName)}: ${r.stderr}`);
}

export function bhyveArgs(name: string, consolePath: string, extra: string[] = []): string[] {
  return [
    '-c', '1', '-m', '256M', '-H',
    '-s', '0,hostbridge', '-s', '1,lpc',
    '-s', `6,virtio-net-viona,${labVnic(name)}`,
    ...extra,
    '-l', `com1,socket,${consolePath}`,
    '-l', `bootrom,${labGuestDir()}`,
    name,
  ];
}

export function startLabVm(name: string, env: Record<string, string>, extra: string[] = []): LabVm {
  const dir = join(env.BHYVE_LAB_RUNDIR, 'vmm', name);
  const consolePath = join(env.BHYVE_LAB_RUNDIR, `${name}.sock`);
  createLabVnic(name, env);
  const start = () =>
    execa(join(LAB_BIN, 'bhyve'), bhyveArgs(name, consolePath, extra), { env, reject: false, detached: true });
  const vm: LabVm = {
    name, dir, console: consolePath, env,
    bhyve: start(),
    bhyvectl: (...args) => runBounded(join(LAB_BIN, 'bhyvectl'), [`--vm=${name}`, ...args], env, 30_000),
    consoleText: () => (existsSync(join(dir, 'console.log')) ? readFileSync(join(dir, 'console.log'), 'latin1') : ''),
    async waitForConsole(pattern, timeoutMs, from = 0) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(vm.consoleText().slice(from))) {
        if (Date.now() > deadline) {
          throw new Error(`console of ${name} did not show ${pattern} within ${timeoutMs} ms; tail:\n${vm.consoleText().slice(-600)}`);
        }
        await sleep(100);
      }
    },
    restart: () => (vm.bhyve = start()),
  };
  return vm;
}

/**
 * A vCPU's run-time counter from `bhyvectl --get-stats` (the lab's `lab: vcpu
 * thread cpu time (ns)` line). Fails when the line is not there: a missing
 * counter must never read as a number that stands still.
 */
export async function vcpuTime(vm: LabVm, cpu = 0): Promise<number> {
  const r = await vm.bhyvectl('--get-stats', `--cpu=${cpu}`);
  const m = /^lab: vcpu thread cpu time \(ns\)\s*\t(\d+)$/m.exec(r.stdout);
  if (!m) throw new Error(`no vCPU ${cpu} time counter in \`bhyvectl --vm=${vm.name} --get-stats\` (exit ${r.exitCode}${r.timedOut ? ', timed out' : ''}):\n${r.stdout}${r.stderr}`);
  return Number(m[1]);
}

/** The lab's stand-in for rebooting the host: ends every vm of the run root, wedged ones too. */
export const resetLabHost = (env: Record<string, string>) => execa(join(LAB_BIN, 'lab-host-reset'), [], { env, reject: false, timeout: 30_000 });

/** A serial console connection that logs in and runs commands, for checking the guest's side. */
export class Serial {
  private buffer = '';
  private constructor(private socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (this.buffer += d));
    socket.on('error', () => {});
  }

  static async open(path: string, timeoutMs = 10_000): Promise<Serial> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await new Promise<Socket>((res, rej) => {
          const s = connect(path, () => res(s));
          s.once('error', rej);
        });
        return new Serial(socket);
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await sleep(100);
      }
    }
  }

  async expect(pattern: RegExp, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.buffer.match(pattern);
      if (m) {
        this.buffer = this.buffer.slice((m.index ?? 0) + m[0].length);
        return m[0];
      }
      if (Date.now() > deadline) throw new Error(`serial: no ${pattern} within ${timeoutMs} ms; got:\n${this.buffer.slice(-500)}`);
      await sleep(50);
    }
  }

  write(text: string): void {
    this.socket.write(text);
  }

  async login(password = LAB_PASSWORD): Promise<void> {
    this.write('\n');
    await this.expect(/login: $/m, 20_000);
    this.write('root\n');
    await this.expect(/Password: $/m, 10_000);
    this.write(`${password}\n`);
    // busybox ash asks the terminal for the cursor position (ESC [6n) after each prompt.
    await this.expect(/# (\x1b\[6n)?$/, 10_000);
  }

  /** Runs a command and returns its output, framed by markers so echo and prompts do not matter. */
  async run(command: string, timeoutMs = 10_000): Promise<string> {
    const tag = `T${Math.random().toString(36).slice(2, 8)}`;
    this.buffer = '';
    this.write(`echo ${tag}B; ${command}; echo ${tag}E\n`);
    await this.expect(new RegExp(`\\n${tag}B\\r?\\n`), timeoutMs);
    const out = await this.expect(new RegExp(`[\\s\\S]*?${tag}E\\r?\\n`), timeoutMs);
    return out.replace(new RegExp(`${tag}E\\r?\\n$`), '').replace(/\r/g, '');
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * A process id, or the test fails: an integer above 1. An empty or garbled pid
 * file read with Number() is 0 or NaN, and kill(0) signals the test runner's own
 * process group, kill(NaN) throws like a process that is gone.
 */
export function checkedPid(pid: number, what: string): number {
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`not a process id: ${what}`);
  return pid;
}

/** The pid in a pid file, checked (checkedPid). */
export const readPid = (file: string): number => {
  const text = readFileSync(file, 'utf8');
  return checkedPid(Number(text.trim()), `${file} holds ${JSON.stringify(text)}`);
};

/** Whether a process runs: only "no such process" (ESRCH) is no; any other failure fails the test. */
export function isAlive(pid: number): boolean {
  checkedPid(pid, String(pid));
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    if ((e as NodeJS.ErrnoException).code === 'EPERM') return true;
    throw e;
  }
}

/**
 * The processes whose command line matches `pattern` (`pgrep -af`), one a line;
 * '' only when pgrep says none matched (exit 1). A pgrep that cannot run or
 * fails otherwise (exit 2, 3: procps pgrep(1)) fails the test instead of
 * reading as "no process left".
 */
export async function pgrep(pattern: string): Promise<string> {
  const r = await execa('pgrep', ['-af', pattern], { reject: false });
  if (r.exitCode === 0) return String(r.stdout).trim();
  if (r.exitCode === 1 && !r.stderr) return '';
  throw new Error(`pgrep -af ${pattern} could not tell: ${r.exitCode === undefined ? r.message : `exit ${r.exitCode}`} ${r.stderr}`);
}

/**
 * A lab vm started before a describe block's tests and destroyed after them,
 * with the lab host the harness sees: for tests of host-side watches.
 */
export function labVmForSuite(name: string): { host: Host; vm: () => LabVm } {
  const run = labRunRoot();
  const host = createHost('lab', validate(BUILTIN_CONFIG, 'built-in').hosts.lab);
  let vm: LabVm;
  before(async () => {
    process.env.BHYVE_LAB_RUNDIR = run.root; // the local transport hands it to bhyvectl
    vm = startLabVm(name, run.env);
    // Running: its control socket served (its vCPUs released then) and its vCPU counter moving.
    for (let i = 0; i < 100 && !existsSync(`${vm.dir}/ctl.sock`); i++) await sleep(100);
    if (!existsSync(`${vm.dir}/ctl.sock`)) throw new Error(`lab vm ${name} never served its control socket within 10 s:\n${vm.consoleText().slice(-600)}`);
    const first = await vcpuTime(vm);
    await sleep(500);
    if ((await vcpuTime(vm)) <= first) throw new Error(`lab vm ${name} runs no vCPU: its counter stood at ${first}`);
  });
  after(async () => {
    delete process.env.BHYVE_LAB_RUNDIR;
    await vm.bhyvectl('--destroy');
    await host.close();
    run.cleanup();
  });
  return { host, vm: () => vm };
}
