// Command framing on a serial console: output and status come back whatever
// the terminal echoes around them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frameShellCommand } from '../../harness/guest/posix-shell.ts';
import { ConsoleSession, stripControl } from '../../harness/guest/console.ts';
import { Duplex, PassThrough } from 'node:stream';

describe('shell command framing', () => {
  const f = frameShellCommand('uname -sr', 'BSM0001');

  it('does not match its own echoed command line', () => {
    assert.equal(f.parse(f.line.replace(/\n/g, '\r\n')), undefined);
  });

  it('finds output and exit status after the echo, with CRLF line ends', () => {
    const text = `${f.line.replace(/\n/g, '\r\n')}BSM0001-B\r\nLinux 6.1.0\r\n\r\nBSM0001-E 0\r\n# `;
    assert.deepEqual(f.parse(text), { output: 'Linux 6.1.0\n', status: 0 });
  });

  it('reports a non-zero status and output without a final newline', () => {
    assert.deepEqual(f.parse('BSM0001-B\nno such file\nBSM0001-E 2\n'), { output: 'no such file', status: 2 });
  });

  it('waits for the end marker', () => {
    assert.equal(f.parse('BSM0001-B\npartial output'), undefined);
  });

  it('strips terminal control sequences from console text', () => {
    assert.equal(stripControl('# \x1b[6nls\r\nfile\x07\r\n'), '# ls\nfile\n');
  });
});

describe('heartbeats on the console', () => {
  // A console over an in-process stream pair: what the test writes is what the guest printed.
  async function session() {
    const fromGuest = new PassThrough();
    const line = Duplex.from({ readable: fromGuest, writable: new PassThrough() });
    const con = new ConsoleSession(async () => line, 'test console');
    const beats: number[] = [];
    con.onHeartbeat = (uptime) => beats.push(uptime);
    await con.connect(1_000);
    const print = async (text: string) => {
      fromGuest.write(text);
      await new Promise((r) => setImmediate(r));
    };
    return { con, beats, print };
  }

  it('takes a heartbeat split across chunks out of the text a reader consumes', async () => {
    const { con, beats, print } = await session();
    await print('BSM0001-B\nfirst\nBSM-HB 12.');
    assert.equal((await con.expect(/[\s\S]+/, 1_000, 'output'))[0], 'BSM0001-B\nfirst\n');
    await print('50\r\nsecond\nBSM0001-E 0\n');
    assert.equal((await con.expect(/[\s\S]+/, 1_000, 'output'))[0], 'second\nBSM0001-E 0\n');
    assert.deepEqual(beats, [12.5]);
    con.close();
  });

  it('releases held text that turns out not to be a heartbeat', async () => {
    const { con, beats, print } = await session();
    await print('size 4 MB');
    await print('\n# ');
    assert.equal((await con.expect(/# $/, 1_000, 'prompt')).input, 'size 4 MB\n# ');
    assert.deepEqual(beats, []);
    con.close();
  });
});
