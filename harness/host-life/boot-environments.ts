// A host's boot environments: the builds it can boot (beadm on illumos and
// OmniOS, bectl on FreeBSD, piadm on a standalone SmartOS host; the
// platform files hold the commands). Listing them, telling which runs now and
// which boots next, and making one boot next.
import { ConfigError, InfraError } from '../errors.ts';
import type { Host } from '../host.ts';
import type { BootEnvironment, BootEnvironmentRecipe } from '../platform/types.ts';

/** The host's recipe, or a ConfigError: its platform switches no builds. */
export function bootEnvironmentsOf(host: Host): BootEnvironmentRecipe {
  const r = host.platform.bootEnvironments;
  if (!r) throw new ConfigError(`host ${host.name} (${host.platform.kind}) has no boot environments the harness can switch`);
  return r;
}

export async function listBootEnvironments(host: Host): Promise<BootEnvironment[]> {
  const { list } = bootEnvironmentsOf(host);
  return list.parse((await host.exec(list.command, { doing: `listing the boot environments of ${host.name}` })).stdout);
}

/** The one running now (N), and the one booting next (R); an InfraError when the listing has none of either. */
export function runningAndNext(host: string, bes: BootEnvironment[]): { running: BootEnvironment; next: BootEnvironment } {
  const running = bes.find((b) => b.active);
  const next = bes.find((b) => b.once) ?? bes.find((b) => b.next);
  if (!running || !next) throw new InfraError(`host ${host}: its boot environments name ${running ? 'none to boot next' : 'none running now'} (${bes.map((b) => b.name).join(', ') || 'none at all'})`);
  return { running, next };
}

/** Makes `be` the one the host boots next, and checks that its listing says so. */
export async function activateBootEnvironment(host: Host, be: string): Promise<void> {
  const recipe = bootEnvironmentsOf(host);
  const r = await host.exec(recipe.activate(be), { doing: `activating boot environment ${be} on ${host.name}`, check: false });
  const output = `${r.stdout}${r.stderr}`.trim();
  if (r.exitCode !== 0 || r.timedOut) {
    throw new InfraError(`host ${host.name}: \`${r.command}\` ${r.timedOut ? 'did not finish' : `exited ${r.exitCode}`}: boot environment ${be} was not activated${output ? `:\n${output}` : ''}`, { command: r.command, output });
  }
  const next = runningAndNext(host.name, await listBootEnvironments(host)).next;
  if (next.name !== be) throw new InfraError(`host ${host.name}: \`${r.command}\` exited 0, yet ${recipe.tool} says ${next.name} boots next, not ${be}${output ? `:\n${output}` : ''}`, { command: r.command, output });
}
