// Feedback over time: the thumbs-up rate and the average stars per model, per day or week.
(function () {
  'use strict';
  const box = document.getElementById('feedback-trend');
  if (!box || !window.uPlot) return;
  const trend = JSON.parse(box.dataset.trend || '[]');
  const bucket = Number(box.dataset.bucket) || 86400;
  const starts = [...new Set(trend.map((b) => b.start))].sort((a, b) => a - b);
  const models = [...new Set(trend.map((b) => b.model_name))];
  const colors = ['#3b5bdb', '#e67700', '#2b8a3e', '#c92a2a', '#7048e8', '#0c8599'];
  // Axis and grid colours from the page's theme (dark mode included).
  function themed(axis) {
    const css = getComputedStyle(document.documentElement);
    const ink = css.getPropertyValue('--axis').trim() || '#4a5160';
    const grid = css.getPropertyValue('--grid').trim() || '#e9ecef';
    return Object.assign({ stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } }, axis);
  }
  function chart(title, field, range) {
    const fig = document.createElement('figure');
    fig.className = 'trend-chart';
    const cap = document.createElement('figcaption');
    cap.textContent = title;
    fig.append(cap);
    box.append(fig);
    const series = models.map((m) => starts.map((s) => {
      const b = trend.find((x) => x.start === s && x.model_name === m);
      return b && typeof b[field] === 'number' ? b[field] : null;
    }));
    new uPlot({ width: Math.min(560, box.clientWidth || 560), height: 200,
                // Days in UTC, as every time on the pages (not the browser's zone).
                tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
                // Half a bucket either side, so that one bucket is not stretched over years.
                scales: { x: { range: [starts[0] - bucket / 2, starts[starts.length - 1] + bucket / 2] }, y: { range } },
                axes: [themed({ values: (u, vals, i, space, incr) => {
                  // UTC dates (and times when ticks are under a day apart), kept for tests.
                  const labels = vals.map((v) => (v == null ? '' : new Date(v * 1000).toISOString()
                    .slice(incr < 86400 ? 5 : 0, incr < 86400 ? 16 : 10).replace('T', ' ')));
                  fig.dataset.ticks = JSON.stringify(labels);
                  return labels;
                } }), themed({})],
                series: [{}, ...models.map((m, i) => ({ label: m, stroke: colors[i % colors.length], width: 2,
                                                         points: { show: true, size: 6 }, spanGaps: true }))] },
              [starts, ...series], fig);
  }
  chart('Thumbs-up rate', 'up_rate', [0, 1]);
  chart('Average stars', 'average_stars', [1, 5]);
})();
