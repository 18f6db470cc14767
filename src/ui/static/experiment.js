// The experiment page: charts grouped by namespace (pinned first, hidden last; dozens of
// one-chart namespaces share one group), shared smoothing / x-axis / log controls kept
// in the URL, one zoom and one cursor for all charts, a filter by key, the learning rate
// overlaid on loss charts, metrics logged once as a summary table (ended runs), media
// panels, and live updates from the server-sent event stream.
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('experiment-data').textContent);
  const root = document.getElementById('charts-root');
  const settings = { smoothing: 0, xmode: 'step', log: false };
  const view = LoupeView.restore(settings, data.project_id);
  LoupeView.showControls(settings);
  const saveView = () => LoupeView.save(settings, data.project_id, view);
  const run = Loupe.queue(6);
  const charts = new Map();   // key -> {chart, info, visible, stale}
  const groups = new Map();   // group name -> grid element
  const versions = new Map(); // key -> version drawn
  let showHidden = false;

  const LR = /(^|\/)(lr|learning[_-]?rate)$/i;
  const lrKey = () => (data.keys.find(k => LR.test(k.key) && k.type === 'line') || {}).key;

  const panels = new Map();   // media key -> {panel, visible, stale, loaded}
  let scalarsDrawn = false;   // media panels wait for the first draw of the scalar charts

  function loadPanel(p) {
    p.loaded = true;
    p.stale = false;
    run(() => p.panel.load());
  }

  const observer = new IntersectionObserver(entries => {
    for (const e of entries) {
      const p = [...panels.values()].find(p => p.panel.el === e.target);
      if (p) {
        p.visible = e.isIntersecting;
        if (p.visible && scalarsDrawn && (!p.loaded || p.stale)) loadPanel(p);
        continue;
      }
      const c = [...charts.values()].find(c => c.chart.el === e.target);
      if (!c) continue;
      c.visible = e.isIntersecting;
      if (c.visible && c.stale) { c.stale = false; run(() => c.chart.load()); }
    }
  }, { rootMargin: '200px' });

  // Metrics an ended run logged once are a table, not one-point charts.
  const summaryKeys = new Set(data.status === 'running' ? [] : data.keys
    .filter(k => k.type === 'line' && k.first_step === k.last_step && !k.key.startsWith('system/') && k.status !== 1)
    .map(k => k.key));
  // Dozens of namespaces holding one chart each would make a page of headers: past six,
  // their charts share one group (a chart's title still says its full key).
  const perNs = new Map();
  for (const k of data.keys) {
    if (summaryKeys.has(k.key) || k.status !== 0) continue;
    perNs.set(k.namespace, (perNs.get(k.namespace) || 0) + 1);
  }
  const singleNs = [...perNs].filter(([ns, n]) => n === 1 && ns !== 'default' && ns !== 'system').map(([ns]) => ns);
  const singles = new Set(singleNs.length > 6 ? singleNs : []);

  function group(name, title, opened) {
    if (groups.has(name)) return groups.get(name);
    const det = document.createElement('details');
    det.className = 'ns';
    det.dataset.group = name;
    det.open = opened;
    const sum = document.createElement('summary');
    sum.textContent = title;
    det.appendChild(sum);
    const grid = document.createElement('div');
    grid.className = 'charts';
    det.appendChild(grid);
    // An opened or closed group stays so (kept on the server, as SwanLab's board does).
    const nsRow = data.namespaces.find(n => n.name === name);
    if (nsRow) {
      det.addEventListener('toggle', () => {
        fetch('/api/v1/namespace/' + nsRow.id + '/opened', {
          method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ opened: det.open }) })
          .catch(() => {});
        if (det.open) for (const c of charts.values()) if (c.chart.el.parentElement === grid) c.chart.resize();
      });
    }
    // Pinned first, system and hidden last, the rest in order of appearance.
    const order = n => n === '__pinned' ? 0 : n === '__custom' ? 0.5 : n === '__hidden' ? 3 : n === 'system' ? 2 : 1;
    const after = [...root.children].find(el => order(el.dataset.group) > order(name));
    root.insertBefore(det, after || null);
    if (name === '__hidden') det.hidden = !showHidden;
    groups.set(name, grid);
    return grid;
  }

  function placeOf(info) {
    if (info.status === 1) return group('__pinned', 'Pinned', true);
    if (info.status === -1) return group('__hidden', 'Hidden', true);
    if (singles.has(info.namespace)) return group('__singles', 'Other charts (' + singles.size + ' groups of one)', true);
    const ns = (data.namespaces.find(n => n.name === info.namespace) || { opened: true });
    return group(info.namespace, info.namespace === 'default' ? 'Charts' : info.namespace, ns.opened);
  }

  async function setStatus(c, status) {
    const resp = await fetch('/api/v1/chart/' + c.info.chart_id + '/status', {
      method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ status }) });
    if (!resp.ok) return;
    c.info.status = status;
    placeOf(c.info).appendChild(c.chart.el);
    c.chart.el.classList.toggle('pinned', status === 1);
    c.chart.el.querySelector('[data-action=pin]').textContent = status === 1 ? 'Unpin' : 'Pin';
    c.chart.el.querySelector('[data-action=hide]').textContent = status === -1 ? 'Show' : 'Hide';
    c.chart.resize();
  }

  // Charts present at page load get their data from the preloaded batches below; charts
  // added later (new keys of a live run) load one by one.
  let initial = null;

  function addMediaPanel(info) {
    if (panels.has(info.key)) return;
    const panel = new LoupeMedia.MediaPanel(placeOf(info), { expId: data.id, key: info.key, type: info.type });
    const p = { panel, visible: false, stale: false, loaded: false };
    panels.set(info.key, p);
    versions.set(info.key, info.version);
    applyFilter(panel.el, info.key);
    observer.observe(panel.el);
  }

  // One zoom for every chart: the step range goes to all (the visible ones reload now,
  // the others when scrolled to) and into the URL.
  function zoomAll(range) {
    view.range = range;
    saveView();
    for (const c of charts.values()) {
      c.chart.setRange(range);
      if (c.visible) run(() => c.chart.load()); else c.stale = true;
    }
  }

  function addChart(info) {
    if (info.type !== 'line') return addMediaPanel(info);
    if (charts.has(info.key) || summaryKeys.has(info.key)) return;
    const sources = [{ expId: data.id, key: info.key, label: info.key, color: '#3b5bdb', t0: data.origin_ts }];
    const lr = lrKey();
    if (lr && lr !== info.key && /loss/i.test(info.key)) {
      sources.push({ expId: data.id, key: lr, label: lr, color: '#e8590c', axis: 'right', t0: data.origin_ts });
    }
    const entry = { info, visible: false, stale: false };
    entry.chart = new Loupe.LoupeChart(placeOf(info), {
      title: info.key, sources, settings, chartId: info.chart_id, syncKey: 'experiment-' + data.id, onZoom: zoomAll,
      onPin: () => setStatus(entry, entry.info.status === 1 ? 0 : 1),
      onHide: () => setStatus(entry, entry.info.status === -1 ? 0 : -1),
    });
    if (info.status === 1) entry.chart.el.classList.add('pinned');
    if (info.status === 1) entry.chart.el.querySelector('[data-action=pin]').textContent = 'Unpin';
    if (info.status === -1) entry.chart.el.querySelector('[data-action=hide]').textContent = 'Show';
    charts.set(info.key, entry);
    versions.set(info.key, info.version);
    if (view.range) entry.chart.setRange(view.range);
    applyFilter(entry.chart.el, info.key);
    observer.observe(entry.chart.el);
    if (initial) initial.push(entry.chart); else run(() => entry.chart.load());
  }

  // The chart filter: charts whose key does not contain the text (any case) are hidden,
  // and so are groups left empty.
  const filterInput = document.getElementById('chart-filter');
  filterInput.value = view.q;
  function applyFilter(el, key) {
    el.hidden = !!view.q && !key.toLowerCase().includes(view.q.toLowerCase());
  }
  function refilter() {
    for (const c of charts.values()) applyFilter(c.chart.el, c.info.key);
    for (const [key, p] of panels) applyFilter(p.panel.el, key);
    for (const det of root.children) {
      if (det.dataset.group === '__hidden') continue;
      det.hidden = !!view.q && ![...det.querySelectorAll('.chart')].some(el => !el.hidden);
    }
    const shown = [...charts.values(), ...panels.values()].filter(x => !(x.chart || x.panel).el.hidden).length;
    document.getElementById('filter-count').textContent = view.q ? shown + ' of ' + (charts.size + panels.size) + ' charts' : '';
    for (const c of charts.values()) c.chart.resize();
  }
  let filterTimer = null;
  filterInput.addEventListener('input', () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => { view.q = filterInput.value.trim(); saveView(); refilter(); }, 150);
  });
  const collapseAll = document.getElementById('collapse-all');
  const labelCollapse = () => {
    const dets = [...root.querySelectorAll('details.ns')];
    collapseAll.textContent = dets.length && dets.every(d => !d.open) ? 'Expand all' : 'Collapse all';
  };
  collapseAll.addEventListener('click', () => {
    const dets = [...root.querySelectorAll('details.ns')];
    const open = dets.every(d => !d.open);
    for (const d of dets) d.open = open;
    labelCollapse();
  });

  function drawSummary() {
    const rows = data.keys.filter(k => summaryKeys.has(k.key));
    const box = document.getElementById('summary');
    if (!rows.length) return;
    box.hidden = false;
    const tbody = box.querySelector('tbody');
    for (const k of rows) {
      const tr = document.createElement('tr');
      tr.dataset.key = k.key;
      const cells = [k.key, typeof k.last_value === 'number' ? LoupeAxes.compact(k.last_value, 6) : String(k.last_value), String(k.last_step)];
      cells.forEach((text, i) => {
        const td = document.createElement('td');
        if (i > 0) td.className = 'num';
        td.textContent = text;
        if (i === 1) td.title = String(k.last_value);
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    }
  }
  drawSummary();

  // Custom panels: several keys of this run on one chart, defined once for the project.
  const customCharts = new Map();  // panel name -> LoupeChart
  function addPanel(panel) {
    const lineKeys = new Set(data.keys.filter(k => k.type === 'line').map(k => k.key));
    const keys = panel.keys.filter(k => lineKeys.has(k));
    if (!keys.length || customCharts.has(panel.name)) return null;
    const sources = keys.map((k, i) => ({ expId: data.id, key: k, label: k, color: Loupe.palette[i % Loupe.palette.length], t0: data.origin_ts }));
    const chart = new Loupe.LoupeChart(group('__custom', 'Custom panels', true), {
      title: panel.name, sources, settings, exportAll: false, syncKey: 'experiment-' + data.id, onZoom: zoomAll,
      onHide: data.can_edit ? () => removePanel(panel.name) : undefined,
    });
    chart.el.classList.add('custom');
    chart.el.dataset.panel = panel.name;
    const hide = chart.el.querySelector('[data-action=hide]');
    if (hide) { hide.textContent = 'Remove'; hide.title = 'remove this panel from every run of the project'; }
    customCharts.set(panel.name, chart);
    const entry = { info: { key: '__panel:' + panel.name, chart_id: 0, status: 0, namespace: '__custom' }, chart, visible: false, stale: false };
    charts.set(entry.info.key, entry);
    if (view.range) chart.setRange(view.range);
    observer.observe(chart.el);
    return chart;
  }
  async function removePanel(name) {
    if (!confirm('Remove the panel "' + name + '" from every run of this project?')) return;
    const resp = await fetch('/api/v1/projects/' + data.project_id + '/panels?name=' + encodeURIComponent(name), { method: 'DELETE' });
    if (!resp.ok) return;
    const chart = customCharts.get(name);
    customCharts.delete(name);
    charts.delete('__panel:' + name);
    if (chart) chart.el.remove();
  }

  if (view.range) data.batches = [];  // a zoomed link: each chart loads its range itself
  initial = [];
  for (const panel of data.panels) {
    const chart = addPanel(panel);
    if (chart) initial.push(chart);
  }
  data.keys.forEach(addChart);
  if (view.q) refilter();
  labelCollapse();
  // The server names the batch requests for the charts present at load and the page
  // preloads them (<link rel=preload>), so the data is on its way before this script
  // runs. A chart is drawn as soon as all of its series have arrived.
  const arrived = new Map();
  const waiting = initial;
  initial = null;
  const drawReady = () => {
    for (let i = waiting.length - 1; i >= 0; i--) {
      const c = waiting[i];
      if (c.opts.sources.every(s => arrived.has(s.key))) { c.accept(arrived); waiting.splice(i, 1); }
    }
  };
  const pending = data.batches.map(url => Loupe.fetchBatchUrl(url)
    .then(byKey => { byKey.forEach((v, k) => arrived.set(k, v)); drawReady(); })
    .catch(() => {}));
  // Anything a failed batch left undrawn loads chart by chart.
  const settled = Promise.all(pending).then(() => Promise.all(waiting.splice(0).map(c => c.load())));
  settled.then(() => {
    window.loupeAllDrawnAt = performance.now();
    scalarsDrawn = true;
    for (const p of panels.values()) if (p.visible && !p.loaded) loadPanel(p);
  });

  Loupe.bindControls(settings, () => {
    saveView();
    for (const c of charts.values()) {
      if (c.chart.data.length) c.chart.draw();
    }
  });
  const addBtn = document.getElementById('add-panel');
  const panelForm = document.getElementById('panel-form');
  if (addBtn && panelForm) {
    const list = panelForm.querySelector('.picker-list');
    for (const k of data.keys.filter(k => k.type === 'line')) {
      const label = document.createElement('label');
      label.className = 'pick-row';
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.value = k.key;
      label.append(box, document.createTextNode(' ' + k.key));
      list.appendChild(label);
    }
    panelForm.querySelector('input[type=search]').addEventListener('input', ev => {
      const q = ev.target.value.trim().toLowerCase();
      for (const row of list.children) row.hidden = !!q && !row.textContent.toLowerCase().includes(q);
    });
    addBtn.addEventListener('click', () => { panelForm.hidden = !panelForm.hidden; });
    panelForm.addEventListener('submit', async ev => {
      ev.preventDefault();
      const keys = [...list.querySelectorAll('input:checked')].map(i => i.value);
      const name = panelForm.elements.name.value.trim() || keys.join(' · ');
      const error = panelForm.querySelector('.error-text');
      const resp = await fetch('/api/v1/projects/' + data.project_id + '/panels', {
        method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name, keys }) });
      const body = await resp.json();
      if (!resp.ok) { error.textContent = body.message; return; }
      error.textContent = '';
      panelForm.hidden = true;
      const chart = addPanel({ name, keys });
      if (chart) run(() => chart.load());
    });
  }
  document.getElementById('show-hidden').addEventListener('click', ev => {
    showHidden = !showHidden;
    ev.target.textContent = showHidden ? 'Hide hidden charts' : 'Show hidden charts';
    const det = root.querySelector('[data-group=__hidden]');
    if (det) det.hidden = !showHidden;
  });
  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { for (const c of charts.values()) c.chart.resize(); }, 150);
  });

  // Live updates: the server sends a snapshot whenever something changed.
  const liveState = document.getElementById('live-state');
  const statusBadge = document.getElementById('run-status');
  let source = null;
  function onSnapshot(snap) {
    if (statusBadge.textContent !== snap.status) {
      statusBadge.textContent = snap.status;
      statusBadge.className = 'badge ' + snap.status;
    }
    for (const [key, type, lastStep, version, chartId] of snap.keys) {
      const known = data.keys.find(k => k.key === key);
      if (!known) {
        const ns = key.includes('/') ? key.slice(0, key.indexOf('/')) : 'default';
        const info = { key, type, namespace: ns, status: 0, chart_id: chartId, last_step: lastStep, version };
        data.keys.push(info);
        const empty = document.getElementById('no-charts');
        if (empty) empty.remove();
        addChart(info);
        continue;
      }
      if (versions.get(key) === version) continue;
      versions.set(key, version);
      const p = panels.get(key);
      if (p) {
        if (p.visible && scalarsDrawn) loadPanel(p); else p.stale = true;
        continue;
      }
      // Custom panels drawing this key follow it.
      for (const chart of customCharts.values()) {
        if (chart.range || !chart.opts.sources.some(src => src.key === key)) continue;
        const entry = charts.get('__panel:' + chart.opts.title);
        if (entry && entry.visible) run(() => chart.load()); else if (entry) entry.stale = true;
      }
      const c = charts.get(key);
      if (!c || c.chart.range) continue;  // a zoomed chart keeps its range
      if (c.visible) run(() => c.chart.load()); else c.stale = true;
      // Loss charts that overlay the learning rate follow its changes too.
      if (LR.test(key)) {
        for (const other of charts.values()) {
          if (other !== c && /loss/i.test(other.info.key) && !other.chart.range) {
            if (other.visible) run(() => other.chart.load()); else other.stale = true;
          }
        }
      }
    }
    if (snap.status !== 'running') {
      liveState.textContent = 'run ' + snap.status;
      source.close();
      showFinalDuration();
    } else {
      liveState.textContent = 'live';
    }
  }
  // The header's duration counts up while the run is running (on the server's clock),
  // and shows the stored duration once it ends.
  const durationEl = document.getElementById('duration');
  const skew = data.now_ts - Date.now() / 1000;
  function fmtDuration(s) {
    // Truncated, like minutes and hours: 59.96 s reads 59.9s, not 60.0s.
    if (s < 60) { const tenths = Math.floor(Math.floor(s * 1000 + 1e-6) / 100); return Math.floor(tenths / 10) + '.' + (tenths % 10) + 's'; }
    const p = n => String(Math.floor(n)).padStart(2, '0');
    if (s < 3600) return Math.floor(s / 60) + 'm ' + p(s % 60) + 's';
    return Math.floor(s / 3600) + 'h ' + p((s / 60) % 60) + 'm';
  }
  let ticker = null;
  if (data.status === 'running') {
    ticker = setInterval(() => {
      durationEl.textContent = fmtDuration(Math.max(0, Date.now() / 1000 + skew - data.start_ts));
    }, 250);
  }
  async function showFinalDuration() {
    clearInterval(ticker);
    try {
      const resp = await fetch('/api/v1/experiments/' + data.id);
      const e = (await resp.json()).data;
      if (e.finish_time) durationEl.textContent = fmtDuration(Math.max(0, (Date.parse(e.finish_time) - Date.parse(e.create_time)) / 1000));
    } catch (err) { /* keeps the last count */ }
  }

  if (data.status === 'running') {
    source = new EventSource('/api/v1/experiments/' + data.id + '/events');
    source.onmessage = ev => onSnapshot(JSON.parse(ev.data));
    source.addEventListener('gone', () => { liveState.textContent = 'experiment deleted'; source.close(); });
    source.onerror = () => { liveState.textContent = 'reconnecting…'; };
  }
  window.loupeExperiment = { charts, panels, settings, fmtDuration };
})();
