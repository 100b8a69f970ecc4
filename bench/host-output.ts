// What reading host output in its shape costs: the vCPU progress watch now
// parses bhyvectl's and kstat's own lines in the harness (twice a second per
// vm), and every run start probes the host's capabilities (bhyvectl's usage
// text, bhyve -s help). Figures: µs per sample, ms per probe on the lab.
import { BUILTIN_CONFIG } from '../harness/config/defaults.ts';
import { validate } from '../harness/config/load.ts';
import { createHost } from '../harness/host.ts';
import { probeCapabilities } from '../harness/run/health.ts';
import { kstatProgress, statsProgress } from '../harness/platform/vcpu-stats.ts';
import { illumosGetStats } from '../test/helpers/get-stats-transcript.ts';
import { fmt, median } from './stats.ts';

const SAMPLES = 20_000;
const PROBES = 20;

function perSample(parse: () => unknown): number {
  for (let i = 0; i < 2_000; i++) parse();
  const t = performance.now();
  for (let i = 0; i < SAMPLES; i++) parse();
  return ((performance.now() - t) / SAMPLES) * 1000;
}

export async function benchHostOutput(): Promise<void> {
  const illumos = statsProgress('bhyvectl', 'total number of vm exits');
  const stats = illumosGetStats();
  const twoVcpus = [0, 1].map((c) => `R ${c}\n${stats}\nX ${c} 0\n`).join('');
  const states = ['time_init', 'time_run', 'time_idle', 'time_emu_kern', 'time_emu_user', 'time_sched'];
  const kstats = ['vmm:1:vm:vm_name\tother', 'vmm:3:vm:vm_name\tbsm-x-1', ...Array.from({ length: 4 }, (_, c) => states.map((s, i) => `vmm:3:vcpu${c}:${s}\t${c * 1000 + i}`)).flat()].join('\n');
  console.log(`parse, illumos --get-stats sample of 2 vCPUs (${twoVcpus.split('\n').length} lines): ${perSample(() => illumos.parse(twoVcpus, 'vm1', 2)).toFixed(1)} µs`);
  console.log(`parse, vmm kstat sample of 4 vCPUs (${kstats.split('\n').length} lines): ${perSample(() => kstatProgress.parse(kstats, 'bsm-x-1', 4)).toFixed(1)} µs`);

  // The run's own probe, on the lab host the built-in config names.
  const host = createHost('lab', validate(BUILTIN_CONFIG, 'built-in').hosts.lab);
  const probes: number[] = [];
  try {
    for (let i = 0; i < PROBES; i++) {
      const t = performance.now();
      await probeCapabilities(host, []);
      probes.push(performance.now() - t);
    }
  } finally {
    await host.close();
  }
  console.log(`capability probe on the lab (bhyvectl usage and bhyve -s help, both at once), median of ${PROBES}: ${fmt(median(probes))}`);
}
