// How an illumos host tells of a panic once it is back (host-life/crash.ts
// reads it). After a panic, savecore (run by the dumpadm service at boot)
// raises ireport.os.sunos.panic.* events, and fmd's software-diagnosis module
// solves one case per panic, a defect.sunos.kernel.panic whose payload holds
// the panic string, the panic stack and where the dump went
// (usr/src/cmd/fm/modules/common/sw-diag-response/subsidiary/panic/
// panic_diag.c swde_panic_solve()). The case's uuid is the crashed kernel's
// image uuid. fmdump prints it (usr/src/cmd/fm/fmdump/common/fmdump.c,
// fault.c); mdb reads a saved dump (usr/src/cmd/mdb/common/mdb/mdb_main.c).
import { shQuote } from '../transport/quote.ts';
import { readLines, UnexpectedOutput } from './host-output.ts';
import type { CrashReading, CrashRecipe } from './types.ts';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const PANIC_CLASS = 'defect.sunos.kernel.panic';

/**
 * `fmdump -c defect.sunos.kernel.panic`: the fault log's short form, a header
 * `TIME UUID SUNW-MSG-ID EVENT` and a row per case, `%-20s %-32s %s` (date,
 * uuid, message id and its tag: `SUNOS-8000-KL Diagnosed`; fault.c
 * flt_short()). `-c` matches a list event by its faults' classes too
 * (libfmd_log fmd_log_filter_class()). The uuids, oldest first.
 */
export function parseFmdumpCases(output: string, command = `fmdump -c ${PANIC_CLASS}`): string[] {
  return readLines(output, { command, expected: '`TIME UUID SUNW-MSG-ID EVENT` and one `DATE UUID SUNOS-8000-KL Diagnosed` line a case (fmdump.c, fault.c)' },
    new RegExp(`^(?:TIME +UUID +SUNW-MSG-ID(?: EVENT)?|\\S.{19} (${UUID}) +\\S+(?: \\S+)?)$`), (m) => m[1]);
}

/** `key = value` lines of nvlist_print (libnvpair), at any depth. */
const NVPAIR = /^(\s+)([A-Za-z_][\w-]*) = (.*)$/;

/**
 * `fmdump -Vp -u UUID`: one case in full: `TIME UUID SUNW-MSG-ID`, its date
 * line, the ireports it holds, then nvlist_print of the list.suspect; the
 * defect's payload is the fault-list[0] member: savecore-succcess (sic),
 * dump-dir and dump-files when savecore saved the dump, else failure-reason
 * if it said one; os-instance-uuid, panicstr, panicstack (`module:func+off ()
 * | ` a frame), crashtime (epoch seconds), panic-time (`%c %Z`).
 */
export function parseFmdumpPanic(output: string, command = 'fmdump -Vp -u UUID'): CrashReading {
  const shape = { command, expected: `a \`TIME UUID SUNW-MSG-ID\` record whose fault-list holds a ${PANIC_CLASS} (fmdump -Vp, panic_diag.c)` };
  const lines = output.split('\n');
  if (!lines.some((l) => /^TIME +UUID +SUNW-MSG-ID$/.test(l))) throw new UnexpectedOutput(shape, output, 'no record header');
  const at = lines.findIndex((l) => new RegExp(`^\\s+class = ${PANIC_CLASS.replace(/\./g, '\\.')}$`).test(l));
  if (at < 0) throw new UnexpectedOutput(shape, output, `no ${PANIC_CLASS} in its fault list`);
  const depth = NVPAIR.exec(lines[at])![1];
  const payload: Record<string, string> = {};
  for (const line of lines.slice(at + 1)) {
    const m = NVPAIR.exec(line);
    if (!m || m[1] !== depth) break; // `(end fault-list[0])`, or the end of what was printed
    payload[m[2]] = m[3];
  }
  const stack = (payload.panicstack ?? '').split(' | ').map((f) => f.trim().replace(/ \(\)$/, '')).filter(Boolean);
  const crashtime = /^\d+$/.test(payload.crashtime ?? '') ? new Date(Number(payload.crashtime) * 1000).toISOString() : undefined;
  const saved = payload['savecore-succcess'] === '1' && payload['dump-dir'] && payload['dump-files'];
  return {
    ...(payload.panicstr ? { panic: payload.panicstr } : {}),
    stack,
    ...(stack.find((f) => /^(vmm|viona):/.test(f)) ? { frame: stack.find((f) => /^(vmm|viona):/.test(f)) } : {}),
    ...(payload['panic-time'] ?? crashtime ? { crashTime: payload['panic-time'] ?? crashtime } : {}),
    dump: saved
      ? { dir: payload['dump-dir'], files: payload['dump-files'].split(/\s+/) }
      : { none: payload['failure-reason'] ? `savecore failed: ${payload['failure-reason']}` : 'savecore saved no dump (savecore-succcess = 0: savecore is off, dumpadm -n, or it had not finished within 30 minutes)' },
  };
}

/**
 * mdb on a saved dump: `::status` (mdb_kvm.c kt_status_dcmd(): the panic
 * message, the image uuid), the message buffer, the panic thread's stack and
 * every thread in vmm and viona (`::stacks -m`), one `mdb -e` each. mdb
 * cannot read a compressed dump (vmdump.N: "cannot open compressed dump;
 * decompress using savecore -f", exit 0), so savecore -f expands it into a
 * folder of ours first, removed after.
 */
export function mdbOnDump(dir: string, files: string[], tools = { mdb: '/usr/bin/mdb', savecore: '/usr/bin/savecore' }): string | undefined {
  const n = files.map((f) => /^(?:vmdump|vmcore|unix)\.(\d+)$/.exec(f)?.[1]).find(Boolean);
  if (!n) return undefined;
  const d = shQuote(dir);
  const queries = ['::status', '::msgbuf', '$C', '::stacks -m vmm', '::stacks -m viona'];
  return [
    `t=; if [ -e ${d}/vmcore.${n} ]; then u=${d}/unix.${n}; c=${d}/vmcore.${n}`,
    `else t=$(mktemp -d /var/tmp/bhyve-smoke-dump.XXXXXX) || exit 1; echo "savecore -f ${dir}/vmdump.${n} $t"; ${tools.savecore} -f ${d}/vmdump.${n} "$t" 2>&1 || { rm -rf "$t"; exit 1; }; u="$t/unix.${n}"; c="$t/vmcore.${n}"; fi`,
    `for q in ${queries.map(shQuote).join(' ')}; do echo "> $q"; ${tools.mdb} -e "$q" "$u" "$c" 2>&1; done`,
    '[ -z "$t" ] || rm -rf "$t"',
  ].join('; ');
}

/** The illumos recipe (SmartOS and OmniOS the same), with the tools' paths (the lab has its own). */
export const illumosCrash = (tools: { fmdump: string; dumpadm: string; mdb?: string; savecore?: string } = { fmdump: '/usr/sbin/fmdump', dumpadm: '/usr/sbin/dumpadm', mdb: '/usr/bin/mdb', savecore: '/usr/bin/savecore' }): CrashRecipe => ({
  source: "FMA's fault log (fmdump)",
  records: { command: `${shQuote(tools.fmdump)} -c ${PANIC_CLASS}`, parse: (out) => parseFmdumpCases(out, `${tools.fmdump} -c ${PANIC_CLASS}`) },
  read: (uuid) => ({
    files: [
      { name: `fmdump-${uuid}.txt`, command: `${shQuote(tools.fmdump)} -Vp -u ${shQuote(uuid)}` },
      // Where savecore puts dumps and whether it runs (dconf.c dconf_print()).
      { name: 'dumpadm.txt', command: shQuote(tools.dumpadm) },
    ],
    parse: ([record]) => parseFmdumpPanic(record, `${tools.fmdump} -Vp -u ${uuid}`),
    more: (r) => {
      const mdb = 'files' in r.dump && tools.mdb && tools.savecore ? mdbOnDump(r.dump.dir, r.dump.files, { mdb: tools.mdb, savecore: tools.savecore }) : undefined;
      return mdb ? [{ name: `mdb-${uuid}.txt`, command: mdb }] : [];
    },
  }),
});
