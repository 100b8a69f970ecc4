// The real illumos `bhyvectl --get-stats` output (fixtures/transcripts/vmm,
// propolis#378) as bhyvectl printed it: the page shows the TAB after each
// `%-40s` description as spaces, and a description longer than 40 columns
// has no padding before its TAB. The --get-all lines before `vcpu1 stats:`
// are left out.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function illumosGetStats(): string {
  const page = readFileSync(join(import.meta.dirname, '../../fixtures/transcripts/vmm/bhyvectl-get-stats-illumos.txt'), 'utf8');
  const lines = page.split('\n');
  return lines.slice(lines.findIndex((l) => /^vcpu\d+ stats:$/.test(l)))
    .map((l) => {
      const m = /^(.*\S)\s+(-?\d+)$/.exec(l);
      return m ? `${m[1].padEnd(40)}\t${m[2]}` : l;
    }).join('\n');
}
