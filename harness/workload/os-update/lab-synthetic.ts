// The lab guest's synthetic update — NOT an OS update. The lab guest has no
// package mirror, so its image carries a staged tarball (fixtures/lab's
// stageSyntheticUpdate) which this recipe applies the way an update would:
// check the download's checksum, unpack, verify every file against the
// manifest, write the payload to the data disk and sync it, and record the new
// version on disk, where the rebooted system reads it back. It exercises the
// suite's mechanics (disk I/O and CPU under the hammer, a reboot into the
// result); reports always name it synthetic.
import { lastMatch, tailOf, type UpdateRecipe } from './recipe.ts';

const STAGE = '/var/cache/bhyve-smoke-lab/update';
/** The data disk, its version record at 1 MiB and the payload from 4 MiB (the signature block stays). */
const DISK = '/dev/vda';
const RECORD_SECTOR = 2048;
const PAYLOAD_MIB = 4;
const RECORD = /BSM-SYNTHETIC-UPDATE version=(\S+) bytes=(\d+) sha256=([0-9a-f]{64})/;
const APPLIED = /^synthetic-update: applied (.+)$/;

export const labSynthetic: UpdateRecipe = {
  method: 'lab-synthetic',
  real: false,
  command: `( cd ${STAGE} && sha256sum -c update.tar.gz.sha256 || exit 10
w=/tmp/bsm-update; rm -rf $w && mkdir -p $w && tar -xzf update.tar.gz -C $w && cd $w || exit 11
sha256sum -c MANIFEST.sha256 || exit 12
version=$(cut -d' ' -f2 VERSION); bytes=$(cat payload/part-*.bin | wc -c); sum=$(cat payload/part-*.bin | sha256sum | cut -d' ' -f1)
cat payload/part-*.bin | dd of=${DISK} bs=1M seek=${PAYLOAD_MIB} iflag=fullblock conv=fsync || exit 13
record="BSM-SYNTHETIC-UPDATE version=$version bytes=$bytes sha256=$sum"
echo "$record" | dd of=${DISK} bs=512 seek=${RECORD_SECTOR} conv=sync,fsync 2>/dev/null || exit 14
sync; cd /; rm -rf $w
echo "synthetic-update: applied $record" )`,
  parse(output, status) {
    const m = lastMatch(output, APPLIED);
    const r = m && RECORD.exec(m[1]);
    if (status !== 0 || !r) return { ok: false, summary: `synthetic update (not a real OS update) failed, exit ${status}: ${tailOf(output)}` };
    const files = output.split('\n').filter((l) => /: OK$/.test(l.trim())).length;
    return {
      ok: true,
      installed: 1,
      rebootRequired: true,
      summary: `synthetic update (not a real OS update): version ${r[1]}, ${files} checksums verified, ${(Number(r[2]) / 1048576).toFixed(0)} MiB written and synced`,
    };
  },
  verify: {
    // The record, then the payload read back from the disk.
    command: `( r=$(dd if=${DISK} bs=512 skip=${RECORD_SECTOR} count=1 2>/dev/null | tr -d '\\000' | head -n 1); echo "record: $r"
set -- $r; bytes=\${3#bytes=}
echo "read back: $(dd if=${DISK} bs=1M skip=${PAYLOAD_MIB} count=$(( \${bytes:-0} / 1048576 )) 2>/dev/null | sha256sum | cut -d' ' -f1)" )`,
    parse(output) {
      const r = RECORD.exec(output);
      const back = lastMatch(output, /^read back: ([0-9a-f]{64})$/)?.[1];
      if (!r) return { ok: false, summary: 'synthetic update: no version record on the data disk after the reboot' };
      const intact = back === r[3];
      return { ok: intact, summary: `synthetic update version ${r[1]} recorded; payload read back ${intact ? 'intact' : `differs (sha256 ${back ?? 'unreadable'}, recorded ${r[3]})`}` };
    },
  },
};
