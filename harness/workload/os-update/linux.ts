// OS updates on Linux guests: apt (Debian, Ubuntu), dnf (Fedora, RHEL and its
// rebuilds; dnf4 and dnf5 print differently), zypper (SUSE). Each runs in a
// subshell so nothing it exports stays in the console's login shell.
import { lastMatch, tailOf, type UpdateRecipe } from './recipe.ts';

/** Printed by a recipe when the tool leaves a reboot pending. */
const REBOOT_REQUIRED = 'BSM-UPDATE reboot-required';
const rebootRequired = (output: string) => output.includes(REBOOT_REQUIRED);
const failed = (tool: string, status: number, output: string) => ({ ok: false, summary: `${tool} exited ${status}: ${tailOf(output)}` });
const firstLine = (output: string) => output.trim().split('\n')[0]?.trim() ?? '';

/** apt-get's summary: `133 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.` */
const APT_SUMMARY = /^(\d+) upgraded, (\d+) newly installed, (\d+) to remove and (\d+) not upgraded\.$/;

export const apt: UpdateRecipe = {
  method: 'apt',
  real: true,
  detect: 'command -v apt-get >/dev/null',
  // confdef/confold: keep local configuration without asking.
  command: `( export DEBIAN_FRONTEND=noninteractive
apt-get -q update && apt-get -q -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold dist-upgrade
rc=$?; [ -f /var/run/reboot-required ] && echo '${REBOOT_REQUIRED}'; exit $rc )`,
  parse(output, status) {
    const m = lastMatch(output, APT_SUMMARY);
    if (status !== 0 || !m) return failed('apt-get', status, output);
    return {
      ok: true,
      installed: Number(m[1]) + Number(m[2]),
      rebootRequired: rebootRequired(output),
      summary: `apt-get: ${m[0]}`,
    };
  },
  verify: {
    command: '( uname -r; apt-get -s dist-upgrade )',
    parse(output, status) {
      const m = lastMatch(output, APT_SUMMARY);
      const pending = m ? Number(m[1]) + Number(m[2]) : undefined;
      return {
        ok: status === 0 && pending === 0,
        summary: `kernel ${firstLine(output)}; ${m ? `apt-get -s: ${m[0]}` : `apt-get -s exited ${status}: ${tailOf(output)}`}`,
      };
    },
  },
};

/** dnf4's `Upgrade  3 Packages` and dnf5's ` Upgrading:   3 packages` in the transaction summary. */
const DNF_COUNT = /^(Install|Upgrade|Installing|Upgrading)\s*:?\s+(\d+) [Pp]ackages?$/;

export const dnf: UpdateRecipe = {
  method: 'dnf',
  real: true,
  detect: 'command -v dnf >/dev/null',
  command: `( dnf -y upgrade --refresh
rc=$?; dnf needs-restarting -r 2>/dev/null | grep -q 'Reboot is required' && echo '${REBOOT_REQUIRED}'; exit $rc )`,
  parse(output, status) {
    if (status !== 0) return failed('dnf upgrade', status, output);
    const counts = output.split('\n').map((l) => DNF_COUNT.exec(l.trim())).filter((m) => m !== null);
    const installed = counts.reduce((n, m) => n + Number(m[2]), 0);
    const nothing = /^Nothing to do\.$/m.test(output);
    return {
      ok: true,
      installed,
      rebootRequired: rebootRequired(output),
      summary: nothing ? 'dnf upgrade: nothing to do' : `dnf upgrade: ${counts.map((m) => `${m[2]} ${/^Install/.test(m[1]) ? 'installed' : 'upgraded'}`).join(', ') || 'completed'}`,
    };
  },
  verify: {
    // check-update exits 100 when updates are pending, 0 when none.
    command: '( uname -r; dnf -q check-update >/dev/null 2>&1; echo "check-update exit $?" )',
    parse(output) {
      const exit = lastMatch(output, /^check-update exit (\d+)$/)?.[1];
      return { ok: exit === '0', summary: `kernel ${firstLine(output)}; dnf check-update ${exit === '0' ? 'finds nothing pending' : exit === '100' ? 'finds updates still pending' : `exited ${exit}`}` };
    },
  },
};

/** zypper's `The following 5878 packages are going to be upgraded:`, `... 288 NEW packages are going to be installed:`, or one `package is`. */
const ZYPPER_COUNT = /^The following (?:(\d+) )?(?:NEW )?packages? (?:is|are) going to be (?:upgraded|installed):$/;
/** zypper's exit codes: 102 a reboot is needed, 103 zypper updated itself and must run again. */
const ZYPPER_REBOOT_NEEDED = 102;

export const zypper: UpdateRecipe = {
  method: 'zypper',
  real: true,
  detect: 'command -v zypper >/dev/null',
  command: `( zypper --non-interactive --gpg-auto-import-keys refresh || exit $?
rc=103; n=0
while [ $rc -eq 103 ] && [ $n -lt 3 ]; do zypper --non-interactive update --auto-agree-with-licenses; rc=$?; n=$((n + 1)); done
exit $rc )`,
  parse(output, status) {
    if (status !== 0 && status !== ZYPPER_REBOOT_NEEDED) return failed('zypper update', status, output);
    const counts = output.split('\n').map((l) => ZYPPER_COUNT.exec(l.trim())).filter((m) => m !== null);
    const installed = counts.reduce((n, m) => n + Number(m[1] ?? 1), 0);
    return {
      ok: true,
      installed,
      rebootRequired: status === ZYPPER_REBOOT_NEEDED,
      summary: installed ? `zypper update: ${installed} packages upgraded or installed` : 'zypper update: nothing to do',
    };
  },
  verify: {
    command: '( uname -r; zypper --non-interactive list-updates )',
    parse(output, status) {
      const none = /^No updates found\.$/m.test(output);
      return { ok: status === 0 && none, summary: `kernel ${firstLine(output)}; zypper list-updates: ${none ? 'no updates found' : tailOf(output, 3)}` };
    },
  },
};
