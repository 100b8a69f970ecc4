// OS updates on FreeBSD guests: the base system with freebsd-update(8), then
// packages with pkg(8). `fetch install` in one call is unreliable (install
// fails, or prints "Run fetch first", when fetch found nothing — see
// freebsd/freebsd-src#1096, cbsd/cbsd#311), so install runs only when fetch
// found updates.
import { lastMatch, tailOf, type UpdateRecipe } from './recipe.ts';

/** What fetch prints when the base system is current. */
const NOTHING_TO_FETCH = /No updates needed to update system to|No updates are available to fetch/;
const PKG_COUNT = /^Number of packages to be (upgraded|installed): (\d+)$/;
const RESULT = /^BSM-UPDATE fetch (\d+) install (\d+|skipped) pkg (\d+)$/;

export const freebsdUpdate: UpdateRecipe = {
  method: 'freebsd-update',
  real: true,
  detect: 'command -v freebsd-update >/dev/null',
  command: `( export PAGER=cat ASSUME_ALWAYS_YES=yes
log=/tmp/bsm-freebsd-update.$$
freebsd-update --not-running-from-cron fetch >$log 2>&1; f=$?; cat $log
i=skipped
if [ $f -eq 0 ] && ! grep -Eq '${NOTHING_TO_FETCH.source}' $log; then freebsd-update --not-running-from-cron install; i=$?; fi
rm -f $log
pkg upgrade -y; p=$?
echo "BSM-UPDATE fetch $f install $i pkg $p"
[ $f -eq 0 ] && [ $i != 1 ] && [ $p -eq 0 ] )`,
  parse(output, status) {
    const r = lastMatch(output, RESULT);
    if (status !== 0 || !r) return { ok: false, summary: r ? `freebsd-update fetch exited ${r[1]}, install ${r[2]}, pkg upgrade ${r[3]}: ${tailOf(output)}` : `the update exited ${status}: ${tailOf(output)}` };
    const base = r[2] === '0';
    const pkgs = output.split('\n').map((l) => PKG_COUNT.exec(l.trim())).filter((m) => m !== null).reduce((n, m) => n + Number(m[2]), 0);
    return {
      ok: true,
      installed: pkgs + (base ? 1 : 0),
      // A new base system (kernel included) is only running after a reboot.
      rebootRequired: base,
      summary: `base system ${base ? 'updated' : 'already current'}; ${pkgs} packages upgraded or installed`,
    };
  },
  verify: {
    // freebsd-version -kru: the installed kernel, the running kernel, the userland.
    command: `( freebsd-version -kru; PAGER=cat freebsd-update --not-running-from-cron fetch 2>&1 | tail -n 2; pkg upgrade -n 2>&1 | tail -n 1 )`,
    parse(output) {
      const [installed, running, userland] = output.trim().split('\n').map((l) => l.trim());
      const baseCurrent = NOTHING_TO_FETCH.test(output);
      const pkgCurrent = /Your packages are up to date/.test(output);
      return {
        ok: installed === running && baseCurrent && pkgCurrent,
        summary: `kernel ${running} running (${installed} installed), userland ${userland}; base ${baseCurrent ? 'current' : 'updates pending'}; packages ${pkgCurrent ? 'current' : 'updates pending'}`,
      };
    },
  },
};
