// The compare page: one chart per key with a line per experiment, and the config diff
// filter.
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('compare-data').textContent);
  const root = document.getElementById('charts-root');
  const settings = { smoothing: 0, xmode: 'step', log: false };
  LoupeView.restore(settings, null);
  LoupeView.showControls(settings);
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
  // Media keys: a panel per experiment, side by side; moving one panel's step moves the
  // others to the same step (or the newest before it). Loaded after the charts.
  const chartsLoaded = Promise.all(charts.map(c => new Promise(resolve => {
    const check = () => (c.el.dataset.state === 'loading' ? setTimeout(check, 50) : resolve());
    check();
  })));
  for (const m of data.media) {
    const det = document.createElement('details');
    det.className = 'ns';
    det.open = true;
    det.dataset.group = m.key;
    const sum = document.createElement('summary');
    sum.textContent = m.key + ' (' + m.type + ')';
    det.appendChild(sum);
    const row = document.createElement('div');
    row.className = 'charts';
    det.appendChild(row);
    root.appendChild(det);
    const panels = [];
    for (const e of data.experiments.filter(e => data.media_has[m.key].includes(e.id))) {
      const panel = new LoupeMedia.MediaPanel(row, {
        expId: e.id, key: m.key, type: m.type, title: e.name,
        onStep: step => panels.forEach(p => { if (p !== panel) p.selectStep(step); }),
      });
      panel.el.style.borderTop = '3px solid ' + e.color;
      panels.push(panel);
      chartsLoaded.then(() => run(() => panel.load()));
    }
  }
  if (!data.keys.length && !data.media.length) {
    const p = document.createElement('p');
    p.className = 'empty';
    p.textContent = data.experiments.length ? 'These experiments have no metrics in common yet.' : 'Pick experiments to compare.';
    root.appendChild(p);
  }
  Loupe.bindControls(settings, () => {
    LoupeView.save(settings, null, null);
    charts.forEach(c => { if (c.data.length) c.draw(); });
  });

  // The run picker: a searchable list of runs with checkboxes.
  const list = document.getElementById('picker-list');
  const picked = new Set(data.candidates.filter(c => c.picked).map(c => c.id));
  const countEl = document.getElementById('picked-count');
  const go = document.getElementById('picker-go');
  const showCount = () => {
    countEl.textContent = picked.size + ' selected';
    go.disabled = picked.size === 0 || picked.size > 20;
  };
  for (const c of data.candidates) {
    const label = document.createElement('label');
    label.className = 'pick-row';
    label.dataset.text = (c.name + ' ' + c.project + ' ' + c.tags.join(' ')).toLowerCase();
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.value = String(c.id);
    box.checked = picked.has(c.id);
    box.addEventListener('change', () => { if (box.checked) picked.add(c.id); else picked.delete(c.id); showCount(); });
    label.appendChild(box);
    label.appendChild(document.createTextNode(' ' + c.name + ' '));
    const meta = document.createElement('span');
    meta.className = 'muted';
    meta.textContent = c.project + ' · ' + c.status + (c.tags.length ? ' · ' + c.tags.join(', ') : '');
    label.appendChild(meta);
    list.appendChild(label);
  }
  if (!data.candidates.length) list.textContent = 'No runs yet.';
  document.getElementById('picker-filter').addEventListener('input', ev => {
    const q = ev.target.value.trim().toLowerCase();
    for (const row of list.children) row.hidden = !!q && !(row.dataset.text || '').includes(q);
  });
  go.addEventListener('click', () => { location.href = '/compare?ids=' + [...picked].join(','); });
  showCount();
  const only = document.getElementById('only-diff');
  only.addEventListener('change', () => {
    document.querySelectorAll('table.config-diff tr.same').forEach(tr => { tr.hidden = only.checked; });
  });
})();
