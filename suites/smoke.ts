// smoke — the general smoke test of the typical guest population. Per guest:
// provision it, boot to the login prompt within the threshold, log in, look
// around (kernel, uptime, network up, disk readable), reboot gracefully and be
// ready again, shut down cleanly. The runner destroys the vm afterwards.
import { suite } from '../harness/suite.ts';

export default suite({
  name: 'smoke',
  description: 'boot, log in, look around, reboot, shut down',
  guests: ['linux', 'freebsd'],
  needs: [],
  async run({ vm, check, thresholds }) {
    await check.step('provisions under the supervisor', () => vm.provision());
    await check.step('boots to a login prompt', () => vm.waitReady(thresholds.bootReadyMs), thresholds.bootReadyMs);
    await check.step('logs in on the serial console', () => vm.login());

    const probes = vm.probes;
    check.match('kernel answers uname', (await vm.run(probes.kernel)).output, /^(Linux|FreeBSD) \S+/);
    const uptime = Number((await vm.run(probes.uptimeSeconds)).output.trim());
    check.that('uptime is a plausible number of seconds', uptime > 0 && uptime < 24 * 3600, { measured: `${uptime} s`, threshold: '0 < uptime < 1 day' });
    // The link may come up a moment after the login prompt: give it the command threshold.
    const interfaces = (await vm.poll(probes.interfaces, /^\S+ up$/m, thresholds.commandMs)).trim();
    check.that('a network interface is up', /^\S+ up$/m.test(interfaces), { measured: interfaces || '(no interfaces)', threshold: 'one interface up' });
    check.match('the boot disk is readable', (await vm.run(probes.diskRead)).output, /^\s*4096\s*$/);

    await check.step('reboots gracefully and is ready again', () => vm.reboot(thresholds.rebootReadyMs), thresholds.rebootReadyMs);
    await check.step('logs in again after the reboot', () => vm.login());

    const status = await check.step('shuts down', () => vm.shutdown(thresholds.rebootReadyMs));
    check.that('bhyve reports a poweroff', status === 1, { measured: `bhyve exit ${status}`, threshold: 'exit 1 (powered off)' });
  },
});
