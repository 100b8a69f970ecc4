// POSIX sh quoting: what a host's sh parses back must be exactly the argument.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { shJoin, shQuote } from '../../harness/transport/quote.ts';

const nasty = ["plain", "a b", "it's", "$(touch /tmp/pwned)", "`id`", "semi;colon", "new\nline", "", "back\\slash", "\"dq\"", "*", "-n", "é ü"];

describe('POSIX sh quoting', () => {
  it('leaves safe words bare and quotes the rest', () => {
    assert.equal(shQuote('bsm-abc-1'), 'bsm-abc-1');
    assert.equal(shQuote('/tmp/x.sock'), '/tmp/x.sock');
    assert.equal(shQuote("it's"), `'it'\\''s'`);
    assert.equal(shQuote(''), "''");
  });

  for (const shell of ['/bin/sh', '/bin/dash', '/bin/bash']) {
    it(`round-trips hostile arguments through ${shell}`, () => {
      const out = execFileSync(shell, ['-c', `printf '%s\\0' ${shJoin(nasty)}`]).toString();
      assert.deepEqual(out.split('\0').slice(0, -1), nasty);
    });
  }
});
