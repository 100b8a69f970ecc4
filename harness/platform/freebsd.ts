// FreeBSD: bhyve(8) with the console on an nmdm(4) pair. FreeBSD's bhyvectl has
// no write-lock cycle, so tests that need it are skipped there.
import type { Platform, VmLaunch } from './types.ts';
import { shQuote } from '../transport/quote.ts';

export const freebsdPlatform = (): Platform => ({
  kind: 'freebsd',
  capabilities: { wrlock: false },
  bhyve: '/usr/sbin/bhyve',
  bhyvectl: '/usr/sbin/bhyvectl',
  uname: 'FreeBSD',
  freeMemoryMiB: 'echo $(( $(sysctl -n vm.stats.vm.v_free_count) * $(sysctl -n hw.pagesize) / 1048576 ))',
  workRoot: '/var/tmp/bhyve-smoke',
  bhyveArgv: (vm: VmLaunch) => [
    '/usr/sbin/bhyve',
    '-c', String(vm.cpus), '-m', `${vm.memoryMiB}M`, '-A', '-H', '-P',
    '-s', '0:0,hostbridge', '-s', '1:0,lpc',
    '-s', `2:0,virtio-net,${vm.nic}`, '-s', `3:0,virtio-blk,${vm.disk}`,
    '-l', `com1,${vm.console}A`,
    '-l', `bootrom,${vm.bootrom}`,
    vm.name,
  ],
  // The harness side of the pair is the B end; the number comes from the vm's index.
  consolePath: (_vmDir, index) => `/dev/nmdm${index}`,
  listVms: () => 'ls /dev/vmm 2>/dev/null; true',
  detach: (command) => `daemon -f ${command}`,
  imagePath: shQuote,
  evidence: (_vm, pid) => [{ name: 'kernel-stacks', command: `procstat -kk ${pid}` }],
});
