// Raw bhyve (the lab, illumos's global zone, FreeBSD): the harness makes the
// vm itself. Its disk is cloned into the vm's folder (or a ZFS clone beside
// it), its NIC gets a link of its own (links.ts: a link takes one vm), and
// bhyve runs under the supervisor (supervisor.ts), which restarts it when the
// guest reboots and logs every exit.
import type { Host } from './types.ts';
import { cloneFor } from '../image/clone.ts';
import { shJoin, shQuote } from '../transport/quote.ts';
import { SUPERVISOR_SH } from './supervisor.ts';
import { vmPlan } from './plan.ts';
import type { VmLaunch, VmPlan, VmRequest } from './types.ts';
import { writePinScript } from './vcpu-pinning.ts';

export function supervisedPlan(host: Host, vm: VmRequest, bhyveArgv: (launch: VmLaunch) => string[]): VmPlan {
  const p = host.platform;
  const dir = shQuote(vm.dir);
  // The vm's own copy-on-write clone of the golden disk: nothing it writes reaches the image.
  const clone = cloneFor(p, host, vm.image, vm.name, vm.dir);
  return vmPlan({ id: vm.name, dir: vm.dir, destroy: p.destroyVm({ name: vm.name, id: vm.name }, vm.dir, clone.destroy), dataset: clone.dataset }, async (making) => {
    const found = await host.exec(`f=${p.imagePath(vm.bootrom)}; [ -e "$f" ] || { echo "missing: $f" >&2; exit 3; }; echo "$f"`, {
      doing: `finding the bootrom of ${vm.name}`,
    });
    making();
    await host.exec(clone.create, { doing: `cloning the disk of ${vm.name}`, timeoutMs: 600_000 });
    const link = p.links ? (await host.exec(p.links.create(vm.name, host.nic, vm.dir), { doing: `making the network link of ${vm.name} on ${host.nic}` })).stdout.trim() : host.nic;
    await host.exec(`cat > ${dir}/supervise.sh`, { doing: 'writing the supervisor', input: SUPERVISOR_SH });
    await writePinScript(host, vm, vm.name);
    const argv = bhyveArgv({
      name: vm.name,
      cpus: vm.cpus,
      memoryMiB: vm.memoryMiB,
      bootrom: found.stdout.trim(),
      disk: clone.disk,
      console: vm.console.backend,
      nic: link,
      ...(vm.framebuffer ? { slots: [vm.framebuffer.device] } : {}),
      ...(vm.ignoreUnimplementedMsrs ? { ignoreUnimplementedMsrs: true } : {}),
      ...(vm.pinVcpus && p.pinning.how === 'bhyve -p' ? { pinVcpus: vm.pinVcpus } : {}),
    });
    await host.exec(p.detach(`sh ${dir}/supervise.sh ${dir} ${shJoin(argv)}`), { doing: `starting ${vm.name}` });
    return { vmm: vm.name, commandLine: shJoin(argv) };
  });
}
