// doctor --record on the lab: the read-only commands the lab platform relies
// on, written as transcripts the project accepts as fixtures (the same check
// fixtures/transcripts/hosts gets), with no password, key, host name or
// address from the config or the host in them.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { BUILTIN_CONFIG } from '../../../harness/config/defaults.ts';
import { inSandbox } from '../../helpers/cli.ts';
import { acceptRecording } from '../../helpers/host-transcripts.ts';

const SECRETS = { BSM_REC_PASSWORD: 'rec-secret-4711', BSM_REC_VNC: 'vnc4711' };

describe('doctor --record', { timeout: 300_000 }, () => {
  it('writes the lab host\'s transcripts as fixtures, names, addresses and secrets replaced', async () => {
    await inSandbox(async (box) => {
      const linux = BUILTIN_CONFIG.guests.linux;
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), stringify({
        ...BUILTIN_CONFIG,
        guests: { linux: { ...linux, credentials: { user: 'root', passwordEnv: 'BSM_REC_PASSWORD' }, framebuffer: { width: 800, height: 600, passwordEnv: 'BSM_REC_VNC' } } },
      }));
      const r = await box.run(['doctor', '--record', 'rec'], { env: { ...box.env, ...SECRETS } });
      assert.equal(r.exitCode, 0, `${r.stdout}${r.stderr}`);
      assert.match(String(r.stdout), /recorded \d+ transcripts in .*\/rec\/lab \(names, addresses and secrets replaced/);
      const dir = join(box.dir, 'rec', 'lab');
      acceptRecording(dir, 'lab');
      const texts = readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')] as const);
      for (const [f, text] of texts) {
        for (const secret of Object.values(SECRETS)) assert.ok(!text.includes(secret), `${f} holds a secret`);
        if (f.endsWith('.txt')) assert.ok(!new RegExp(`(?<![\\w.-])${hostname()}(?![\\w-])`).test(text), `${f} holds the host name ${hostname()}`);
        assert.deepEqual([...text.matchAll(/\b(?:\d{1,3}\.){3}\d{1,3}\b/g)].map((m) => m[0]).filter((ip) => ip !== '127.0.0.1' && ip !== '0.0.0.0'), [], `${f}: no address`);
      }
      assert.match(readFileSync(join(dir, 'uname-a.txt'), 'utf8'), /^Linux <host> /);
      const bad = await box.run(['doctor', '--vm', 'x']);
      assert.equal(bad.exitCode, 2);
      assert.match(String(bad.stderr), /--vm names a vm to record: give --record DIR too/);
    });
  });
});
