// The liveness watches of a stressed test, armed and paused together: the
// guest's serial heartbeat (it is alive inside) and vCPU progress from the
// host (its vCPUs run at all). Either one going quiet past the gap threshold
// trips the test's watchdog.
import type { HeartbeatWatch } from './heartbeat.ts';
import type { VcpuProgressWatch } from './vcpu-progress.ts';

export class LivenessWatch {
  constructor(
    readonly heartbeat: HeartbeatWatch,
    /** None where the host has no vCPU counters to read (its vcpu-stats capability). */
    readonly vcpus?: VcpuProgressWatch,
    /** Why there is no vCPU progress watch, where there is none. */
    readonly vcpusOff?: string,
  ) {}

  /** Starts the guest's heartbeat loop (again, after a reboot) and arms both watches. */
  async start(): Promise<void> {
    await this.heartbeat.start();
    this.vcpus?.start();
  }

  /** Before a reboot or shutdown: silence is expected until start() again. */
  pause(): void {
    this.heartbeat.pause();
    this.vcpus?.pause();
  }

  async stop(): Promise<void> {
    this.heartbeat.stop();
    await this.vcpus?.stop();
  }
}
