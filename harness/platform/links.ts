// Each vm's own network link, made before its bhyve starts and removed with it.
// A link takes one vm: viona adds a VNIC's primary unicast address, which a
// VNIC takes once (illumos mac_client.c i_mac_unicast_add(): EBUSY, and bhyve
// exits 4), and a FreeBSD tap takes one open at a time (if_tuntap.c tunopen():
// EBUSY). So vms running at once on one host never share the host's `nic`:
// they get links made over it (a VNIC over the physical link or etherstub) or
// added to it (a tap on the bridge), named or described after the vm, so the
// ownership rule, teardown and `clean` cover them as they cover vms.
import { shQuote } from '../transport/quote.ts';
import type { HostCheck, LinkRecipe } from './types.ts';
import { readLines, UnexpectedOutput } from './host-output.ts';

/** A link name (libdladm dladm_valid_linkname()): [A-Za-z0-9_.], at most 31, ending in a number; no '-'. */
export const vnicName = (vmName: string) => vmName.replace(/-/g, '_');
/** The vm a VNIC of ours was made for: `<prefix>_<run id>_<n>` back to `<prefix>-<run id>-<n>`. */
const vmOfVnic = (link: string) => (/^[a-z][a-z0-9]*_[a-z0-9]+_[1-9][0-9]*$/.test(link) ? link.replace(/_/g, '-') : undefined);

/** A delete that a bhyve still exiting may answer "link busy" to: tried for up to 10 s. */
const untilGone = (command: string) => `i=0; until ${command}; do i=$((i + 1)); [ $i -ge 10 ] && exit 1; sleep 1; done`;

/**
 * Link classes a VNIC can be made over: dladm(8) names physical links,
 * etherstubs and overlays; libdlvnic.c dladm_vnic_create() refuses only vnic
 * and vlan, so aggr and simnet pass too.
 */
export const VNIC_OVER = ['phys', 'aggr', 'etherstub', 'overlay', 'simnet'];

/**
 * illumos (and the lab's stand-in, which answers the same command lines): a
 * temporary VNIC per vm, `dladm create-vnic -t -l NIC <vm name with _>`; a
 * host reboot drops it, as it drops the vm. `dladm show-vnic -p -o link,over`
 * lists them (libofmt: fields joined by ':'; link names hold no ':').
 */
export function vnicLinks(dladm: string, mayCreate: HostCheck): LinkRecipe {
  const d = shQuote(dladm);
  return {
    create: (vmName, nic, vmDir) => {
      const name = shQuote(vnicName(vmName));
      return `${d} create-vnic -t -l ${shQuote(nic)} ${name} && echo ${name} >${shQuote(`${vmDir}/link`)} && echo ${name}`;
    },
    // Ours by name; "link busy" while bhyve still holds it (dladm.c do_delete_vnic_common(), EBUSY).
    destroy: (vmName) => {
      const name = shQuote(vnicName(vmName));
      return `if ${d} show-vnic -p -o link ${name} >/dev/null 2>&1; then ${untilGone(`${d} delete-vnic -t ${name}`)}; fi`;
    },
    list: {
      command: `${d} show-vnic -p -o link,over`,
      // Two fields; a link name (dladm_valid_linkname()) holds no ':' to escape.
      parse: (output) => readLines(output, { command: `${dladm} show-vnic -p -o link,over`, expected: 'one VNIC a line, `LINK:OVER` (libofmt\'s parsable form: two fields joined by `:`, no header)' },
        /^([A-Za-z0-9_.]+):([A-Za-z0-9_.]*)$/, (m) => {
          const vm = vmOfVnic(m[1]);
          return vm ? { link: m[1], vm } : undefined;
        }),
    },
    remove: (l) => `${d} delete-vnic -t ${shQuote(l.link)}`,
    checks: (nic) => [vnicOverCheck(dladm, nic), mayCreate],
  };
}

/** doctor: `nic` is a link VNICs can be made over (`dladm show-link -p -o link,class`: `igb0:phys`). */
export const vnicOverCheck = (dladm: string, nic: string): HostCheck => ({
  what: `vm network ${nic}`,
  command: `${shQuote(dladm)} show-link -p -o link,class ${shQuote(nic)}`,
  judge: (out, code) => {
    if (code !== 0) return `no link ${nic} on the host: each vm's VNIC is made over it (dladm create-vnic -l ${nic})`;
    const cls = /^[A-Za-z0-9_.]+:([a-z]+)$/.exec(out)?.[1];
    if (!cls) return new UnexpectedOutput({ command: `dladm show-link -p -o link,class ${nic}`, expected: 'one line `LINK:CLASS`' }, out, 'not one such line').message;
    return VNIC_OVER.includes(cls) || `${nic} is a ${cls} link: a VNIC is made over a physical link, an aggregation or an etherstub, not over a ${cls}`;
  },
});

/**
 * Creating a VNIC needs sys_dl_config in the effective set (vnic.c:
 * VNIC_IOC_CREATE). `ppriv -v` spells the set out as a comma list (ppriv.c).
 */
export const ILLUMOS_MAY_CREATE_VNICS: HostCheck = {
  what: 'may create VNICs',
  command: `ppriv -v $$ | awk '$1 == "E:" { print $2 }' | tr , '\\n' | grep -qx sys_dl_config`,
  judge: (_, code) => code === 0 || 'the harness\'s user lacks the sys_dl_config privilege that making a VNIC per vm needs',
};

/**
 * Every tap and its description (ifconfig(8) prints one as `\tdescription:
 * TEXT`, ifconfig.c status()). `ifconfig -g tap` lists the group's members
 * and exits 0 with nothing when the group does not exist (ifgroup.c
 * printgroup(): ENOENT), so no tap is an empty listing; any other failure
 * fails the listing, as does a tap that is still listed but cannot be read
 * (one destroyed meanwhile is skipped).
 */
export const TAP_LISTING = 'taps=$(ifconfig -g tap) || exit $?; for t in $taps; do ' +
  'if ! d=$(ifconfig "$t" 2>&1); then ifconfig -g tap | grep -qx "$t" || continue; printf \'%s\\n\' "$d" >&2; exit 1; fi; ' +
  `echo "$t $(printf '%s\\n' "$d" | sed -n 's/^[[:space:]]*description: //p' | head -n 1)"; done`;

/**
 * FreeBSD: a tap per vm (`ifconfig tap create` prints the name the kernel
 * chose, ifclone.c), described with the vm's name, up, and added to the host's
 * bridge. bhyve picks its tap backend by the name's `tap` prefix
 * (net_backends.c) and opens /dev/tapN. `ifconfig tapN destroy` waits while a
 * bhyve has it open (if_tuntap.c tun_destroy()), so it comes after bhyve.
 */
export const tapLinks: LinkRecipe = {
  create: (vmName, bridge, vmDir) => [
    `t=$(ifconfig tap create) && [ -n "$t" ]`,
    `echo "$t" >${shQuote(`${vmDir}/link`)}`,
    `ifconfig "$t" description ${shQuote(vmName)} up`,
    `ifconfig ${shQuote(bridge)} addm "$t"`,
    'echo "$t"',
  ].join(' && '),
  // Only the tap recorded in the vm's folder, and only while it still carries the vm's name: unit numbers are reused.
  destroy: (vmName, vmDir) => {
    const file = shQuote(`${vmDir}/link`);
    return `if [ -f ${file} ] && t=$(cat ${file}) && ifconfig "$t" 2>/dev/null | grep -q "description: ${vmName}$"; then ifconfig "$t" destroy; fi`;
  },
  list: {
    command: TAP_LISTING,
    // A tap without a description, or with one no vm name could be (a blank in it), is nobody's vm.
    parse: (output) => readLines(output, { command: TAP_LISTING, expected: 'one tap a line, `tapN DESCRIPTION` (the listing loop over `ifconfig -g tap`; the description may be empty)' },
      /^(tap\d+)(?: (.*))?$/, (m) => (m[2] && /^\S+$/.test(m[2]) ? { link: m[1], vm: m[2] } : undefined)),
  },
  remove: (l) => `ifconfig ${shQuote(l.link)} destroy`,
  checks: (bridge) => [
    {
      what: `vm network ${bridge}`,
      // `ifconfig -g bridge` lists the members of the interface group bridge, one a line.
      command: `ifconfig -g bridge | grep -qx ${shQuote(bridge)}`,
      judge: (_, code) => code === 0 || `no bridge ${bridge} on the host: each vm's tap is added to it (ifconfig ${bridge} addm tapN)`,
    },
    {
      what: 'may create taps',
      // `ifconfig -C` lists the interface cloners on one line; making an interface takes root.
      command: `ifconfig -C | tr ' ' '\\n' | grep -qx tap && [ "$(id -u)" -eq 0 ]`,
      judge: (_, code) => code === 0 || 'taps cannot be made here: no tap cloner (kldload if_tuntap) or not root',
    },
  ],
};
