// vCPUs pinned to host CPUs (guests.X.pinVcpus): a vCPU that stays on one
// host CPU is measured with less of the host scheduler's noise.
//   - FreeBSD bhyve pins them itself: `-p vcpu:hostcpu`, one per vCPU
//     (usr.sbin/bhyve/amd64/bhyverun_machdep.c bhyve_optparse(),
//     bhyverun.c bhyve_pincpu_parse(): the vcpu.N.cpuset its vCPU thread
//     applies with pthread_setaffinity_np()).
//   - illumos bhyve has no `-p`: its optstring leaves it out and the code is
//     under `#ifdef __FreeBSD__` (bhyverun_machdep.c), and `-o vcpu.N.cpuset`
//     is accepted and ignored. Neither zone brand passes anything that pins
//     (SmartOS boot.c add_bhyve_extra_opts(), OmniOS boot.py's `extra`: both
//     reach that same bhyve). So the harness binds each vCPU thread from
//     outside, with pbind(8) `-b CPU PID/LWPID`: bhyve names its vCPU threads
//     "vcpu N" (common/bhyverun.c fbsdrun_start_thread(): pthread_set_name_np),
//     read from /proc/PID/lwp/LWPID/lwpname (a NUL-padded buffer: PR_LWPNAME,
//     usr/src/uts/common/fs/proc/prdata.h; libproc Plwp_getname() reads it).
//   - The lab binds QEMU's vCPU threads (its run folder's `vcpus`: index and
//     host thread id) with taskset(1).
// A binding dies with its thread, and bhyve starts anew at every guest reboot:
// the supervisor (and the zone watcher) runs the vm's pin.sh at every start of
// bhyve, which logs `pinned PID: …` or `pinning failed PID: …` to pinning.log.
import { InfraError } from '../errors.ts';
import { shQuote } from '../transport/quote.ts';
import type { Host, ScriptPinning, VmRequest } from './types.ts';

/** The script beside each bhyve, in the vm's folder: the supervisor and the zone watcher run it if it is there. */
export const PIN_SCRIPT = 'pin.sh';
export const PIN_LOG = 'pinning.log';

/** FreeBSD's `-p vcpu:hostcpu` options for a vm's pinning. */
export const bhyvePinArgs = (cpus: readonly number[] | undefined): string[] => (cpus ?? []).flatMap((cpu, vcpu) => ['-p', `${vcpu}:${cpu}`]);

/**
 * A pin script: waits (up to 30 s, while bhyve lives) until `listed` says the
 * vCPU threads are there, finds each vCPU's thread with `thread` (setting $t
 * for vCPU $v), binds it to host CPU $c with `bind`, and says what it did.
 */
function pinScript(cpus: readonly number[], how: { listed: string; where: string; thread: string; bind: string; tool: string }): string {
  const pairs = cpus.map((cpu, vcpu) => `${vcpu}:${cpu}`).join(' ');
  return `#!/bin/sh
# bhyve-smoke: pins the vCPUs of bhyve $1 (usage: pin.sh BHYVE_PID), logging the outcome
pid=$1 tries=0 done=
fail() { echo "pinning failed $pid: $*"; exit 1; }
until ${how.listed}; do
	kill -0 "$pid" 2>/dev/null || fail "bhyve exited before its vCPUs were pinned"
	tries=$((tries + 1))
	[ "$tries" -lt 300 ] || fail "no vCPU threads listed in ${how.where} within 30 s"
	sleep 0.1
done
for pair in ${pairs}; do
	v=\${pair%%:*} c=\${pair#*:} t=
	${how.thread}
	[ -n "$t" ] || fail "no thread of vCPU $v in ${how.where}"
	out=$(${how.bind} 2>&1) || fail "${how.tool}: $out"
	echo "$out"
	done="$done vcpu $v cpu $c,"
done
echo "pinned $pid:\${done%,}"
`;
}

/** illumos (raw bhyve and both zone brands): pbind of each "vcpu N" LWP (`proc` and `pbind` are other paths only in tests). */
export const pbindPinningAt = (proc = '/proc', pbind = '/usr/sbin/pbind'): ScriptPinning => ({
  how: 'after start',
  script: (_vmm, cpus) => pinScript(cpus, {
    listed: `named=$(for f in ${proc}/$pid/lwp/*/lwpname; do n=$(tr -d '\\000' <"$f" 2>/dev/null); case $n in "vcpu "*) l=\${f%/lwpname}; echo "\${l##*/} $n";; esac; done) && [ "$(echo "$named" | grep -c .)" -ge ${cpus.length} ]`,
    where: `${proc}/$pid/lwp/*/lwpname (bhyve names them 'vcpu N')`,
    thread: 't=$(echo "$named" | awk -v n="vcpu $v" \'{ l = $1; $1 = ""; sub(/^ /, ""); if ($0 == n) print l }\')',
    bind: `${pbind} -b "$c" "$pid/$t"`,
    tool: 'pbind -b $c $pid/$t',
  }),
});
export const pbindPinning = pbindPinningAt();

/** The lab: taskset on QEMU's vCPU threads, listed by the lab's bhyve in its run folder once QEMU runs. */
export const labPinning = (labVmm: string): ScriptPinning => ({
  how: 'after start',
  script: (vmm, cpus) => {
    const run = `"${labVmm}"/${shQuote(vmm)}`;
    return pinScript(cpus, {
      listed: `[ "$(cat ${run}/bhyve.pid 2>/dev/null)" = "$pid" ] && [ -s ${run}/vcpus ]`,
      where: `${run}/vcpus`,
      thread: `t=$(awk -v v="$v" '$1 == v { print $2 }' ${run}/vcpus)`,
      bind: 'taskset -p -c "$c" "$t"',
      tool: 'taskset -p -c $c $t',
    });
  },
});

/** Before bhyve starts: the vm's pin script in its folder, where the platform pins from outside (nothing for bhyve's own `-p`). */
export async function writePinScript(host: Host, vm: VmRequest, vmm: string): Promise<void> {
  const { pinning } = host.platform;
  if (!vm.pinVcpus || pinning.how !== 'after start') return;
  await host.exec(`cat > ${shQuote(`${vm.dir}/${PIN_SCRIPT}`)}`, { doing: `writing the vCPU pinning of ${vm.name}`, input: pinning.script(vmm, vm.pinVcpus) });
}

/** Once bhyve runs: the pinning it got, in words (waitPinned where the platform pins from outside). */
export async function pinnedAfterStart(host: Host, vm: VmRequest, cpus: readonly number[]): Promise<string> {
  if (host.platform.pinning.how !== 'after start') return `${cpus.map((c, v) => `vcpu ${v} cpu ${c}`).join(', ')} (bhyve -p)`;
  return waitPinned(host, vm.dir, vm.guest);
}

/**
 * Waits for the pinning of the vm's running bhyve (its pid in bhyve.pid) to
 * be logged, and returns what was pinned; a failure, or no word within the
 * time, is an error quoting the log.
 */
export async function waitPinned(host: Host, vmDir: string, guest: string): Promise<string> {
  const d = shQuote(vmDir);
  const r = await host.exec(`i=0; while [ $i -lt 200 ]; do p=$(cat ${d}/bhyve.pid 2>/dev/null); ` +
    `if [ -n "$p" ] && l=$(grep -E "^(pinned|pinning failed) $p:" ${d}/${PIN_LOG} 2>/dev/null | tail -n 1) && [ -n "$l" ]; then echo "$l"; exit 0; fi; ` +
    `i=$((i + 1)); sleep 0.2; done; echo "no word from ${PIN_SCRIPT} within 40 s"; cat ${d}/${PIN_LOG} 2>/dev/null; exit 1`, {
    doing: `waiting for the vCPUs of ${vmDir} to be pinned`, timeoutMs: 60_000, check: false,
  });
  const said = r.stdout.trim();
  const pinned = /^pinned \d+: (.*)$/.exec(said);
  if (r.exitCode === 0 && pinned) return pinned[1];
  throw new InfraError(`guests.${guest}.pinVcpus: the vCPUs were not pinned: ${said || r.stderr.trim() || `exit ${r.exitCode}`}`, { command: `cat ${vmDir}/${PIN_LOG}`, output: said });
}
