// Figures of the lab host: boot and reboot times, write-lock cycle latency and
// rate, iperf3 throughput host→guest. Real QEMU guests; accel as the lab chooses.
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_BIN, labRunRoot, runBounded, Serial, startLabVm, type LabVm } from '../test/helpers/lab.ts';
import { fmt, median, quantile } from './stats.ts';

const BOOT_MS = 120_000;

async function bootToLogin(vm: LabVm, from: number): Promise<number> {
  const started = Date.now();
  await vm.waitForConsole(/login: /, BOOT_MS, from);
  return Date.now() - started;
}

export async function benchLab(): Promise<void> {
  const run = labRunRoot();
  const vm = startLabVm('bench1', run.env);
  try {
    // 1. Boot to login, five times (force-reset and restart between boots).
    const boots = [await bootToLogin(vm, 0)];
    for (let i = 1; i < 5; i++) {
      await vm.bhyvectl('--force-poweroff');
      await vm.bhyve;
      const from = vm.consoleText().length;
      vm.restart();
      boots.push(await bootToLogin(vm, from));
    }
    console.log(`boot to login:      median ${fmt(median(boots))}, max ${fmt(Math.max(...boots))} (n=${boots.length}: ${boots.map(fmt).join(', ')})`);
    console.log(`accel:              ${JSON.parse(readFileSync(join(vm.dir, 'state.json'), 'utf8')).accel}`);

    // 2. Guest-initiated reboot to the next login prompt, bhyve restarted as the supervisor would.
    const reboots: number[] = [];
    for (let i = 0; i < 3; i++) {
      const serial = await Serial.open(vm.console);
      await serial.login();
      const from = vm.consoleText().length;
      const started = Date.now();
      serial.write('reboot\n');
      await vm.bhyve;
      serial.close();
      vm.restart();
      await vm.waitForConsole(/login: /, BOOT_MS, from);
      reboots.push(Date.now() - started);
    }
    console.log(`reboot to login:    median ${fmt(median(reboots))} (n=${reboots.length}: ${reboots.map(fmt).join(', ')})`);

    // 3. Write-lock cycles back to back, each a separate bhyvectl as a host loop runs them.
    const latencies: number[] = [];
    const loopStart = Date.now();
    while (Date.now() - loopStart < 10_000) {
      const t = performance.now();
      const r = await runBounded(join(LAB_BIN, 'bhyvectl'), [`--vm=${vm.name}`, '--wrlock-cycle'], vm.env, 5_000);
      if (r.exitCode !== 0) throw new Error(`wrlock cycle failed: ${r.stderr}`);
      latencies.push(performance.now() - t);
    }
    const seconds = (Date.now() - loopStart) / 1000;
    console.log(`wrlock cycle:       p50 ${fmt(quantile(latencies, 0.5))}, p99 ${fmt(quantile(latencies, 0.99))}, ${(latencies.length / seconds).toFixed(0)} cycles/s in a tight loop (n=${latencies.length})`);

    // The same from a host shell loop, as the wrlock hammer runs it (no Node spawn per cycle).
    const n = 500;
    const shStart = Date.now();
    await execa('sh', ['-c', `i=0; while [ $i -lt ${n} ]; do "$0" --vm="$1" --wrlock-cycle || exit 1; i=$((i+1)); done`, join(LAB_BIN, 'bhyvectl'), vm.name], { env: vm.env, timeout: 120_000 });
    console.log(`wrlock cycle (sh):  ${(n / ((Date.now() - shStart) / 1000)).toFixed(0)} cycles/s in a host shell loop (n=${n})`);

    // 4. iperf3 host→guest through the user-mode forward, 10 s, first 2 s omitted.
    const port = JSON.parse(readFileSync(join(vm.dir, 'net.json'), 'utf8')).nics[0].forwards['5201'];
    const [host, p] = port.split(':');
    const rates: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await execa('iperf3', ['-c', host, '-p', p, '-t', '10', '-O', '2', '-J'], { timeout: 60_000 });
      rates.push(JSON.parse(String(r.stdout)).end.sum_received.bits_per_second / 1e9);
    }
    console.log(`iperf3 host→guest:  median ${median(rates).toFixed(3)} Gbit/s (n=${rates.length}: ${rates.map((r) => r.toFixed(3)).join(', ')}; user-mode net)`);
  } finally {
    await vm.bhyvectl('--destroy');
    run.cleanup();
  }
}
