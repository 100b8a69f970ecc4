// How a FreeBSD host tells of a panic once it is back (host-life/crash.ts
// reads it). At boot, rc.d/savecore saves the dump from the dump device into
// the dump folder (rc.conf dumpdir, /var/crash by default: etc/defaults/
// rc.conf) as vmcore.N beside info.N, the dump header (sbin/savecore/
// savecore.c printheader()), and crashinfo(8) writes core.txt.N, a summary
// with kgdb's backtrace (usr.sbin/crashinfo/crashinfo.sh).
import { readLines, UnexpectedOutput } from './host-output.ts';
import { FREEBSD_VMM_FUNCTION } from './stacks.ts';
import type { CrashReading, CrashRecipe } from './types.ts';

const DIR = '/var/crash';

/** The dump folder's listing: the numbers N of its info.N files (bounds, minfree, vmcore.N, core.txt.N and info.last are not records). */
export function parseCrashFolder(output: string): string[] {
  return readLines(output, { command: `ls ${DIR}`, expected: 'one file name a line' }, /^(\S+)$/, (m) => /^info\.(\d+)$/.exec(m[1])?.[1])
    .sort((a, b) => Number(a) - Number(b));
}

/**
 * info.N (savecore.c printheader(), libxo: `Label: value` lines indented two
 * spaces under `Dump header from device: DEV`; `Version String` spans two
 * lines, the kernel's version string holding its own newline) and core.txt.N
 * (crashinfo.sh: the header, `panic: …`, then kgdb's `bt`, whose frames are
 * `#N  0x… in FUNC (…) at FILE:LINE`, and the message buffer's `KDB: stack
 * backtrace:` frames `FUNC() at FUNC+0xOFF/frame 0x…`).
 */
export function parseFreebsdCrash(info: string, coreTxt: string, listing: string, n: string): CrashReading {
  const shape = { command: `cat ${DIR}/info.${n}`, expected: '`Dump header from device: DEV` and `  Label: value` lines, a `Panic String:` among them (savecore.c printheader())' };
  const field = (label: string) => new RegExp(`^\\s*${label}: ?(.*)$`, 'm').exec(info)?.[1];
  if (!/^Dump header from device:? /m.test(info)) throw new UnexpectedOutput(shape, info, 'no `Dump header from device` line');
  const panic = field('Panic String');
  if (panic === undefined) throw new UnexpectedOutput(shape, info, 'no `Panic String:` line');
  const stack = coreTxt.split('\n').flatMap((l) => {
    const kgdb = /^#\d+\s+(?:0x[0-9a-f]+ in )?([A-Za-z_]\w*) \(/.exec(l);
    const kdb = /^([A-Za-z_]\w*)\(\) at \1\+(0x[0-9a-f]+)\/frame /.exec(l);
    return kgdb ? [kgdb[1]] : kdb ? [`${kdb[1]}+${kdb[2]}`] : [];
  });
  const cores = listing.split('\n').filter((f) => new RegExp(`^vmcore\\.${n}(\\.gz|\\.zst)?$`).test(f.trim())).map((f) => f.trim());
  const time = field('Dumptime');
  return {
    ...(panic ? { panic } : {}),
    stack,
    ...(stack.find((f) => FREEBSD_VMM_FUNCTION.test(f.replace(/\+0x[0-9a-f]+$/, ''))) ? { frame: stack.find((f) => FREEBSD_VMM_FUNCTION.test(f.replace(/\+0x[0-9a-f]+$/, ''))) } : {}),
    ...(time ? { crashTime: time } : {}),
    dump: cores.length ? { dir: DIR, files: cores } : { none: `no vmcore.${n} in ${DIR} (Dump Status: ${field('Dump Status') ?? 'not said'})` },
  };
}

export const FREEBSD_CRASH: CrashRecipe = {
  source: `${DIR} (savecore's info.N)`,
  records: { command: `if [ -d ${DIR} ]; then ls ${DIR}; fi`, parse: parseCrashFolder },
  read: (n) => ({
    files: [
      { name: `info.${n}`, command: `cat ${DIR}/info.${n}` },
      // crashinfo runs after savecore at boot (crashinfo_enable), and only with a kernel debugger installed.
      { name: `core.txt.${n}`, command: `if [ -e ${DIR}/core.txt.${n} ]; then cat ${DIR}/core.txt.${n}; else echo "no ${DIR}/core.txt.${n}: crashinfo wrote none (crashinfo_enable, or no kgdb)"; fi` },
      { name: 'crash-folder.txt', command: `ls ${DIR}` },
    ],
    parse: ([info, coreTxt, listing]) => parseFreebsdCrash(info, coreTxt, listing, n),
  }),
};
