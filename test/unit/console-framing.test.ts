// Command framing on a serial console: output and status come back whatever
// the terminal echoes around them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frameShellCommand } from '../../harness/guest/posix-shell.ts';
import { ConsoleSession } from '../../harness/guest/console.ts';
import { plainText } from '../../harness/plain-text.ts';
import { Secrets } from '../../harness/secrets.ts';
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
    assert.equal(plainText('# \x1b[6nls\r\nfile\x07\r\n'), '# ls\nfile\n');
  });
});

// A console over an in-process stream pair: what the test writes is what the guest printed.
async function session(secrets?: Secrets) {
  const fromGuest = new PassThrough();
  const line = Duplex.from({ readable: fromGuest, writable: new PassThrough() });
  const con = new ConsoleSession(async () => line, 'test console', secrets);
  const beats: number[] = [];
  con.onHeartbeat = (uptime) => beats.push(uptime);
  await con.connect(1_000);
  const print = async (text: string | Buffer) => {
    fromGuest.write(text);
    await new Promise((r) => setImmediate(r));
  };
  return { con, beats, print };
}

describe('heartbeats on the console', () => {
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

// Seen on the lab (CI, 2026-11-26): busybox login printed its prompt, the
// password arrived before it turned echo off, and the console showed it.
describe('secrets on the console', () => {
  it('masks a password the guest echoed, also when it came in pieces', async () => {
    const { con, print } = await session(new Secrets(['lab-guest-secret', undefined]));
    await print('login: root\r\nPassword: lab-gu');
    await print('est-secret\r\n\r\n# ');
    assert.equal(con.tail(), 'login: root\nPassword: ********\n\n# ');
    con.close();
  });

  it('masks a password cut by the tail window rather than show its end', async () => {
    const { con, print } = await session(new Secrets(['hunter22']));
    await print('Password: hunter22\n# ');
    // The last 5 characters start inside the password: none of it may show.
    assert.equal(con.tail(5), '**\n# ');
    con.close();
  });

  it('masks a password outside ASCII as the console shows it (UTF-8 bytes read as latin1)', async () => {
    const { con, print } = await session(new Secrets(['pässwort']));
    await print(Buffer.from('Password: pässwort\n', 'utf8'));
    assert.equal(con.tail(), 'Password: ********\n');
    con.close();
  });
});

describe('secrets in what the harness records', () => {
  const secrets = new Secrets(['lab', 'lab-root', '']);

  it('masks the longer of two overlapping secrets whole', () => {
    assert.equal(secrets.mask('pw lab-root and lab'), 'pw ******** and ********');
  });

  it('masks every string of a result, and keeps its shape and other values', () => {
    const result = { status: 'failed', durationMs: 12, checks: [{ name: 'login', measured: 'typed lab-root', ok: false }], error: { message: 'refused lab' }, none: null };
    assert.deepEqual(secrets.maskDeep(result), {
      status: 'failed', durationMs: 12, checks: [{ name: 'login', measured: 'typed ********', ok: false }], error: { message: 'refused ********' }, none: null,
    });
  });

  it('changes nothing without secrets (ssh access has no password)', () => {
    const result = { message: 'Password: ' };
    assert.equal(new Secrets(['', undefined]).maskDeep(result), result);
  });
});
