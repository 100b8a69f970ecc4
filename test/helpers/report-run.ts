// The run whose report the browser tests and the report benchmark look at:
// three tests on the lab, one of them hanging (a host with the lab's
// deadlock-on-reboot fault), on a guest with a framebuffer and a VNC password.

export const REPORT_RUN_VNC_PASSWORD = 'vnc-e2e7';

import { BUILTIN_CONFIG } from '../../harness/config/defaults.ts';

export const REPORT_RUN_CONFIG = {
  hosts: {
    lab: { transport: 'local', platform: 'lab', capacity: 2 },
    'lab-bad': { transport: 'local', platform: 'lab', capacity: 1, labFaults: 'deadlock-on-reboot' },
  },
  guests: {
    linux: {
      os: 'linux', image: { bootrom: '@lab/guest', disk: '@lab/guest/disk.img' }, credentials: { passwordEnv: 'BHYVE_LAB_PASSWORD' },
      framebuffer: { width: 800, height: 600, passwordEnv: 'BSM_VNC_PASSWORD' },
    },
  },
  stress: { iperfPhase: '4s', reboots: 2 },
  // Short phases make wrlock-iperf's own recovery check flaky on the lab (as in the gate test); the report is what is under test.
  thresholds: { ...BUILTIN_CONFIG.thresholds, recovery: 0.5 },
};

/** smoke and wrlock-iperf pass on the lab; wrlock-reboot hangs on lab-bad, and wedges it. */
export const REPORT_RUN_ARGS = ['run', 'smoke', 'wrlock-iperf', 'wrlock-reboot', '--grep', '^(smoke|wrlock-iperf)/lab/|^wrlock-reboot/lab-bad/'];

/** After it: the wedged vm of lab-bad is left as it is, so the lab host is reset (its stand-in for a reboot) and cleaned. */
export const REPORT_RUN_CLEANUP = ['clean', '--reset-lab'];
