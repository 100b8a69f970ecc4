// What a host offers the tests, probed at `doctor` and at the start of every
// run rather than assumed from its platform: the write-lock hook, the vCPU
// counters the progress watch reads, the framebuffer device, a link per vm.
// Read from the tools' own answers, which change nothing on the host:
// bhyvectl's usage text and the device list of `bhyve -s help`. A test whose
// suite needs what its host lacks is skipped with the reason; results.json
// keeps each host's capabilities beside its fingerprint.
import type { Capability, Platform } from './types.ts';
import { readLines, UnexpectedOutput } from './host-output.ts';
import { shQuote } from '../transport/quote.ts';

export interface CapabilityFinding {
  present: boolean;
  /** How it was told, or why it is missing: what a skipped test's reason quotes. */
  detail: string;
}
export type HostCapabilities = Record<Capability, CapabilityFinding>;
export type { Capability };

/**
 * bhyvectl's usage text: illumos and FreeBSD bhyvectl print usage() on
 * stderr and exit 1 when no --vm is given (bhyvectl.c main(): `if (vmname ==
 * NULL) usage(...)`), a `Usage: bhyvectl --vm=<vmname>` line, then the options,
 * `[--wrlock-cycle]` and `[--get-stats]` among them on illumos (usage() of the
 * 2023 bhyvectl.c, read from citrus-it/illumos-omnios).
 */
export const bhyvectlUsage = (p: Platform) => `${shQuote(p.bhyvectl)} 2>&1; true`;

/** The options a usage text lists. */
export function parseBhyvectlUsage(text: string, command: string): Set<string> {
  if (!/^Usage: \S*bhyvectl --vm=/m.test(text)) {
    throw new UnexpectedOutput({ command, expected: 'bhyvectl\'s usage text, beginning `Usage: bhyvectl --vm=<vmname>` (bhyvectl.c usage())' }, text, 'no usage line');
  }
  return new Set(text.match(/--[a-z][a-z0-9-]*/g));
}

/**
 * bhyve's PCI device emulations: `-s help` prints each one's name a line and
 * exits 0 (illumos and FreeBSD bhyverun_machdep.c bhyve_optparse(),
 * pci_emul.c pci_print_supported_devices()); the framebuffer is `fbuf`
 * (pci_fbuf.c).
 */
export const bhyveDevices = (p: Platform) => `${shQuote(p.bhyve)} -s help 2>&1; true`;

export function parseDeviceList(text: string, command: string): Set<string> {
  return new Set(readLines(text, { command, expected: 'one PCI device emulation a line (pci_emul.c pci_print_supported_devices())' }, /^[a-z][a-z0-9_-]*$/, (m) => m[0]));
}

/** A probe's answer read by its parser: the set it lists, or why it could not be read. */
function read<T>(parse: () => T): T | string {
  try {
    return parse();
  } catch (e) {
    if (e instanceof UnexpectedOutput) return e.message;
    throw e;
  }
}

/**
 * The host's capabilities from the answers to bhyvectlUsage and bhyveDevices
 * (their exit status is not theirs to tell: usage() exits 1), and whether the
 * checks of the vm network passed (`links`).
 */
export function judgeCapabilities(p: Platform, answers: { usage: string; devices: string; trace?: string }, links: { ok: boolean; detail: string }): HostCapabilities {
  const usage = read(() => parseBhyvectlUsage(answers.usage, `${p.bhyvectl} (no arguments)`));
  const devices = read(() => parseDeviceList(answers.devices, `${p.bhyve} -s help`));
  const lists = (set: Set<string> | string, what: string, source: string): CapabilityFinding =>
    typeof set === 'string'
      ? { present: false, detail: `could not tell: ${set}` }
      : set.has(what) ? { present: true, detail: `${source} lists ${what}` } : { present: false, detail: `${source} lists no ${what}` };
  const probed: HostCapabilities = {
    wrlock: lists(usage, '--wrlock-cycle', `${p.bhyvectl}'s usage`),
    'vcpu-stats': p.vcpuProgress.source === 'kstat'
      // The vmm kstats exist per vm (vmm_sol_dev.c vmm_kstat_alloc()): their fields are checked at each vm's first sample.
      ? { present: true, detail: 'the vmm kstats of each vm (kstat -p vmm:…), checked at its first sample' }
      : lists(usage, '--get-stats', `${p.bhyvectl}'s usage`),
    'wrlock-trace': judgeTrace(p, answers.trace),
    framebuffer: lists(devices, 'fbuf', `${p.bhyve} -s help`),
    links: { present: links.ok, detail: links.detail },
  };
  // What the platform is known to lack stays lacking, whatever its tools answer.
  for (const [c, why] of Object.entries(p.lacks ?? {}) as Array<[Capability, string]>) probed[c] = { present: false, detail: why };
  return probed;
}

/** Whether the host can time write-lock cycles in its kernel: its tracer's probe (wrlock-trace.ts), judged. */
function judgeTrace(p: Platform, answer: string | undefined): CapabilityFinding {
  if (!p.wrlockTrace) return { present: false, detail: `${p.kind} hosts have no write-lock tracer` };
  if (answer === undefined) return { present: false, detail: 'its tracer was not probed' };
  const judged = p.wrlockTrace.probe.judge(answer);
  return judged === true ? { present: true, detail: p.wrlockTrace.timing } : { present: false, detail: judged };
}

/** A capability a host lacks, in the words a skipped test gives. */
export const lacking = (host: string, c: Capability, f?: CapabilityFinding) => `host ${host} has no ${c} capability: ${f?.detail ?? 'it was not probed'}`;

