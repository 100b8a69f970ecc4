// The write-lock cycle timed where it happens: the hammer times a cycle from
// the moment its `S` line arrives to its `E` line (bhyvectl's fork and exec and
// the ssh session included), which buries the lock's own cost under process
// noise. Where the host can trace, a second command runs beside the hammer and
// prints one line per cycle: the VM_WRLOCK_CYCLE ioctl's time from entry to
// return, and the bhyvectl that made it (its pid: the hammer prints each
// cycle's, so the two are joined exactly). The recipe here is the command, the
// probe of whether the host can run it, and the parser of both.
import { readLines, UnexpectedOutput } from './host-output.ts';
import { shQuote } from '../transport/quote.ts';

/**
 * VM_WRLOCK_CYCLE: `(VMM_LOCK_IOC_BASE | 0xff)`, VMM_LOCK_IOC_BASE being
 * `(('v' << 16) | ('l' << 8))` (illumos usr/src/uts/intel/sys/vmm_dev.h): no
 * _IOC() size or direction bits. vmmdev_do_ioctl() (vmm_sol_dev.c) takes the
 * write lock for it (vmm_write_lock(): every vCPU frozen, vmm_drv leases
 * blocked) and lets it go, with nothing in between.
 */
export const VM_WRLOCK_CYCLE = (0x76 << 16) | (0x6c << 8) | 0xff;

/**
 * What the tracer prints: `ready` once its probes are enabled, then one line
 * per cycle, `wrlock-cycle PID NS ERRNO`. The lab's tracer prints the same.
 */
export type TraceLine = { kind: 'ready' } | { kind: 'cycle'; pid: number; ns: number; errno: number };

/** How a host times the cycle in its kernel, and how the harness finds out whether it can. */
export interface WrlockTraceRecipe {
  /** What the figures are, in the report's words. */
  readonly timing: string;
  /** The capability probe (capabilities.ts): a command and the judge of what it printed. */
  readonly probe: { command: string; judge(output: string): true | string };
  /** The tracer: runs until killed, printing TraceLine lines on stdout. */
  readonly command: string;
}

/**
 * The D program, for the syscall provider (dtrace_user privilege, which a
 * non-global zone may be given: zonecfg limitpriv) rather than fbt on
 * vmm_write_lock (dtrace_kernel, the global zone's only; and vmm_write_lock
 * is also taken by viona's ioport hooks, vmm_drv_ioport_hook()). On
 * syscall::ioctl:entry arg1 is the request (systrace passes the syscall's
 * arguments); on :return `errno` is the syscall's (dtrace.c
 * dtrace_dif_variable() DIF_VAR_ERRNO: the lwp's lwp_errno). Only bhyvectl's
 * ioctls, and of those only the write-lock cycle: the hammer's, and any other
 * bhyvectl's on the host, which the join by pid leaves out.
 *
 * `-q` prints nothing but what printf prints (dtrace.c: notice() and the
 * `CPU ID FUNCTION:NAME` heading are skipped when quiet); `switchrate` makes
 * the consumer read the buffers ten times a second, so a line arrives within
 * 0.1 s of its cycle; drops and errors go to stderr (dtrace.c error()).
 */
export const DTRACE_WRLOCK_PROGRAM = [
  'BEGIN { printf("ready\\n"); }',
  `syscall::ioctl:entry /execname == "bhyvectl" && arg1 == 0x${VM_WRLOCK_CYCLE.toString(16)}/ { self->ts = timestamp; }`,
  'syscall::ioctl:return /self->ts/ { printf("wrlock-cycle %d %d %d\\n", pid, timestamp - self->ts, errno); self->ts = 0; }',
].join(' ');

const DTRACE = '/usr/sbin/dtrace';

/**
 * The probe: `dtrace -l -n syscall::ioctl:entry` lists the probe, a header
 * (`%5s %10s %17s %33s %s`: ID PROVIDER MODULE FUNCTION NAME) and a row each
 * (dtrace.c list_probe()), needing the privileges the tracer needs. A missing
 * probe is only `dtrace: failed to match …` on stderr, and exit 0 (list_stmt()
 * calls error(), which does not exit): so the row is what says yes. DTrace
 * that cannot be opened exits 1 with `dtrace: failed to initialize dtrace:
 * MESSAGE` (dt_open.c: EACCES is "DTrace requires additional privileges",
 * ENOENT "DTrace device not available on system" / "… in local zone").
 */
export const DTRACE_PROBE = `if [ -x ${DTRACE} ]; then ${DTRACE} -l -n syscall::ioctl:entry 2>&1; else echo "no ${DTRACE} on the host"; fi`;

/** Whether a `dtrace -l` listing has a row for the probe (an empty MODULE column, as the syscall provider's, included). */
export const listsProbe = (output: string, provider: string, fn: string, name: string) =>
  new RegExp(`^\\s*\\d+\\s+${provider}\\s+(?:\\S+\\s+)?${fn}\\s+${name}\\s*$`, 'm').test(output);

export function judgeDtraceProbe(output: string): true | string {
  if (listsProbe(output, 'syscall', 'ioctl', 'entry')) return true;
  const failed = /^dtrace: failed to initialize dtrace: (.*)$/m.exec(output);
  if (failed) {
    const hint = /privileges/.test(failed[1]) ? ' (the syscall provider needs the dtrace_user privilege: root in the global zone, or a zone with limitpriv including dtrace_user)' : '';
    return `${failed[0]}${hint}`;
  }
  const match = /^\s*(dtrace: failed to match .*)$/m.exec(output);
  if (match) return `dtrace lists no syscall::ioctl:entry probe (${match[1]})`;
  const missing = /^no \S+ on the host$/m.exec(output);
  if (missing) return missing[0];
  return `could not tell from \`dtrace -l -n syscall::ioctl:entry\`: ${output.trim().split('\n').slice(0, 3).join(' | ') || '(no output)'}`;
}

/** illumos (global zone, SmartOS and OmniOS alike): DTrace's syscall provider on bhyvectl's VM_WRLOCK_CYCLE ioctl. */
export const dtraceWrlockTrace: WrlockTraceRecipe = {
  timing: `in the kernel: bhyvectl's VM_WRLOCK_CYCLE ioctl from entry to return (DTrace syscall::ioctl, arg1 == 0x${VM_WRLOCK_CYCLE.toString(16)})`,
  probe: { command: DTRACE_PROBE, judge: judgeDtraceProbe },
  command: `exec ${DTRACE} -q -x switchrate=10hz -x bufsize=4m -n ${shQuote(DTRACE_WRLOCK_PROGRAM)}`,
};

/**
 * The lab: its bhyvectl times its own request to the vm's control socket (the
 * lab's ioctl) with CLOCK_MONOTONIC and hands each cycle to every tracer
 * running; `lab-wrlock-trace` is one, printing DTRACE_WRLOCK_PROGRAM's lines
 * (fixtures/lab/README.md). Not uprobes: bpftrace needs root and a kernel that
 * allows it, which CI's machine need not have.
 */
export const labWrlockTrace = (labDir: string): WrlockTraceRecipe => ({
  timing: "in the lab's vmm: its bhyvectl's own clock around the write-lock request (the lab's ioctl), from entry to return",
  probe: {
    command: `${shQuote(`${labDir}/bin/lab-wrlock-trace`)} --probe 2>&1`,
    judge: (out) => /^lab-wrlock-trace: ready to trace /m.test(out) || `the lab's tracer answered: ${out.trim() || '(nothing)'}`,
  },
  command: `exec ${shQuote(`${labDir}/bin/lab-wrlock-trace`)}`,
});

const TRACE_LINE = /^(?:(ready)|wrlock-cycle (\d+) (\d+) (\d+))$/;

/**
 * One line of the tracer's stdout. `dtrace -q` adds a blank line when tracing
 * stops (dtrace.c main(): oprintf("\n") after the consumer loop): blank lines
 * are nothing. Anything else is not the tracer's, and said so.
 */
export function readTraceLine(line: string, command: string): TraceLine | undefined {
  if (line.trim() === '') return undefined;
  const [read] = readLines(line, { command, expected: '`ready`, then `wrlock-cycle PID NS ERRNO` lines (DTRACE_WRLOCK_PROGRAM)' }, TRACE_LINE, (m) =>
    m[1] ? { kind: 'ready' as const } : { kind: 'cycle' as const, pid: Number(m[2]), ns: Number(m[3]), errno: Number(m[4]) });
  if (read.kind === 'cycle' && !(Number.isSafeInteger(read.ns) && Number.isSafeInteger(read.pid))) {
    throw new UnexpectedOutput({ command, expected: 'whole numbers' }, line, 'a number out of range');
  }
  return read;
}
