// A kept vm (run --keep-on-failure), reached again: `console` attaches the
// terminal to its serial console through its host's transport, the way the
// harness reached it; `evidence` takes its host-side evidence again, now.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { collectEvidence } from '../evidence/host-evidence.ts';
import { ConfigError } from '../errors.ts';
import { createHost } from '../host.ts';
import { findKept } from '../run/records.ts';
import type { Command } from './command.ts';

/** Ctrl-], as telnet has it: the byte that detaches from the console. */
const DETACH = 0x1d;

function keptHost(runOrVm: string | undefined, command: string) {
  if (!runOrVm) throw new ConfigError(`${command}: name the kept vm or its run (the kept line of the run prints both)`);
  const { record, kept } = findKept(runOrVm);
  const at = record.hosts[kept.host];
  if (!at) throw new ConfigError(`${runOrVm}: run ${record.runId} has no record of host ${kept.host}`);
  return { kept, host: createHost(kept.host, at.config) };
}

export const consoleCommand: Command = {
  name: 'console',
  summary: "attach the terminal to a kept vm's serial console (Ctrl-] detaches)",
  usage: 'bhyve-smoke console VM_OR_RUN',
  options: {},
  async run(_values, positionals) {
    const { kept, host } = keptHost(positionals[0], 'console');
    const stream = kept.console.kind === 'unix' ? await host.transport.connectUnix(kept.console.path) : await host.transport.openStream(kept.console.command);
    const tty = process.stdin.isTTY;
    process.stderr.write(`attached to the console of ${kept.vm} on ${kept.host}; Ctrl-] detaches\n`);
    if (tty) process.stdin.setRawMode(true);
    try {
      await new Promise<void>((done, fail) => {
        process.stdin.on('data', (chunk: Buffer) => {
          const at = chunk.indexOf(DETACH);
          if (at >= 0) {
            if (at > 0) stream.write(chunk.subarray(0, at));
            done();
          } else stream.write(chunk);
        });
        process.stdin.on('end', done);
        stream.on('data', (d: Buffer) => process.stdout.write(d));
        stream.on('error', fail);
        stream.on('close', () => fail(new ConfigError(`the console of ${kept.vm} closed (is the vm still running? bhyve-smoke clean removes what is gone)`)));
      });
    } finally {
      if (tty) process.stdin.setRawMode(false);
      process.stdin.pause();
      stream.removeAllListeners('close');
      stream.destroy();
      await host.close();
    }
    process.stderr.write(`\ndetached from ${kept.vm}\n`);
    return 0;
  },
};

export const evidenceCommand: Command = {
  name: 'evidence',
  summary: "take a kept vm's host-side evidence (stacks, bhyvectl stats, bhyve's log) again, now",
  usage: 'bhyve-smoke evidence VM_OR_RUN [--output DIR] [--hung]',
  options: {
    output: { type: 'string', help: 'folder for the evidence files (default: evidence-VM)' },
    hung: { type: 'boolean', help: 'the vm is hung: read its stacks and print, per thread, the innermost frame in the hypervisor\'s code (a vmm or viona function; on the lab a QEMU function of a vCPU thread)' },
  },
  async run(values, positionals) {
    const { kept, host } = keptHost(positionals[0], 'evidence');
    const folder = resolve(String(values.output ?? `evidence-${kept.vm}`));
    mkdirSync(folder, { recursive: true });
    try {
      // The guest's password never reached the record; the platform's listings show no other secret of ours.
      const e = await collectEvidence({ host, name: kept.vm, vmm: kept.vmm, id: kept.id, dir: kept.dir, mask: (t) => t }, folder, Boolean(values.hung));
      for (const a of e.attachments) process.stdout.write(`${a.name}: ${a.path}\n`);
      for (const s of e.stuckFrames ?? []) process.stdout.write(`stuck: ${s.thread} in ${s.frame}\n`);
      if (values.hung && !e.stuckFrames) {
        // Said, not left out: stacks the parser cannot read, a platform without a stack reading, or no thread in the hypervisor.
        process.stdout.write(e.stacksUnread ? `stuck: the stacks could not be read: ${e.stacksUnread}\n`
          : host.platform.stacks ? `stuck: no thread of ${kept.vm} has a frame in the hypervisor's code (${host.platform.stacks.evidence}.txt)\n`
            : `stuck: a ${host.platform.kind} host's stacks are not read\n`);
      }
    } finally {
      await host.close();
    }
    return 0;
  },
};
