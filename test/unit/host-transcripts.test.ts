// Every folder of fixtures/transcripts/hosts is a `doctor --record` of a real
// host, made fixtures by the step docs/platforms.md gives: each is held to
// what the project's parsers read (test/helpers/host-transcripts.ts).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import type { PlatformKind } from '../../harness/platform/types.ts';
import { acceptRecording } from '../helpers/host-transcripts.ts';

const HOSTS = resolve(import.meta.dirname, '../../fixtures/transcripts/hosts');

describe('recorded host transcripts', () => {
  const folders = readdirSync(HOSTS).filter((f) => !f.endsWith('.md')).sort();
  it("include the lab's own recording (the step is tested on it)", () => assert.ok(folders.includes('lab'), `folders: ${folders.join(', ')}`));
  for (const folder of folders) {
    it(`${folder}: every file has its source, and the platform's parsers read each`, () => {
      acceptRecording(join(HOSTS, folder), folder.split('-')[0] as PlatformKind);
    });
  }
});
