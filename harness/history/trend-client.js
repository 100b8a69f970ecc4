// @ts-nocheck: browser code against the inlined uPlot global; test/e2e runs it in Chromium.
// history.html's only script: draws each series' runs with uPlot from the
// JSON block in the page, its change points as vertical lines and each
// segment's mean as a step. An open series is drawn at once, a folded one
// when opened. It reads data and draws on canvases; it never writes markup.
(() => {
  const data = JSON.parse(document.getElementById('bsm-data').textContent);
  const C = { blue: '#0072B2', vermillion: '#D55E00', green: '#009E73', grey: '#7a7a7a' };

  const changesPlugin = (changes) => ({
    hooks: {
      draw: (u) => {
        const { ctx } = u;
        const { top, height } = u.bbox;
        ctx.save();
        for (const c of changes) {
          const x = Math.round(u.valToPos(c.run - 0.5, 'x', true));
          ctx.strokeStyle = c.regression ? C.vermillion : C.green;
          ctx.lineWidth = 2 * devicePixelRatio;
          ctx.setLineDash([6 * devicePixelRatio, 3 * devicePixelRatio]);
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
          ctx.stroke();
          ctx.fillStyle = ctx.strokeStyle;
          ctx.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
          ctx.fillText(c.label, x + 4 * devicePixelRatio, top + 14 * devicePixelRatio);
        }
        ctx.restore();
      },
    },
  });

  function draw(el) {
    const d = data.charts[el.dataset.chart];
    if (!d || el.dataset.drawn) return;
    // Each segment's mean, over the runs of that segment.
    const means = d.x.map((x) => d.segments.find((s) => x >= s.from && x <= s.to)?.mean ?? null);
    const opts = {
      width: Math.max(320, Math.min(el.clientWidth || 900, 1200)),
      height: 200,
      scales: { x: { time: false }, y: { range: (_, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      series: [
        { label: 'run', value: (_, v) => (v == null ? '–' : `#${v}`) },
        { label: d.unit, stroke: C.blue, width: 1.5, points: { show: true, size: 5 }, value: (_, v) => (v == null ? '–' : `${+v.toPrecision(4)} ${d.unit}`) },
        { label: 'segment mean', stroke: C.grey, width: 2, dash: [4, 2], paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } },
      ],
      axes: [{ label: 'run' }, { label: d.unit, size: 60 }],
      plugins: [changesPlugin(d.changes)],
    };
    new uPlot(opts, [d.x, d.y, means], el);
    el.dataset.drawn = String(el.querySelectorAll('canvas').length);
  }

  for (const details of document.querySelectorAll('details.series')) {
    const el = details.querySelector('.trend[data-chart]');
    if (details.open) draw(el);
    details.addEventListener('toggle', () => details.open && draw(el));
  }
  document.documentElement.dataset.ready = 'true';
})();
