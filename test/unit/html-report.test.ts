// report.html from results.json: hostile text stays text, the timeline is
// binned onto one axis, and show-report serves the report and its evidence only.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { findChromium } from '../../harness/evidence/browser.ts';
import { html, jsonForScript } from '../../harness/report/html/escape.ts';
import { buildReportHtml, writeReportHtml } from '../../harness/report/html/page.ts';
import { serveReport } from '../../harness/report/html/serve.ts';
import { chartOf } from '../../harness/report/html/timeline-chart.ts';
import type { RunResult, TestResult } from '../../harness/report/results.ts';

const T0 = Date.parse('2026-11-25T10:00:00Z');
const at = (s: number) => T0 + s * 1000;
const PAYLOAD = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">';

const test = (over: Partial<TestResult> = {}): TestResult => ({
  id: 'wrlock-iperf/lab/linux', suite: 'wrlock-iperf', host: 'lab', guest: 'linux', repeat: 0, status: 'passed', attempt: 0, attempts: [],
  startedAt: new Date(T0).toISOString(), durationMs: 10_000, checks: [], attachments: [], timeline: { samples: [], events: [] },
  reproduce: 'npx bhyve-smoke run wrlock-iperf --host lab --guest linux', ...over,
});
const run = (tests: TestResult[]): RunResult => ({
  version: 1, runId: 'abc12345', config: 'built-in', startedAt: new Date(T0).toISOString(), finishedAt: new Date(at(60)).toISOString(),
  durationMs: 60_000, hosts: [{ name: 'lab', platform: 'lab', transport: 'local' }], tests, exitCode: 1,
});

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'bsm-html-'));
  dirs.push(d);
  return d;
};

describe('escaping', () => {
  it('escapes every interpolation, joins arrays, and leaves only its own markup unescaped', () => {
    const inner = html`<b>${'a&b'}</b>`;
    assert.equal(html`<p title="${'"x"'}">${PAYLOAD}${[inner, '<i>']}${undefined}${false}</p>`.text,
      '<p title="&quot;x&quot;">&lt;script&gt;window.__xss=1&lt;/script&gt;&lt;img src=x onerror=&quot;window.__xss=2&quot;&gt;<b>a&amp;b</b>&lt;i&gt;</p>');
  });

  it('puts JSON in a script block that no string in it can close, and reads back unchanged', () => {
    const data = { line: '</script><!-- & \u2028', n: 1 };
    const text = jsonForScript(data);
    assert.doesNotMatch(text, /[<>&\u2028]/);
    assert.deepEqual(JSON.parse(text), data);
  });
});

describe('timeline chart', () => {
  const timeline = {
    samples: [
      ...[1, 2, 3, 4, 5, 6, 7].map((s) => ({ t: at(s + 0.5), series: 'iperf3.mbps', value: 100 * s })),
      { t: at(2.1), series: 'wrlock.latency_ms', value: 4 }, { t: at(2.2), series: 'wrlock.latency_ms', value: 6 }, { t: at(2.3), series: 'wrlock.latency_ms', value: 50 },
      { t: at(5.5), series: 'wrlock.latency_ms', value: 3 },
      { t: at(1), series: 'heartbeat.uptime_s', value: 1 }, { t: at(2), series: 'heartbeat.uptime_s', value: 2 }, { t: at(3.5), series: 'heartbeat.uptime_s', value: 3 },
    ],
    events: [{ t: at(2), kind: 'hammer-start' }, { t: at(6), kind: 'hammer-stop' }, { t: at(8), kind: 'hang-detected', detail: 'heartbeat: silent' }],
  };
  const c = chartOf(test({ timeline }))!;

  it('puts every series on one axis of seconds since the test started, one bin a second', () => {
    assert.equal(c.bin, 1);
    assert.deepEqual(c.x.slice(0, 4), [0, 1, 2, 3]);
    assert.deepEqual(c.throughput.slice(0, 9), [null, 100, 200, 300, 400, 500, 600, 700, null]);
    assert.deepEqual(c.events.map((e) => [e.t, e.kind]), [[2, 'hammer-start'], [6, 'hammer-stop'], [8, 'hang-detected']]);
  });

  it('counts write-lock cycles a second while the hammer runs (zero when none finished) and nothing outside it', () => {
    assert.deepEqual(c.wrlockRate.slice(0, 8), [null, null, 3, 0, 0, 1, 0, null]);
    assert.equal(c.wrlockP50[2], 6);
    assert.equal(c.wrlockMax[2], 50);
  });

  it('shows each heartbeat gap where it ends, and the silence up to a hang', () => {
    assert.equal(c.heartbeatGap[2], 1);
    assert.equal(c.heartbeatGap[3], 1.5);
    assert.equal(c.heartbeatGap[8], 4.5);
  });

  it('draws nothing for a test without samples, and widens bins for long tests', () => {
    assert.equal(chartOf(test()), undefined);
    const long = chartOf(test({ durationMs: 3_600_000, timeline: { samples: [{ t: at(1), series: 'iperf3.mbps', value: 1 }], events: [] } }))!;
    assert.equal(long.bin, 6);
    assert.ok(long.x.length <= 601);
  });
});

describe('report.html', () => {
  it('keeps text from guests and hosts as text everywhere it appears, behind a script-pinning CSP', () => {
    const hostile = test({
      status: 'failed', vm: PAYLOAD, consoleTail: `login: ${PAYLOAD}`, error: { type: 'CheckFailure', message: PAYLOAD },
      checks: [{ name: PAYLOAD, status: 'failed', durationMs: 1, measured: PAYLOAD, threshold: PAYLOAD, message: PAYLOAD }],
      timeline: { samples: [{ t: at(1), series: 'iperf3.mbps', value: 1 }], events: [{ t: at(1), kind: PAYLOAD, detail: PAYLOAD }] },
      missingEvidence: [{ name: 'screen 01 boot', reason: PAYLOAD }], known: [{ id: PAYLOAD, summary: PAYLOAD, where: 'console' } as never],
    });
    const r = run([hostile]);
    r.hosts[0].fingerprint = { cpu: PAYLOAD };
    const page = buildReportHtml({ run: r, dir: tempDir() });
    // (assert.ok: a failed match would print the whole page)
    assert.ok(!/<script>window|<img src=x/.test(page), 'a payload reached the page as markup');
    assert.ok(/&lt;script&gt;window\.__xss=1&lt;\/script&gt;/.test(page), 'the payload is shown as text');
    assert.ok(/<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; script-src &#39;sha256-[^&]+&#39; &#39;sha256-[^&]+&#39;;/.test(page), 'the CSP pins the two scripts by hash');
    assert.equal(page.match(/<script>/g)?.length, 2, 'uPlot and the report script: no other script element');
  });

  it('lists every test and check, failures first, with links relative to the report', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'tests/x'), { recursive: true });
    writeFileSync(join(dir, 'tests/x/pstack.txt'), 'Thread 1 "CPU 0/TCG"\n');
    const page = buildReportHtml({
      run: run([
        test({ id: 'smoke/lab/linux', suite: 'smoke', checks: [{ name: 'boots to a login prompt', status: 'passed', durationMs: 1 }] }),
        test({ status: 'failed', checks: [{ name: 'no hang', status: 'failed', durationMs: 0 }], attachments: [{ name: 'pstack', path: join(dir, 'tests/x/pstack.txt') }] }),
      ]),
      dir,
    });
    assert.ok(page.indexOf('data-test="wrlock-iperf/lab/linux"') < page.indexOf('data-test="smoke/lab/linux"'), 'the failed test comes first');
    assert.ok(page.includes('data-check="boots to a login prompt"'), 'every check is listed');
    assert.ok(page.includes('href="tests/x/pstack.txt"'), 'evidence is linked relative to the report');
    assert.ok(page.includes('Thread 1 &quot;CPU 0/TCG&quot;'), 'small text evidence is inline');
  });
});

describe('show-report server', () => {
  it('serves the report and the evidence results.json names, on 127.0.0.1, and nothing else', async () => {
    const root = tempDir();
    const dir = join(root, 'merged');
    const shard = join(root, 'shard-1', 'tests', 'a');
    mkdirSync(dir, { recursive: true });
    mkdirSync(shard, { recursive: true });
    writeFileSync(join(shard, 'console.log'), 'login:\n');
    writeFileSync(join(shard, 'secret.txt'), 'not evidence\n');
    const r = run([test({ attachments: [{ name: 'console', path: join(shard, 'console.log') }] })]);
    writeFileSync(join(dir, 'results.json'), JSON.stringify(r));
    writeReportHtml(join(dir, 'report.html'), { run: r, dir });
    const server = await serveReport(dir, 0);
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/merged\/report\.html$/);
      const base = new URL(server.url);
      const get = (path: string, init?: RequestInit) => fetch(new URL(path, base), { redirect: 'manual', ...init });
      assert.equal((await get('/')).headers.get('location'), '/merged/report.html');
      assert.equal((await get('/merged/report.html')).status, 200);
      assert.equal(await (await get('/shard-1/tests/a/console.log')).text(), 'login:\n');
      for (const path of ['/shard-1/tests/a/secret.txt', '/merged/results.json', '/merged/../shard-1/tests/a/secret.txt', '/%2e%2e/%2e%2e/etc/passwd', '/etc/passwd']) {
        assert.equal((await get(path)).status, 404, path);
      }
      assert.equal((await get('/merged/report.html', { method: 'POST' })).status, 405);
    } finally {
      await server.close();
    }
  });
});

describe('finding Chromium', () => {
  it('takes BHYVE_SMOKE_CHROMIUM when set, and says why when it is not an executable', () => {
    assert.deepEqual(findChromium({ BHYVE_SMOKE_CHROMIUM: '/bin/sh' }), { path: '/bin/sh' });
    const r = findChromium({ BHYVE_SMOKE_CHROMIUM: '/nonexistent/chromium' });
    assert.ok('reason' in r);
    assert.match(r.reason, /BHYVE_SMOKE_CHROMIUM=\/nonexistent\/chromium is not an executable/);
  });
});
