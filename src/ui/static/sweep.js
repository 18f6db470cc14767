// The project's sweep panels, drawn when opened: parallel coordinates of the runs'
// parameters (the table's config columns) and a metric, each parameter's importance to
// it (eta^2, and Spearman's rho for numbers, computed by the server), and a scatter of
// one parameter against the metric. They follow the table's search and status filter.
(function () {
  'use strict';
  const box = document.getElementById('sweep');
  if (!box) return;
  const project = JSON.parse(document.getElementById('project-data').textContent);
  const metricSel = document.getElementById('sweep-metric');
  const dirSel = document.getElementById('sweep-dir');
  const valueSel = document.getElementById('sweep-value');
  const xSel = document.getElementById('scatter-x');
  const info = document.getElementById('sweep-info');
  const fmt = v => LoupeAxes.compact(v, 4);
  let data = null;
  let shownMetric = null;
  // The table sorted by each run's minimum or maximum of a metric: the panel starts there.
  const sorted = /^(min|max):(.+)$/.exec(new URLSearchParams(location.search).get('sort') || '');
  if (sorted) valueSel.value = sorted[1];

  // The metric as drawn: its last value, or each run's min or max over all steps.
  const metricName = () => (data.value && data.value !== 'last' ? data.value + '(' + data.metric + ')' : data.metric);
  const lowerIsBetter = key => /loss|err|perplexity|ppl|mse|mae|rmse|time/i.test(key);

  // Values along an axis: numbers (log-spaced when they span two decades or more and are
  // all positive) or categories, evenly spaced in sorted order.
  function makeAxis(name, values) {
    const present = values.filter(v => v !== null && v !== undefined);
    const numeric = present.length > 0 && present.every(v => typeof v === 'number');
    if (numeric) {
      let lo = Math.min(...present), hi = Math.max(...present);
      const log = lo > 0 && hi / lo >= 100;
      const f = log ? Math.log10 : (x => x);
      const a = f(lo), b = f(hi);
      const pos = v => (b === a ? 0.5 : (f(v) - a) / (b - a));
      return { name, numeric, log, lo, hi, pos, labels: [[1, fmt(hi)], [0, fmt(lo)]] };
    }
    const cats = [...new Set(present.map(String))].sort();
    const pos = v => (cats.length === 1 ? 0.5 : cats.indexOf(String(v)) / (cats.length - 1));
    return { name, numeric, cats, pos, labels: cats.slice(0, 12).map(c => [pos(c), c]) };
  }

  function colour(t) {  // 0 worst .. 1 best: light blue to dark orange
    const from = [173, 200, 255], to = [232, 89, 12];
    return 'rgb(' + from.map((f, i) => Math.round(f + (to[i] - f) * t)).join(',') + ')';
  }

  function canvasOf(id, height) {
    const c = document.getElementById(id);
    const width = Math.max(280, c.parentElement.clientWidth - 4);
    const dpr = window.devicePixelRatio || 1;
    c.width = width * dpr;
    c.height = height * dpr;
    c.style.width = width + 'px';
    c.style.height = height + 'px';
    const ctx = c.getContext('2d');
    ctx.scale(dpr, dpr);
    const css = getComputedStyle(document.documentElement);
    ctx.font = '11px system-ui, sans-serif';
    return { c, ctx, width, height, ink: css.getPropertyValue('--axis').trim() || '#444', line: css.getPropertyValue('--grid').trim() || '#ddd' };
  }

  function score(runs) {
    const ys = runs.map(r => r.metric).filter(v => v !== null);
    const lo = Math.min(...ys), hi = Math.max(...ys);
    const better = dirSel.value === 'min' ? (v => (hi - v) / (hi - lo || 1)) : (v => (v - lo) / (hi - lo || 1));
    return r => (r.metric === null ? null : better(r.metric));
  }

  function drawParallel() {
    const start = performance.now();
    const { c, ctx, width, height, ink, line } = canvasOf('parcoords', 300);
    const runs = data.runs;
    const axes = data.params.map((p, i) => makeAxis(p.key, runs.map(r => r.params[i])));
    axes.push(makeAxis(metricName(), runs.map(r => r.metric)));
    const top = 34, bottom = height - 22, left = 50, right = width - 50;
    const x = i => (axes.length === 1 ? (left + right) / 2 : left + (right - left) * i / (axes.length - 1));
    const y = p => bottom - (bottom - top) * p;
    const good = score(runs);
    const order = runs.map((r, i) => i).sort((a, b) => (good(runs[a]) ?? -1) - (good(runs[b]) ?? -1));
    let drawn = 0, best = null;
    for (const i of order) {  // the best runs last, on top
      const r = runs[i];
      const g = good(r);
      ctx.strokeStyle = g === null ? 'rgba(128,128,128,0.35)' : colour(g);
      ctx.lineWidth = 1.2;
      ctx.beginPath();
      let pen = false;
      axes.forEach((a, k) => {
        const v = k < data.params.length ? r.params[k] : r.metric;
        if (v === null || v === undefined) { pen = false; return; }
        const px = x(k), py = y(a.pos(v));
        if (pen) ctx.lineTo(px, py); else ctx.moveTo(px, py);
        pen = true;
      });
      ctx.stroke();
      drawn++;
      if (g !== null && (best === null || g > good(best))) best = r;
    }
    if (best) {  // the best run, outlined
      ctx.strokeStyle = '#c92a2a';
      ctx.lineWidth = 2.5;
      ctx.beginPath();
      axes.forEach((a, k) => {
        const v = k < data.params.length ? best.params[k] : best.metric;
        if (v === null || v === undefined) return;
        if (k === 0) ctx.moveTo(x(k), y(a.pos(v))); else ctx.lineTo(x(k), y(a.pos(v)));
      });
      ctx.stroke();
    }
    ctx.fillStyle = ink;
    ctx.strokeStyle = line;
    ctx.lineWidth = 1;
    axes.forEach((a, k) => {
      ctx.beginPath();
      ctx.moveTo(x(k), top);
      ctx.lineTo(x(k), bottom);
      ctx.stroke();
      ctx.textAlign = 'center';
      ctx.font = '600 11px system-ui, sans-serif';
      ctx.fillText(a.name.length > 22 ? a.name.slice(0, 21) + '…' : a.name, x(k), 14);
      ctx.font = '11px system-ui, sans-serif';
      for (const [p, label] of a.labels) {
        ctx.textAlign = k === axes.length - 1 ? 'right' : 'left';
        ctx.fillText(String(label).slice(0, 16), x(k) + (k === axes.length - 1 ? -4 : 4), y(p) + (p === 1 ? 10 : p === 0 ? -3 : 4));
      }
      if (a.log) { ctx.textAlign = 'center'; ctx.fillText('log', x(k), height - 6); }
    });
    c.dataset.axes = JSON.stringify(axes.map(a => a.name));
    c.dataset.lines = String(drawn);
    c.dataset.best = best ? String(best.id) : '';
    c.dataset.drawMs = String(Math.round(performance.now() - start));
    info.textContent = runs.length + ' runs' + (best ? ' · best: ' + best.name + ' (' + metricName() + ' = ' + fmt(best.metric) + ')' : '');
  }

  function drawImportance() {
    const tbody = document.querySelector('#importance tbody');
    tbody.textContent = '';
    const rows = data.params.map(p => p).sort((a, b) => (b.eta2 ?? -1) - (a.eta2 ?? -1));
    for (const p of rows) {
      const tr = document.createElement('tr');
      tr.dataset.key = p.key;
      const name = document.createElement('td');
      name.textContent = p.key;
      const imp = document.createElement('td');
      if (p.eta2 === null) imp.textContent = '—';
      else {
        const bar = document.createElement('span');
        bar.className = 'imp-bar';
        bar.style.width = Math.round(p.eta2 * 100) + 'px';
        imp.appendChild(bar);
        imp.appendChild(document.createTextNode(' ' + p.eta2.toFixed(2)));
      }
      imp.title = 'share of the variance of ' + metricName() + ' explained by ' + p.key + (p.kind === 'numeric' && p.distinct > 5 ? ' (in ' + Math.min(5, Math.max(2, Math.floor(p.runs / 2))) + ' equal-count bins)' : '');
      const rho = document.createElement('td');
      rho.className = 'num';
      rho.textContent = p.rho === null ? '—' : (p.rho > 0 ? '+' : '') + p.rho.toFixed(2);
      if (p.rho !== null) rho.classList.add(p.rho > 0 ? 'pos' : 'neg');
      const n = document.createElement('td');
      n.className = 'num';
      n.textContent = String(p.runs);
      tr.append(name, imp, rho, n);
      tbody.appendChild(tr);
    }
    if (!rows.length) tbody.innerHTML = '<tr><td colspan="4" class="muted">No config columns: pick some under Columns.</td></tr>';
  }

  function drawScatter() {
    const { c, ctx, width, height, ink, line } = canvasOf('scatter', 260);
    const k = data.params.findIndex(p => p.key === xSel.value);
    const runs = data.runs.filter(r => r.metric !== null && k >= 0 && r.params[k] !== null);
    c.dataset.points = String(runs.length);
    if (k < 0) return;
    const ax = makeAxis(data.params[k].key, runs.map(r => r.params[k]));
    const ay = makeAxis(metricName(), runs.map(r => r.metric));
    const left = 56, right = width - 12, top = 10, bottom = height - 30;
    const good = score(data.runs);
    ctx.strokeStyle = line;
    ctx.strokeRect(left, top, right - left, bottom - top);
    for (const r of runs) {
      const px = left + (right - left) * ax.pos(r.params[k]);
      const py = bottom - (bottom - top) * ay.pos(r.metric);
      ctx.fillStyle = colour(good(r) ?? 0);
      ctx.beginPath();
      ctx.arc(px, py, 3.5, 0, Math.PI * 2);
      ctx.fill();
    }
    ctx.fillStyle = ink;
    ctx.textAlign = 'right';
    for (const [p, label] of ay.labels) ctx.fillText(String(label), left - 4, bottom - (bottom - top) * p + 4);
    ctx.textAlign = 'center';
    for (const [p, label] of ax.labels) ctx.fillText(String(label).slice(0, 14), left + (right - left) * p, bottom + 14);
    ctx.fillText(ax.name + (ax.log ? ' (log)' : ''), (left + right) / 2, height - 2);
  }

  function draw() {
    if (!data) return;
    drawParallel();
    drawImportance();
    drawScatter();
    box.dataset.state = 'drawn';
  }

  async function load() {
    box.dataset.state = 'loading';
    const params = new URLSearchParams(location.search);
    const query = new URLSearchParams();
    for (const k of ['q', 'status', 'ccols']) if (params.has(k)) query.set(k, params.get(k));
    if (metricSel.value) query.set('metric', metricSel.value);
    else if (sorted) query.set('metric', sorted[2]);
    query.set('value', valueSel.value);
    try {
      const resp = await fetch('/api/v1/projects/' + project.id + '/sweep?' + query);
      const body = await resp.json();
      if (!resp.ok) throw new Error(body.message || ('HTTP ' + resp.status));
      data = body.data;
    } catch (err) {
      info.textContent = 'failed: ' + err.message;
      box.dataset.state = 'error';
      return;
    }
    if (!metricSel.options.length) {
      for (const m of data.metrics.filter(m => !m.startsWith('system/'))) metricSel.add(new Option(m, m, false, m === data.metric));
    }
    if (data.metric !== shownMetric) dirSel.value = lowerIsBetter(data.metric) ? 'min' : 'max';  // a manual choice stays
    shownMetric = data.metric;
    const keep = xSel.value;
    xSel.textContent = '';
    for (const p of data.params) xSel.add(new Option(p.key, p.key));
    if (data.params.some(p => p.key === keep)) xSel.value = keep;
    else if (data.params.length) xSel.value = [...data.params].sort((a, b) => (b.eta2 ?? -1) - (a.eta2 ?? -1))[0].key;
    draw();
  }

  box.addEventListener('toggle', () => { if (box.open && !data) load(); });
  metricSel.addEventListener('change', load);
  valueSel.addEventListener('change', load);
  dirSel.addEventListener('change', draw);
  xSel.addEventListener('change', drawScatter);
  if (box.open) load();
  window.loupeSweep = { draw, load, get data() { return data; } };
})();
