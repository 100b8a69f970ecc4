// The OS update recipes' parsers, read against real output of each tool
// (fixtures/transcripts/os-update/SOURCES.md says where each came from). The
// `BSM-UPDATE` and `BSM-WU` lines are the ones our own recipes print.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { freebsdUpdate } from '../../harness/workload/os-update/freebsd.ts';
import { apt, dnf, zypper } from '../../harness/workload/os-update/linux.ts';
import { UPDATE_RECIPES } from '../../harness/workload/os-update/recipes.ts';
import { windowsUpdate } from '../../harness/workload/os-update/windows.ts';
import { validate } from '../../harness/config/load.ts';
import { BUILTIN_CONFIG } from '../../harness/config/defaults.ts';

const transcript = (name: string) => readFileSync(new URL(`../../fixtures/transcripts/os-update/${name}`, import.meta.url), 'utf8');

describe('OS update recipes', () => {
  it('apt: counts upgraded and new packages from the summary line; a failed run names its exit', () => {
    const out = transcript('apt-simulate-debian12.txt');
    assert.deepEqual(apt.parse(out, 0), { ok: true, installed: 133, rebootRequired: false, summary: 'apt-get: 133 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.' });
    assert.equal(apt.parse(`${out}BSM-UPDATE reboot-required\n`, 0).rebootRequired, true);
    const failed = apt.parse(`${out}E: Could not get lock /var/lib/dpkg/lock-frontend\n`, 100);
    assert.equal(failed.ok, false);
    assert.match(failed.summary, /^apt-get exited 100: .*Could not get lock/);
    // After the reboot, the same output means updates are still pending.
    assert.equal(apt.verify.parse(`6.1.0-56-cloud-amd64\n${out}`, 0).ok, false);
  });

  it('dnf: reads dnf5 transaction summaries', () => {
    const r = dnf.parse(transcript('dnf5-upgrade-fedora42.txt'), 0);
    assert.deepEqual(r, { ok: true, installed: 3, rebootRequired: false, summary: 'dnf upgrade: 3 upgraded' });
    assert.deepEqual(dnf.verify.parse('6.14.2-300.fc42.x86_64\ncheck-update exit 100\n', 0), { ok: false, summary: 'kernel 6.14.2-300.fc42.x86_64; dnf check-update finds updates still pending' });
  });

  it('zypper: counts the packages to upgrade and install; exit 102 is success with a reboot', () => {
    const out = transcript('zypper-dup-summary.txt');
    assert.deepEqual(zypper.parse(out, 102), { ok: true, installed: 288 + 5878, rebootRequired: true, summary: 'zypper update: 6166 packages upgraded or installed' });
    assert.equal(zypper.parse(out, 4).ok, false);
  });

  it('freebsd-update: a base system updated needs a reboot; nothing fetched is already current', () => {
    const updated = freebsdUpdate.parse(`${transcript('freebsd-update-12.1.txt')}BSM-UPDATE fetch 0 install 0 pkg 0\n`, 0);
    assert.deepEqual(updated, { ok: true, installed: 1, rebootRequired: true, summary: 'base system updated; 0 packages upgraded or installed' });
    const none = freebsdUpdate.parse(`${transcript('freebsd-update-none-13.0.txt')}BSM-UPDATE fetch 0 install skipped pkg 0\n`, 0);
    assert.equal(none.summary, 'base system already current; 0 packages upgraded or installed');
    const failed = freebsdUpdate.parse('BSM-UPDATE fetch 1 install skipped pkg 0\n', 1);
    assert.match(failed.summary, /^freebsd-update fetch exited 1, install skipped, pkg upgrade 0/);
    // The install step is skipped exactly when fetch printed a nothing-to-fetch line.
    assert.match(freebsdUpdate.command, /grep -Eq 'No updates needed to update system to\|No updates are available to fetch'/);
  });

  it('windows-update: success, a failed update named, and the API error when the task could not run', () => {
    const title = '2024-01 Cumulative Update for Windows Server 2022 for x64-based Systems (KB5034129)';
    const ok = windowsUpdate.parse(`BSM-WU found 1\nBSM-WU download 2\nBSM-WU result 2 ${title}\nBSM-WU install 2 reboot True\nBSM-WU end 0\n`, 0);
    assert.deepEqual(ok, { ok: true, installed: 1, rebootRequired: true, summary: 'Windows Update: 1 updates installed' });
    const bad = windowsUpdate.parse(`BSM-WU found 1\nBSM-WU download 2\nBSM-WU result 4 ${title}\nBSM-WU install 4 reboot False\nBSM-WU end 0\n`, 0);
    assert.equal(bad.ok, false);
    assert.match(bad.summary, /install result 4 \(2 is success\); not installed: 2024-01 Cumulative Update/);
    const denied = windowsUpdate.parse('BSM-WU error 0x80070005 Access is denied.\nBSM-WU end 1\n', 1);
    assert.deepEqual(denied, { ok: false, summary: 'Windows Update failed: 0x80070005 Access is denied.' });
  });

  it('auto-detection never picks the synthetic update; the config rejects an update of another OS', () => {
    for (const recipes of Object.values(UPDATE_RECIPES)) assert.ok(recipes.every((r) => r.real === (r.detect !== undefined)));
    const guest = { ...BUILTIN_CONFIG.guests.linux, update: 'freebsd-update' as const };
    assert.throws(() => validate({ ...BUILTIN_CONFIG, guests: { linux: guest } }, 'test.yaml'), /guests\.linux\.update.*"freebsd-update" is not an update for linux guests; use auto or one of apt, dnf, zypper, lab-synthetic/s);
  });
});
