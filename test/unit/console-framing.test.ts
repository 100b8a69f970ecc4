// Command framing on a serial console: output and status come back whatever
// the terminal echoes around them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frameShellCommand } from '../../harness/guest/posix-shell.ts';
import { stripControl } from '../../harness/guest/console.ts';

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
