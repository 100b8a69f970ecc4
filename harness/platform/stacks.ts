// Thread stacks in the evidence of a hung vm, and the frames that say where it
// is stuck: for each thread, its innermost frame in the hypervisor's own code
// (illumos and FreeBSD: a function of the vmm or viona module; the lab: a
// QEMU function of a vCPU thread). Each parser reads one tool's output.
import { UnexpectedOutput } from './host-output.ts';

/** One thread's stack, innermost frame first, each frame as `function+offset`. */
export interface ThreadStack {
  thread: string;
  frames: string[];
}

/** Where a thread is stuck: its innermost frame in the hypervisor's code. */
export interface StuckFrame {
  thread: string;
  frame: string;
}

/** How a platform's stack evidence is read: which evidence file, its parser, and which frames are the hypervisor's. */
export interface StackReading {
  /** The evidence (Platform.evidence name) holding the stacks of the vm's process. */
  evidence: string;
  parse(text: string): ThreadStack[];
  /** A function of the hypervisor's own (the frame a stuck thread is reported by). */
  ours(fn: string): boolean;
  /** Only these threads (the lab: its vCPU threads); all when absent. */
  threads?: RegExp;
}

const fnOf = (frame: string) => frame.replace(/\+0x[0-9a-f]+$/, '');

/** The innermost frame of each thread that is the hypervisor's, for the threads that have one. */
export function stuckFrames(text: string, reading: StackReading): StuckFrame[] {
  return reading.parse(text)
    .filter((t) => !reading.threads || reading.threads.test(t.thread))
    .flatMap((t) => {
      const frame = t.frames.find((f) => reading.ours(fnOf(f)));
      return frame ? [{ thread: t.thread, frame }] : [];
    });
}

/**
 * mdb's `::findstack -v` (illumos genunix findstack.c): per thread a line
 * `stack pointer for thread ADDR (NAME): SP`, NAME being the process and lwp
 * and the thread's name (`bhyve/36 [vcpu 0]`), then one frame a line, the
 * innermost (`[ SP _resume_from_idle+0x12b() ]`) first: `  SP func+0xoff(args)`.
 */
export function parseFindstack(text: string): ThreadStack[] {
  const threads: ThreadStack[] = [];
  for (const line of text.split('\n')) {
    const head = /^stack pointer for thread ([0-9a-f]+)(?: \((.*)\))?: [0-9a-f]+/.exec(line);
    if (head) {
      threads.push({ thread: head[2] ?? head[1], frames: [] });
      continue;
    }
    const frame = /^\s*\[?\s*[0-9a-f]+ ([A-Za-z_][\w.$]*(?:\+0x[0-9a-f]+)?)\(/.exec(line);
    if (frame && threads.length) threads[threads.length - 1].frames.push(frame[1]);
  }
  if (!threads.length) throw new UnexpectedOutput({ command: 'mdb -k ::findstack -v', expected: 'per thread a line `stack pointer for thread ADDR (NAME): SP` and its frames' }, text, 'no thread in it');
  return threads;
}

/**
 * `procstat -kk PID` (FreeBSD usr.bin/procstat/procstat_kstack.c): a header
 * `PID TID COMM TDNAME KSTACK`, then a thread a line, its kernel stack
 * innermost first as `func+0xoff` words from the KSTACK column on. A thread
 * name may hold spaces (`vcpu 0`), so the columns are cut where the header's are.
 */
export function parseProcstatKk(text: string): ThreadStack[] {
  const lines = text.split('\n');
  const header = lines.findIndex((l) => /^\s*PID\s+TID\s+COMM\s+TDNAME\s+KSTACK\s*$/.test(l));
  if (header < 0) throw new UnexpectedOutput({ command: 'procstat -kk', expected: 'the header `PID TID COMM TDNAME KSTACK`, then a thread a line' }, text, 'no header');
  const h = lines[header];
  const [tdname, kstack] = [h.indexOf('TDNAME'), h.indexOf('KSTACK')];
  return lines.slice(header + 1).filter((l) => /^\s*\d+\s+\d+\s/.test(l)).map((l) => ({
    thread: l.slice(tdname, kstack).trim(),
    frames: l.slice(kstack).trim().split(/\s+/).filter((f) => /^[A-Za-z_][\w.$]*(\+0x[0-9a-f]+)?$/.test(f)),
  }));
}

/**
 * gdb's `thread apply all bt` (the lab's pstack): per thread a line
 * `Thread N (Thread 0x… (LWP n) "NAME"):`, then frames `#N  [0xADDR in ]func (…)`,
 * innermost first; a function gdb cannot name is `??`.
 */
export function parseGdbThreads(text: string): ThreadStack[] {
  const threads: ThreadStack[] = [];
  for (const line of text.split('\n')) {
    const head = /^Thread \d+ \(Thread 0x[0-9a-f]+ \(LWP \d+\)(?: "([^"]*)")?\):$/.exec(line);
    if (head) {
      threads.push({ thread: head[1] ?? '', frames: [] });
      continue;
    }
    const frame = /^#\d+\s+(?:0x[0-9a-f]+ in )?([A-Za-z_][\w.:]*|\?\?) \(/.exec(line);
    if (frame && threads.length) threads[threads.length - 1].frames.push(frame[1]);
  }
  if (!threads.length) throw new UnexpectedOutput({ command: 'pstack (gdb thread apply all bt)', expected: 'per thread a line `Thread N (Thread 0x… (LWP n) "NAME"):` and its frames' }, text, 'no thread in it');
  return threads;
}

/**
 * The functions of illumos's vmm and viona modules (usr/src/uts/intel/io/vmm/,
 * io/viona/): their names carry these prefixes (vmm_write_lock,
 * vcpu_set_state_locked, vm_handle_rendezvous, vmmdev_do_ioctl, vlapic_…,
 * viona_tx_wait_outstanding; vmspace_ is vmm's own vmm_vm.c there). The
 * illumos kernel's VM system names its functions otherwise (as_, page_, hat_,
 * seg_), so `vm_` is vmm's.
 */
export const VMM_FUNCTION = /^(vmm|vm|vcpu|vmmdev|vlapic|vioapic|vatpic|vatpit|vhpet|vpmtmr|vrtc|vmx|svm|vie|viona|vmspace|ppt)_/;

/**
 * FreeBSD's vmm (sys/amd64/vmm/, sys/dev/vmm/): the same device-model and
 * backend prefixes, but `vm_` is shared with the kernel's VM system
 * (vm_fault, vm_page_*, vm_map_*, vm_object_*: sys/vm/), whose frames sit
 * under vmm's when a guest pages (vm_handle_paging → vm_fault), and
 * `vmspace_` is the VM system's. So only vmm's own `vm_` functions count
 * (vmm.c, vmm_dev.c, vmm_mem.c: vm_run, vm_handle_*, vm_exit_*, the
 * rendezvous, registers, memory segments, its mmio maps).
 */
export const FREEBSD_VMM_FUNCTION = new RegExp(
  '^(?:(?:vmm|vmmdev|vmmops|vcpu|vlapic|vioapic|vatpic|vatpit|vhpet|vpmtmr|vrtc|vmx|svm|vie|vmcs|vmcb|ept|npt|ppt|vtd|amdvi)_|_vm_gpa_hold$|vm_(?:' + [
    'run', 'rendezvous', 'smp_rendezvous', 'handle_[a-z_]+', 'exit_[a-z_]+', 'entry_intinfo', 'get_intinfo', 'inject_[a-z_]+',
    'nmi_(?:pending|clear)', 'extint_(?:pending|clear)', 'suspend(?:_cpu)?', 'resume_cpu', 'activate_cpu', 'reinit', 'create', 'destroy',
    'cleanup', 'restart_instruction', '[gs]et_(?:register(?:_set)?|seg_desc|capability|x2apic_state|topology)', 'gpa_(?:hold(?:_global)?|release)',
    'gla2gpa(?:_nofault)?', 'copy(?:in|out|_setup|_teardown)', 'mem_allocated', '(?:alloc|get|free)_memseg', 'free_memmap',
    '(?:mmap|munmap)_memseg', 'mmap_getnext', '(?:un)?map_mmio', '(?:un)?assign_pptdev', 'iommu_[a-z]+', '[xs]?lock_memsegs', 'unlock_memsegs', '(?:un)?lock_vcpus',
  ].join('|') + ')$)');
