// How bhyvectl says a call failed (illumos usr/src/cmd/bhyvectl/bhyvectl.c
// and FreeBSD usr.sbin/bhyvectl/bhyvectl.c, main()): a failed call prints
// "errno = N" on stdout and exits with the call's -1, status 255 (--pause and
// --resume print "vm_pause error N" / "vm_resume error N" first);
// --wrlock-cycle prints nothing and exits with the errno itself; a vm that
// cannot be opened prints "vm_open: NAME could not be opened: ..." on stderr
// and exits 1. The errno numbers are the host's (sys/errno.h), so each
// platform names them.

/** illumos usr/src/uts/common/sys/errno.h: the errnos bhyvectl's calls return. */
export const ILLUMOS_ERRNO: Readonly<Record<number, string>> = { 1: 'EPERM', 2: 'ENOENT', 4: 'EINTR', 6: 'ENXIO', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 16: 'EBUSY', 17: 'EEXIST', 22: 'EINVAL', 27: 'EFBIG', 149: 'EALREADY' };
/** FreeBSD sys/sys/errno.h: the same errnos, FreeBSD's numbers (EALREADY is 37 there). */
export const FREEBSD_ERRNO: Readonly<Record<number, string>> = { 1: 'EPERM', 2: 'ENOENT', 4: 'EINTR', 6: 'ENXIO', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 16: 'EBUSY', 17: 'EEXIST', 22: 'EINVAL', 27: 'EFBIG', 37: 'EALREADY' };

/** An errno by its number and the host's name for it: `149 (EALREADY)`. */
export const errnoName = (n: number, names: Readonly<Record<number, string>>) => `${n}${names[n] ? ` (${names[n]})` : ''}`;

/**
 * What bhyvectl prints when it cannot open the vm, then exits 1 (main(),
 * before any option acts): `vm_open: NAME could not be opened: STRERROR` on
 * stderr (the 2023 bhyvectl.c), `VM:NAME is not created.` on stdout (2020).
 */
const VM_OPEN_FAILED = /^(?:vm_open: .* could not be opened: .*|VM:.* is not created\.)$/m;

/** What a failed bhyvectl call reported, in words: its errno, the vm it could not open, or its exit status. */
export function bhyvectlFailure(r: { stdout: string; stderr: string; exitCode: number; timedOut?: boolean }, names: Readonly<Record<number, string>>): string {
  if (r.timedOut) return 'it did not return (blocked in the kernel?)';
  const errno = /^errno = (\d+)$/m.exec(r.stdout);
  if (errno) return `errno ${errnoName(Number(errno[1]), names)}`;
  const open = VM_OPEN_FAILED.exec(`${r.stderr}\n${r.stdout}`);
  if (open) return open[0];
  return `exit ${r.exitCode}${r.exitCode > 0 && r.exitCode < 255 && names[r.exitCode] ? ` (${names[r.exitCode]}?)` : ''}`;
}

/**
 * Why a `--wrlock-cycle` failed, from its exit status and what it printed:
 * the cycle itself prints nothing and exits with vm_wrlock_cycle()'s errno
 * (bhyvectl.c main(): `exit(error)`); exit 1 with the vm_open message is the
 * vm that could not be opened (gone, or never made), not EPERM.
 */
export function wrlockCycleFailure(status: number, output: string, names: Readonly<Record<number, string>>): string {
  const open = status === 1 ? VM_OPEN_FAILED.exec(output) : null;
  return open ? `the vm could not be opened (${open[0]})` : `errno ${errnoName(status, names)}`;
}
