// Reading iperf3 3.12's text output: measured intervals only (no warm-up, no
// summary lines), per stream or summed; and runs of zero-throughput intervals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkIntervalsRead, longestZeroRun, parseInterval } from '../../harness/workload/iperf3.ts';
import { UnexpectedOutput } from '../../harness/platform/host-output.ts';

// Lines as iperf3 3.12 prints them with `-i 1 -f m --forceflush` (this machine, against the lab guest).
const single = [
  '[  5] local 127.0.0.1 port 49898 connected to 127.0.0.1 port 33177',
  '[ ID] Interval           Transfer     Bitrate         Retr  Cwnd',
  '[  5]   0.00-1.00   sec  65.0 MBytes   545 Mbits/sec    1   1023 KBytes       (omitted)',
  '[  5]   0.00-1.00   sec  68.8 MBytes   577 Mbits/sec    0   1023 KBytes       ',
  '[  5]   4.00-5.00   sec  45.0 MBytes   377 Mbits/sec    0    895 KBytes       ',
  '[  5]   0.00-6.00   sec   290 MBytes   405 Mbits/sec    6             sender',
  '[  5]   0.00-5.64   sec   286 MBytes   426 Mbits/sec                  receiver',
];

describe('iperf3 text output', () => {
  it('reads measured intervals and skips warm-up, headers and summaries', () => {
    assert.deepEqual(single.map((l) => parseInterval(l, 1)).filter((v) => v !== undefined), [577, 377]);
  });

  it('reads a stalled interval as zero', () => {
    // Written in iperf3's interval format (iperf_api.c prints "%6.2f Bytes  %6.2f bits/sec" for nothing moved).
    assert.equal(parseInterval('[  5]   5.00-6.00   sec  0.00 Bytes  0.00 bits/sec    0    895 KBytes       ', 1), 0);
  });

  it('takes only [SUM] lines with parallel streams', () => {
    const lines = ['[  5]   1.00-2.00   sec  30.0 MBytes   252 Mbits/sec', '[SUM]   1.00-2.00   sec  60.0 MBytes   1.01 Gbits/sec'];
    assert.deepEqual(lines.map((l) => parseInterval(l, 2)), [undefined, 1010]);
  });

  it('a run that printed no interval it reads is an error quoting its output, not zero throughput', () => {
    checkIntervalsRead(2, single.join('\n'), 'iperf3 -c 127.0.0.1');
    // iperf3 -J (JSON), as a wrapper or another default would print it.
    assert.throws(() => checkIntervalsRead(0, '{\n\t"start":\t{\n\t\t"connected":\t[{', 'iperf3 -c 127.0.0.1'),
      (e: unknown) => e instanceof UnexpectedOutput && /`iperf3 -c 127.0.0.1` printed what bhyve-smoke cannot read: no measured interval[\s\S]*\| \{\n {2}\| \t"start":/.test(e.message));
  });

  it('finds the longest run of zero-throughput intervals', () => {
    const iv = (mbps: number[]) => mbps.map((m, t) => ({ t, mbps: m }));
    assert.equal(longestZeroRun(iv([500, 0, 0, 300, 0, 0, 0, 400])), 3);
    assert.equal(longestZeroRun(iv([500, 400])), 0);
  });
});
