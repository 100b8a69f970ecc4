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

/** What a failed bhyvectl call reported, in words: its errno, the vm it could not open, or its exit status. */
export function bhyvectlFailure(r: { stdout: string; stderr: string; exitCode: number; timedOut?: boolean }, names: Readonly<Record<number, string>>): string {
  if (r.timedOut) return 'it did not return (blocked in the kernel?)';
  const errno = /^errno = (\d+)$/m.exec(r.stdout);
  if (errno) return `errno ${errnoName(Number(errno[1]), names)}`;
  const open = /^vm_open: .*$/m.exec(r.stderr);
  if (open) return open[0];
  return `exit ${r.exitCode}${r.exitCode > 0 && r.exitCode < 255 && names[r.exitCode] ? ` (${names[r.exitCode]}?)` : ''}`;
}
