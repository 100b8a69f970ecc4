// Host-side evidence of a vm, each command's output in a file of its own:
// bhyvectl's stats, bhyve's log and exits, and the platform's stacks and state
// (lab: a gdb dump of QEMU's threads; illumos: mdb kernel stacks, ::stacks of
// vmm and viona, pstack; FreeBSD: procstat -kk). For a hang, where its
// threads are stuck. Taken before a failed vm's teardown, and on demand for a
// kept one (bhyve-smoke evidence).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { messageOf } from '../errors.ts';
import type { Host } from '../host.ts';
import { stuckFrames } from '../platform/stacks.ts';
import { UnexpectedOutput } from '../platform/host-output.ts';
import type { Attachment } from '../report/results.ts';
import { shQuote } from '../transport/quote.ts';

export interface EvidenceTarget {
  host: Host;
  name: string;
  /** The name bhyvectl knows the vm by, what the host's tools call it, its folder on the host. */
  vmm: string;
  id: string;
  dir: string;
  /** Masks the vm's secrets: a process listing can show bhyve's command line, VNC password and all. */
  mask: (text: string) => string;
}

export async function collectEvidence(vm: EvidenceTarget, folder: string, hung: boolean): Promise<{ attachments: Attachment[]; stuckFrames?: Array<{ thread: string; frame: string }>; stacksUnread?: string }> {
  const { host } = vm;
  const pid = `$(cat ${shQuote(`${vm.dir}/bhyve.pid`)} 2>/dev/null)`;
  const commands = [
    { name: 'bhyvectl-stats', command: `${shQuote(host.platform.bhyvectl)} --vm=${shQuote(vm.vmm)} --get-stats` },
    // The supervisor's bhyve output (zone brands keep theirs: the platform's evidence) and every exit.
    { name: 'bhyve-log', command: `cat ${shQuote(`${vm.dir}/bhyve.log`)} ${shQuote(`${vm.dir}/exits`)} 2>/dev/null` },
    ...host.platform.evidence({ id: vm.id, vmm: vm.vmm, dir: vm.dir }, pid),
  ];
  const attachments: Attachment[] = [];
  let stuck: Array<{ thread: string; frame: string }> | undefined;
  let stacksUnread: string | undefined;
  for (const { name, command } of commands) {
    const r = await host.exec(command, { doing: `collecting ${name} of ${vm.name}`, timeoutMs: 30_000, check: false }).catch((e) => ({ stdout: '', stderr: messageOf(e), exitCode: -1 }));
    const path = join(folder, `${name}.txt`);
    writeFileSync(path, vm.mask(`$ ${command}\n(exit ${r.exitCode})\n${r.stdout}${r.stderr}`));
    attachments.push({ name, path });
    const { stacks } = host.platform;
    if (hung && stacks?.evidence === name) {
      // Stacks in a shape the parser does not read are said, not taken for a vm stuck nowhere.
      try {
        const found = stuckFrames(r.stdout, stacks);
        if (found.length) stuck = found;
      } catch (e) {
        if (!(e instanceof UnexpectedOutput)) throw e;
        stacksUnread = `${name}.txt: ${vm.mask(e.message)}`;
      }
    }
  }
  return { attachments, ...(stuck ? { stuckFrames: stuck } : {}), ...(stacksUnread ? { stacksUnread } : {}) };
}
