// reboot-twice — the example of docs/writing-suites.md, run as it is by
// test/integration/cli/own-suites.test.ts. Boot, log in, note the guest's
// kernel and the host's, reboot twice (each a metric, and how soon the guest
// answers after each: a metric of the suite's own), shut down.
import { bringUp, suite, timed } from 'bhyve-smoke/suite';

export default suite({
  name: 'reboot-twice',
  description: 'boot, reboot twice, shut down: the example of writing a suite',
  guests: ['linux', 'freebsd'],
  needs: [],
  // Metrics of the suite's own, beside the built-in ones: a unit, which way is better, what is measured.
  // The gate, history, calibrate, JUnit and the report take them as they take the built-in ones.
  metrics: {
    'login-after-reboot': { unit: 'ms', better: 'lower', description: 'a rebooted guest ready, to its shell answering after login' },
  },
  async run(ctx) {
    const { vm, host, check, metrics, thresholds, attach, log } = ctx;
    await bringUp(ctx);

    // A command in the guest, judged: what was seen, and what was wanted.
    const kernel = await check.step('the guest says its kernel', () => vm.run('uname -sr'), thresholds.commandMs);
    check.match('the guest runs a kernel we know', kernel.output, /Linux|FreeBSD/);

    // A command on the host, through the same transport the harness uses (zx, POSIX quoting).
    const hostKernel = (await host.$`uname -sr`).stdout.trim();
    attach('host-kernel.txt', `${hostKernel}\n`);
    log(`host kernel: ${hostKernel}`);

    for (const n of [1, 2]) {
      // Each reboot's time goes into the reboot-time metric (compare and history read it).
      await timed(metrics, 'reboot-time', () => check.step(`reboot ${n} is ready again`, () => vm.reboot(thresholds.rebootReadyMs), thresholds.rebootReadyMs));
      await timed(metrics, 'login-after-reboot', () => check.step(`logs in after reboot ${n}`, () => vm.login()));
    }

    const status = await check.step('shuts down', () => vm.shutdown(thresholds.rebootReadyMs));
    check.that('bhyve reports a poweroff', status === 1, { measured: `bhyve exit ${status}`, threshold: 'exit 1 (powered off)' });
  },
});
