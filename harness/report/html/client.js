// @ts-nocheck: browser code against the inlined uPlot global; test/e2e runs it in Chromium.
// The report's only script: draws each test's timeline with uPlot from the
// JSON block in the page. It reads data and draws on canvases; it never
// writes markup, so nothing from a guest can become code here.
(() => {
  const data = JSON.parse(document.getElementById('bsm-data').textContent);
  // Okabe–Ito: tells apart for every common kind of colour blindness.
  const C = { blue: '#0072B2', orange: '#E69F00', green: '#009E73', vermillion: '#D55E00', purple: '#CC79A7', sky: '#56B4E9', grey: '#7a7a7a' };
  const EVENT_STYLE = {
    'hang-detected': { color: C.vermillion, width: 3, dash: [6, 3], label: 'hang detected' },
    'reboot-requested': { color: C.purple, width: 1.5, dash: [2, 3] },
    rebooted: { color: C.purple, width: 1.5, dash: [] },
    ready: { color: C.green, width: 1.5, dash: [] },
    'force-reset': { color: C.purple, width: 2, dash: [4, 2] },
    'hammer-start': { color: C.orange, width: 1, dash: [1, 3] },
    'hammer-stop': { color: C.orange, width: 1, dash: [1, 3] },
    screenshot: { color: C.grey, width: 1, dash: [1, 5] },
  };

  const eventsPlugin = (events) => ({
    hooks: {
      draw: (u) => {
        const { ctx } = u;
        const { top, height } = u.bbox;
        ctx.save();
        for (const e of events) {
          const style = EVENT_STYLE[e.kind];
          if (!style) continue;
          const x = Math.round(u.valToPos(e.t, 'x', true));
          ctx.strokeStyle = style.color;
          ctx.lineWidth = style.width * devicePixelRatio;
          ctx.setLineDash(style.dash.map((d) => d * devicePixelRatio));
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
          ctx.stroke();
          if (style.label) {
            ctx.fillStyle = style.color;
            ctx.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
            ctx.fillText(style.label, x + 4 * devicePixelRatio, top + 14 * devicePixelRatio);
          }
        }
        ctx.restore();
      },
    },
  });

  const width = (el) => Math.max(320, Math.min(el.clientWidth || 900, 1200));
  const hasData = (ys) => ys.some((v) => v !== null);
  const secs = (v) => (v == null ? '–' : `${v.toFixed(1)} s`);

  function chart(el, title, x, series, axes, events, syncKey) {
    const shown = series.filter((s) => hasData(s.data));
    if (shown.length === 0) return null;
    const opts = {
      title,
      width: width(el),
      height: 220,
      cursor: { sync: { key: syncKey } },
      // Every y axis starts at zero: a drop must look like one.
      scales: Object.fromEntries([['x', { time: false }], ...axes.map((a) => [a.scale, { range: (_, _min, max) => [0, max > 0 ? max * 1.1 : 1] }])]),
      legend: { live: true },
      series: [{ label: 'time', value: (_, v) => secs(v) }, ...shown.map((s) => ({
        label: s.label, scale: s.scale, stroke: s.color, width: s.width ?? 1.5, dash: s.dash, spanGaps: false,
        value: (_, v) => (v == null ? '–' : `${+v.toFixed(2)} ${s.unit}`),
      }))],
      // Both charts keep a 60 px gutter each side, used or not, so their time axes line up.
      axes: [{ label: 'seconds since the test started' }, ...axes.filter((a) => shown.some((s) => s.scale === a.scale)).map((a) => ({ size: 60, ...a }))],
      padding: [8, shown.some((s) => s.scale === axes[1].scale) ? 8 : 68, 0, shown.some((s) => s.scale === axes[0].scale) ? 8 : 68],
      plugins: [eventsPlugin(events)],
    };
    return new uPlot(opts, [x, ...shown.map((s) => s.data)], el);
  }

  for (const el of document.querySelectorAll('.timeline[data-chart]')) {
    const d = data.charts[el.dataset.chart];
    if (!d) continue;
    const key = `sync-${el.dataset.chart}`;
    const load = document.createElement('div');
    const live = document.createElement('div');
    el.append(load, live);
    chart(load, 'Load: iperf3 and the write-lock hammer', d.x, [
      { label: 'iperf3 throughput', data: d.throughput, scale: 'mbps', color: C.blue, unit: 'Mbit/s', width: 2 },
      { label: 'write-lock cycles/s', data: d.wrlockRate, scale: 'rate', color: C.orange, unit: '/s' },
    ], [
      { scale: 'mbps', label: 'Mbit/s', stroke: C.blue },
      { scale: 'rate', label: 'cycles/s', side: 1, stroke: C.orange, grid: { show: false } },
    ], d.events, key);
    chart(live, 'Liveness: write-lock cycle time and heartbeat gaps', d.x, [
      { label: 'cycle p50', data: d.wrlockP50, scale: 'ms', color: C.sky, unit: 'ms' },
      { label: 'cycle max', data: d.wrlockMax, scale: 'ms', color: C.orange, unit: 'ms', dash: [4, 2] },
      { label: 'heartbeat gap', data: d.heartbeatGap, scale: 's', color: C.green, unit: 's', width: 2 },
    ], [
      { scale: 'ms', label: 'cycle ms', stroke: C.orange },
      { scale: 's', label: 'gap s', side: 1, stroke: C.green, grid: { show: false } },
    ], d.events, key);
    el.dataset.drawn = String(el.querySelectorAll('canvas').length);
  }
  // wrlock-dose: throughput over unstressed and cycle p50/p99 against the hammer's rate, one point per step, log rate axis.
  for (const el of document.querySelectorAll('.dose-curve[data-dose]')) {
    const d = (data.doses || {})[el.dataset.dose];
    if (!d) continue;
    const opts = {
      title: 'Dose-response: throughput and write-lock cycle latency against the hammer rate',
      width: width(el),
      height: 240,
      scales: { x: { time: false, distr: 3 }, ratio: { range: (_, _min, max) => [0, Math.max(1.1, max * 1.1)] }, ms: { range: (_, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      series: [
        { label: 'cycles/s', value: (_, v) => (v == null ? '–' : `${+v.toFixed(1)}/s`) },
        { label: 'throughput / unstressed', scale: 'ratio', stroke: C.blue, width: 2, points: { show: true, size: 7 }, value: (_, v) => (v == null ? '–' : `${(v * 100).toFixed(0)}%`) },
        { label: 'cycle p50', scale: 'ms', stroke: C.sky, width: 1.5, points: { show: true, size: 5 }, value: (_, v) => (v == null ? '–' : `${+v.toFixed(1)} ms`) },
        { label: 'cycle p99', scale: 'ms', stroke: C.orange, width: 1.5, dash: [4, 2], points: { show: true, size: 5 }, value: (_, v) => (v == null ? '–' : `${+v.toFixed(1)} ms`) },
      ],
      axes: [{ label: 'write-lock cycles per second (log)' }, { scale: 'ratio', label: 'throughput / unstressed', size: 60, stroke: C.blue }, { scale: 'ms', label: 'cycle ms', side: 1, size: 60, stroke: C.orange, grid: { show: false } }],
    };
    new uPlot(opts, [d.rate, d.ratio, d.p50, d.p99], el);
    el.dataset.drawn = String(d.rate.length);
  }
  // A comparison's dose-response curves: baseline and candidate, each step's mean with its 95% interval as a bar.
  const intervalBars = (sides) => ({
    hooks: {
      draw: (u) => {
        const { ctx } = u;
        ctx.save();
        ctx.lineWidth = 1.5 * devicePixelRatio;
        sides.forEach((side, k) => {
          ctx.strokeStyle = k === 0 ? C.grey : C.vermillion;
          side.rate.forEach((x, i) => {
            if (side.low[i] == null) return;
            const px = u.valToPos(x, 'x', true);
            ctx.beginPath();
            ctx.moveTo(px, u.valToPos(side.low[i], 'ratio', true));
            ctx.lineTo(px, u.valToPos(side.high[i], 'ratio', true));
            ctx.stroke();
          });
        });
        ctx.restore();
      },
    },
  });
  for (const el of document.querySelectorAll('.dose-overlay[data-overlay]')) {
    const o = (data.overlays || [])[Number(el.dataset.overlay)];
    if (!o) continue;
    // uPlot wants one x for all series: each side's points at its own reached rate, the other side's null there.
    const xs = [...new Set([...o.base.rate, ...o.cand.rate])].sort((a, b) => a - b);
    const at = (side) => xs.map((x) => { const i = side.rate.indexOf(x); return i < 0 ? null : side.mean[i]; });
    const opts = {
      width: width(el),
      height: 240,
      scales: { x: { time: false, distr: 3 }, ratio: { range: (_, _min, max) => [0, Math.max(1.1, max * 1.1)] } },
      series: [
        { label: 'cycles/s', value: (_, v) => (v == null ? '–' : `${+v.toFixed(1)}/s`) },
        { label: el.dataset.base, scale: 'ratio', stroke: C.grey, width: 2, spanGaps: true, points: { show: true, size: 7 }, value: (_, v) => (v == null ? '–' : `${(v * 100).toFixed(0)}%`) },
        { label: el.dataset.cand, scale: 'ratio', stroke: C.vermillion, width: 2, spanGaps: true, points: { show: true, size: 7 }, value: (_, v) => (v == null ? '–' : `${(v * 100).toFixed(0)}%`) },
      ],
      axes: [{ label: 'write-lock cycles per second (log)' }, { scale: 'ratio', label: 'throughput / unstressed', size: 60 }],
      plugins: [intervalBars([o.base, o.cand])],
    };
    new uPlot(opts, [xs, at(o.base), at(o.cand)], el);
    el.dataset.drawn = `${o.base.rate.length}+${o.cand.rate.length}`;
  }
  // Closed sections would print as one line each: open them for paper.
  addEventListener('beforeprint', () => { for (const d of document.querySelectorAll('details')) d.open = true; });
  document.documentElement.dataset.ready = 'true';
})();
