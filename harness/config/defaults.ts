// The built-in config: the lab host on this machine and the lab's Linux guest.
// With no config file, `bhyve-smoke run` uses these.
import type { ConfigInput } from './schema.ts';

export const BUILTIN_CONFIG: ConfigInput = {
  hosts: {
    lab: { transport: 'local', platform: 'lab', capacity: 2 },
  },
  guests: {
    linux: {
      os: 'linux',
      image: { bootrom: '@lab/guest', disk: '@lab/guest/disk.img' },
      vcpus: 1,
      memory: '256M',
      access: 'serial',
      // Unset, the lab guest's password comes from fixtures/lab/lab.json.
      credentials: { user: 'root', passwordEnv: 'BHYVE_LAB_PASSWORD' },
      // No package mirror in the lab: its update is the synthetic stand-in, named as such.
      update: 'lab-synthetic',
    },
  },
  // The lab's flat-out hammer (one C bhyvectl per cycle, QEMU's stop and cont) holds the guest about half
  // the time: a clean lab keeps 45-70% of its unstressed throughput under the hard dose (6 runs, 4 s phases),
  // slow-wrlock=50 about 25%. Real hosts keep the default, 50%.
  // Its phases drift apart by more than a recovery check at 80% allows: over 30 clean wrlock-iperf runs the
  // recovery phase's median sat at 53-151% of the unstressed one (69% twice), and 2 of 15 recorded nights
  // failed at 80% (docs/noise.md). At 50% none of them fails (npm run bench -- false-alarms), and the lab's
  // lingering-wrlock fault, a write lock whose effect outlives it, still does. Real hosts keep the default, 80%.
  // A lab host reboots in seconds and writes its crash record as it goes down: it is waited for a minute, not ten.
  // Its processes all run on this one machine: a lease a dead run left goes stale in 20 s, not a minute.
  thresholds: { throughputUnderHammer: 0.3, recovery: 0.5, hostUnresponsive: '15s', hostReturn: '60s', crashRecordWait: '20s', leaseStale: '20s' },
  // Calibrated on the lab (npm run bench -- gate; fixtures/recorded): these series only add false alarms there.
  gate: {
    ignore: [
      { metric: 'wrlock-cycle-p99', reason: 'run-to-run CV 127% on the lab: one slow cycle moves it; blocked cycles are the hang watch\'s business' },
      { metric: 'wrlock-hold-p99', reason: 'run-to-run CV 80% on the lab (npm run bench -- pinning), as the round trip\'s p99: one slow cycle moves it' },
      { metric: 'throughput-ratio', reason: 'noisier than the dosed throughput on the lab (CV 9.5-11.9% against 7.4-8.0%): pairing adds the unstressed phase\'s noise' },
    ],
  },
  profiles: {
    quick: { thresholds: { bootReady: '60s', rebootReady: '60s' }, testTimeout: '5m' },
    nightly: { repeatEach: 1, retries: 1 },
    // 20 tests a side: what the gate needs against the lab's run-to-run noise (see bench/gate.ts). Not pinned:
    // on this 2-core box a pinned vCPU shares its CPU with the hammer and iperf3, and most series got noisier
    // (npm run bench -- pinning, docs/noise.md).
    gate: { repeatEach: 20, retries: 0 },
  },
};
