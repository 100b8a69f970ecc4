// What makes a folder of `doctor --record` transcripts fixtures the project
// can use: a SOURCES.md row for every file and a file for every row, and the
// platform's own parsers reading each output as it is (the vm listing, the
// links, the fingerprint, the boot id, free memory, the usage text and the
// device list the capability probes read).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { platformFor } from '../../harness/host.ts';
import { parseFingerprint } from '../../harness/platform/fingerprint.ts';
import { parseBuild } from '../../harness/host-life/build.ts';
import { parseBhyvectlUsage, parseDeviceList } from '../../harness/platform/capabilities.ts';
import { PLATFORM_KINDS, type PlatformKind } from '../../harness/platform/types.ts';

export function acceptRecording(dir: string, kind: PlatformKind): void {
  assert.ok((PLATFORM_KINDS as readonly string[]).includes(kind), `${dir}: platform ${kind}`);
  const sources = readFileSync(join(dir, 'SOURCES.md'), 'utf8');
  const rows = [...sources.matchAll(/^\| ([\w.-]+\.txt) \| /gm)].map((m) => m[1]);
  const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
  assert.deepEqual([...rows].sort(), files, `${dir}: a SOURCES.md row for every transcript, and a transcript for every row`);
  assert.match(sources, new RegExp(`\\\`bhyve-smoke doctor --record\\\` on a ${kind} host`));
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  const p = platformFor(kind, { transport: 'local', platform: kind });
  for (const f of ['uname-a.txt', 'list-vms.txt', 'fingerprint.txt', 'boot-id.txt', 'free-memory.txt', 'bhyvectl-usage.txt', 'bhyve-devices.txt']) assert.ok(existsSync(join(dir, f)), `${dir}: ${f}`);
  assert.ok(Array.isArray(p.listVms.parse(read('list-vms.txt'))), 'the vm listing parses');
  if (p.links) assert.ok(Array.isArray(p.links.list.parse(read('list-links.txt'))), 'the link listing parses');
  assert.ok(Object.keys(parseFingerprint(read('fingerprint.txt'))).length >= 3, `the fingerprint parses: ${read('fingerprint.txt')}`);
  assert.ok(p.bootId.parse(read('boot-id.txt')), 'the boot id parses');
  for (const f of ['build.txt', ...(p.bootEnvironments ? ['boot-environments.txt'] : []), ...(p.crash ? ['crash-records.txt'] : [])]) assert.ok(existsSync(join(dir, f)), `${dir}: ${f}`);
  assert.ok(parseBuild(read('build.txt')).vmm.sha256, 'the build parses');
  if (p.bootEnvironments) assert.ok(p.bootEnvironments.list.parse(read('boot-environments.txt')).some((b) => b.active), 'the boot environments parse, one running');
  if (p.crash) assert.ok(Array.isArray(p.crash.records.parse(read('crash-records.txt'))), 'the crash records listing parses');
  const free = Number(read('free-memory.txt').trim());
  assert.ok(Number.isInteger(free) && free > 0, `free memory in MiB: ${read('free-memory.txt')}`);
  // The capability probes read these two: each parses, and names the options and devices it lists.
  assert.ok(parseBhyvectlUsage(read('bhyvectl-usage.txt'), 'bhyvectl').has('--get-stats'), "bhyvectl's usage text lists --get-stats");
  assert.ok(parseDeviceList(read('bhyve-devices.txt'), 'bhyve -s help').has('virtio-blk'), "bhyve's device list");
}
