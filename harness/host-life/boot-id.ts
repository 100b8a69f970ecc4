// A host's boot id: what tells one life of a host from the next. It changes
// when the host reboots (or panics and comes back) and only then; each
// platform's recipe says where it reads it from (platform bootId).
import { InfraError } from '../errors.ts';
import type { Host } from '../host.ts';

/** How long reading the boot id may take: it takes no vmm lock, so only an unresponsive host is slower. */
export const BOOT_ID_TIMEOUT_MS = 30_000;

/** The host's boot id now; an InfraError (the command failed, or printed another shape) when it cannot be read. */
export async function readBootId(host: Host, doing = `reading the boot id of ${host.name}`): Promise<string> {
  const { command, parse } = host.platform.bootId;
  const r = await host.exec(command, { doing, timeoutMs: BOOT_ID_TIMEOUT_MS });
  return parse(r.stdout);
}

/** The boot id, or why it cannot be read (for notes that go on either way). */
export async function tryBootId(host: Host, doing?: string): Promise<{ id: string } | { problem: string }> {
  try {
    return { id: await readBootId(host, doing) };
  } catch (e) {
    if (e instanceof InfraError) return { problem: e.message.split('\n')[0] };
    throw e;
  }
}
