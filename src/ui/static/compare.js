// The compare page: one chart per key with a line per experiment, and the config diff
// filter.
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('compare-data').textContent);
  const root = document.getElementById('charts-root');
  const settings = { smoothing: 0, xmode: 'step', log: false };
  const run = Loupe.queue(6);
  const grid = document.createElement('div');
  grid.className = 'charts';
  root.appendChild(grid);
  const charts = [];
  for (const key of data.keys) {
    const sources = data.experiments.filter(e => data.has[key].includes(e.id))
      .map(e => ({ expId: e.id, key, label: e.name, color: e.color }));
    const chart = new Loupe.LoupeChart(grid, { title: key, sources, settings });
    charts.push(chart);
    run(() => chart.load());
  }
  if (!data.keys.length) {
    const p = document.createElement('p');
    p.className = 'empty';
    p.textContent = data.experiments.length ? 'These experiments have no metrics in common yet.' : 'Pick experiments to compare.';
    root.appendChild(p);
  }
  Loupe.bindControls(settings, () => charts.forEach(c => { if (c.data.length) c.draw(); }));
  const only = document.getElementById('only-diff');
  only.addEventListener('change', () => {
    document.querySelectorAll('table.config-diff tr.same').forEach(tr => { tr.hidden = only.checked; });
  });
})();
