// Loupe charts: one LoupeChart per metric chart, drawn with uPlot. Data always comes
// from the server's downsampled series endpoint (first/last and every bucket's min and
// max are kept), so a zoom re-queries the server for the new step range instead of
// thinning points in the browser.
(function () {
  'use strict';

  const WIDTH_FALLBACK = 480;

  function num(v) {
    return typeof v === 'number' ? v : null;  // "NaN", "Infinity" and "-Infinity" arrive as strings
  }

  function parseSeries(d) {
    const steps = [], values = [], ts = [], raw = [];
    let nonFinite = 0;
    for (const p of d.points) {
      steps.push(p[0]);
      const v = num(p[1]);
      if (v === null) nonFinite++;
      values.push(v);
      raw.push(p[1]);
      ts.push(p[2]);
    }
    return { steps, values, raw, ts, count: d.count, downsampled: d.downsampled, nonFinite };
  }

  // Where a series has a point that is not drawn (NaN, an infinity, or a value a log
  // scale cannot place): x -> the text hover shows for it, so hovering there says what
  // was logged instead of showing a neighbour's value.
  function undrawn(xs, raw, drawn) {
    const out = new Map();
    for (let i = 0; i < xs.length; i++) {
      if (drawn[i] == null) out.set(xs[i], typeof raw[i] === 'number' ? window.LoupeAxes.compact(raw[i], 6) : String(raw[i]));
    }
    return out;
  }

  // A value axis's range: uPlot's (10% padding, 0 kept in view when near), except where
  // uPlot has no answer. A constant gets 10% either side (0: -1 to 1, not 0 to 100);
  // values under 1e-24 apart, or eleven orders of magnitude below their size, which uPlot
  // draws as flat on a range of its own, keep their spread.
  function linearRange(u, min, max) {
    if (min == null || max == null) return [min, max];
    if (min === max) {
      const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
      return [min - pad, max + pad];
    }
    const delta = max - min;
    if (delta < 1e-24 || Math.log10(Math.max(Math.abs(min), Math.abs(max))) - Math.log10(delta) > 10) {
      return [min - delta * 0.1, max + delta * 0.1];
    }
    return uPlot.rangeNum(min, max, 0.1, true);
  }

  // Points uPlot would not draw: one with no drawn neighbour on either side (between two
  // NaNs, say) makes no line, so it is drawn as a dot.
  function isolatedPoints(u, sidx) {
    const ys = u.data[sidx];
    const out = [];
    const prevDrawn = (i) => { for (let j = i - 1; j >= 0; j--) if (ys[j] !== undefined) return ys[j] != null; return false; };
    const nextDrawn = (i) => { for (let j = i + 1; j < ys.length; j++) if (ys[j] !== undefined) return ys[j] != null; return false; };
    for (let i = 0; i < ys.length; i++) {
      if (ys[i] != null && !prevDrawn(i) && !nextDrawn(i)) out.push(i);
    }
    return out.length ? out : null;
  }

  // First draw of many charts of one experiment: one request per group of keys.
  async function fetchBatchUrl(url) {
    const resp = await fetch(url);
    const body = await resp.json();
    if (!resp.ok) throw new Error(body.message || ('HTTP ' + resp.status));
    const out = new Map();
    for (const d of body.data.series) out.set(d.key, parseSeries(d));
    return out;
  }

  async function fetchSeries(expId, key, range, maxPoints) {
    const params = new URLSearchParams({ key: key, max_points: String(maxPoints) });
    if (range) {
      params.set('from', String(Math.max(0, Math.floor(range.from))));
      params.set('to', String(Math.max(0, Math.ceil(range.to))));
    }
    const resp = await fetch('/api/v1/experiments/' + expId + '/series?' + params.toString());
    const body = await resp.json();
    if (!resp.ok) throw new Error(body.message || ('HTTP ' + resp.status));
    return parseSeries(body.data);
  }

  // TensorBoard's debiased exponential moving average; gaps (null) are carried over.
  function smooth(values, weight) {
    if (!weight) return values;
    const out = new Array(values.length);
    let last = 0, n = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === null || !isFinite(v)) { out[i] = null; continue; }
      last = last * weight + (1 - weight) * v;
      n++;
      out[i] = last / (1 - Math.pow(weight, n));
    }
    return out;
  }

  function fade(color) {
    return color + '40';
  }

  function download(name, href) {
    const a = document.createElement('a');
    a.href = href;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  function safeName(s) {
    return s.replace(/[^A-Za-z0-9._-]+/g, '_');
  }

  class LoupeChart {
    // opts: {title, sources: [{expId, key, label, color, axis?: 'right'}], settings, chartId?,
    //        onPin?, onHide?, status?, onZoom?(range), syncKey?}
    constructor(container, opts) {
      this.opts = opts;
      this.settings = opts.settings;  // shared {smoothing, xmode, log}
      this.range = null;              // zoomed step range, null = everything
      this.data = [];                 // per source: fetched series
      this.plot = null;
      this.el = document.createElement('div');
      this.el.className = 'chart';
      this.el.dataset.key = opts.title;
      this.el.dataset.state = 'loading';
      const head = document.createElement('div');
      head.className = 'head';
      const title = document.createElement('span');
      title.className = 'title';
      title.textContent = opts.title;
      title.title = opts.title;
      head.appendChild(title);
      const actions = document.createElement('span');
      actions.className = 'actions';
      const add = (label, tip, fn) => {
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = label;
        b.title = tip;
        b.dataset.action = label.toLowerCase();
        b.addEventListener('click', fn);
        actions.appendChild(b);
      };
      if (opts.onPin) add('Pin', 'pin to the top', () => opts.onPin(this));
      if (opts.onHide) add('Hide', 'hide this chart', () => opts.onHide(this));
      add('Reset', 'reset zoom', () => this.zoom(null));
      add('PNG', 'download as PNG', () => this.exportPng());
      add('SVG', 'download as SVG', () => this.exportSvg());
      if (opts.sources.length === 1 || opts.exportAll) {
        add('CSV', 'download the series (full resolution) as CSV', () => this.exportData('csv'));
        add('JSON', 'download the series (full resolution) as JSON', () => this.exportData('json'));
      }
      head.appendChild(actions);
      this.el.appendChild(head);
      this.meta = document.createElement('div');
      this.meta.className = 'meta';
      this.el.appendChild(this.meta);
      this.body = document.createElement('div');
      this.el.appendChild(this.body);
      container.appendChild(this.el);
    }

    maxPoints() {
      return Math.min(4000, Math.max(200, Math.round(this.width())));
    }

    // Draws data fetched elsewhere (a batch): a Map key -> series for this chart's sources.
    accept(byKey) {
      this.data = this.opts.sources.map(s => byKey.get(s.key) || { error: new Error('no data for ' + s.key), steps: [], values: [], ts: [], count: 0 });
      this.el.dataset.fetchedMs = String(Math.round(performance.now()));
      this.draw();
      this.el.dataset.drawnMs = String(Math.round(performance.now()));
    }

    // Charts in a grid share one width: reading it once per layout change, not per chart,
    // avoids a forced layout for every chart on a 100-chart page.
    width() {
      const grid = this.el.parentElement;
      if (!grid) return WIDTH_FALLBACK;
      if (!grid._loupeWidth) grid._loupeWidth = Math.max(200, (this.el.clientWidth || WIDTH_FALLBACK) - 16);
      return grid._loupeWidth;
    }

    async load() {
      const maxPoints = this.maxPoints();
      const range = this.range;
      this.el.dataset.state = 'loading';
      try {
        this.data = await Promise.all(this.opts.sources.map(s =>
          fetchSeries(s.expId, s.key, range, maxPoints).catch(err => ({ error: err, steps: [], values: [], ts: [], count: 0 }))));
      } catch (err) {
        this.meta.textContent = 'failed: ' + err.message;
        this.el.dataset.state = 'error';
        return;
      }
      this.lastRange = range;
      this.el.dataset.fetchedMs = String(Math.round(performance.now()));
      this.draw();
      this.el.dataset.drawnMs = String(Math.round(performance.now()));
    }

    xOf(i, d) {
      const mode = this.settings.xmode;
      if (mode === 'step') return d.steps;
      if (mode === 'wall') return d.ts;
      const src = this.opts.sources[i];
      // t0: the run's origin (the page's origin_ts: its start, or its first point when a
      // client's clock put that earlier). Without one, a source counts from its own first
      // point, fixed at the first full draw so zooming keeps it.
      if (src.t0 === undefined && !this.range && d.ts.length) src.t0 = d.ts[0];
      const t0 = src.t0 !== undefined ? src.t0 : (d.ts.length ? d.ts[0] : 0);
      return d.ts.map(t => t - t0);
    }

    // The labels uPlot last drew on each axis, kept for the SVG export and for tests
    // (uPlot draws on a canvas).
    recordTicks(name, labels) {
      this.ticks = this.ticks || {};
      this.ticks[name] = labels;
      this.el.dataset['ticks' + name[0].toUpperCase() + name.slice(1)] = JSON.stringify(labels);
      return labels;
    }

    // Axis and grid colours from the page's theme (light or dark).
    themed(axis) {
      const css = getComputedStyle(document.documentElement);
      const ink = css.getPropertyValue('--axis').trim() || '#4a5160';
      const grid = css.getPropertyValue('--grid').trim() || '#e9ecef';
      return Object.assign({ stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } }, axis);
    }

    xAxis() {
      return this.themed(this.xAxisScale());
    }

    xAxisScale() {
      const mode = this.settings.xmode;
      const A = window.LoupeAxes;
      if (mode === 'wall') {
        return {
          space: 90, incrs: A.wallIncrs, size: 44,
          splits: A.wallSplits,
          values: (u, vals, i, space, incr) => this.recordTicks('x', A.wallTicks(vals, incr)),
        };
      }
      if (mode === 'relative') {
        return { space: 60, incrs: A.durationIncrs,
                 values: (u, vals, i, space, incr) => this.recordTicks('x', A.durationTicks(vals, incr)) };
      }
      return { space: 60, values: (u, vals, i, space, incr) => this.recordTicks('x', A.numberTicks(vals, incr)) };
    }

    yAxis(scale, log) {
      const A = window.LoupeAxes;
      return this.themed(Object.assign({
        scale, size: A.axisSize,
        values: (u, vals, i, space, incr) => this.recordTicks(scale, log ? A.logTicks(vals) : A.numberTicks(vals, incr)),
      }, log ? {} : { incrs: A.numberIncrs }));
    }

    draw() {
      const srcs = this.opts.sources;
      const tables = [];
      const series = [{ label: this.settings.xmode === 'step' ? 'step' : 'time' }];
      const weight = this.settings.smoothing;
      const log = this.settings.log;
      let total = 0, shown = 0, nonFinite = 0, downsampled = false;
      const fix = v => (v === null || (log && v <= 0)) ? null : v;
      srcs.forEach((s, i) => {
        const d = this.data[i];
        if (!d || d.error) return;
        // The meta line and data-points describe the chart's own series (the first source);
        // overlays and other runs are in the legend.
        if (i === 0) { total = d.count; shown = d.steps.length; downsampled = d.downsampled; nonFinite = d.nonFinite || 0; }
        const xs = this.xOf(i, d);
        const scale = s.axis === 'right' ? 'y2' : 'y';
        const drawn = d.values.map(fix);
        const hidden = undrawn(xs, d.raw, drawn);
        const points = { filter: isolatedPoints };
        if (weight > 0) {
          tables.push([xs, drawn]);
          series.push({ label: s.label + ' (raw)', stroke: fade(s.color), width: 1, scale, spanGaps: false, loupeUndrawn: hidden, points });
          tables.push([xs, smooth(d.values, weight).map(fix)]);
          series.push({ label: s.label, stroke: s.color, width: 1.5, scale, spanGaps: false, loupeUndrawn: hidden, points });
        } else {
          tables.push([xs, drawn]);
          series.push({ label: s.label, stroke: s.color, width: 1.5, scale, spanGaps: false, loupeUndrawn: hidden, points,
                        dash: s.axis === 'right' ? [4, 3] : undefined });
        }
      });
      const errors = this.data.filter(d => d && d.error).map(d => d.error.message);
      let meta = total + (total === 1 ? ' point' : ' points');
      if (downsampled) meta += ' · ' + shown + ' drawn (min/max per bucket)';
      // Counted from the points drawn: exact unless downsampled, when each bucket keeps
      // only its first NaN/Inf, so the stored count can only be said to be at least that.
      if (nonFinite) meta += ' · ' + (downsampled ? 'at least ' : '') + nonFinite + ' NaN/Inf';
      if (this.range) meta += ' · zoomed to steps ' + Math.floor(this.range.from) + '–' + Math.ceil(this.range.to);
      if (errors.length) meta += ' · ' + errors.join('; ');
      this.meta.textContent = meta;
      if (!tables.length) {
        this.el.dataset.state = 'drawn';
        return;
      }
      const data = tables.length === 1 ? tables[0] : uPlot.join(tables);
      // Hover values in full (uPlot rounds to three decimals: 5.95e-5 read "0").
      const A = window.LoupeAxes;
      for (let k = 1; k < series.length; k++) {
        const hidden = series[k].loupeUndrawn;
        series[k].value = (u, v, sidx, idx) => (v != null ? A.compact(v, 6)
          : (idx != null && hidden.get(u.data[0][idx])) || '--');
      }
      const mode = this.settings.xmode;
      series[0].value = (u, v) => (v == null ? '--' : mode === 'step' ? String(Math.round(v))
        : mode === 'relative' ? A.duration(v, Math.abs(v) < 60 ? 0.001 : 1) : A.wallTicks([v], 0.001)[0].split('\n')[0]);
      // Each series' value is shown only where the series has data: near the hovered x,
      // never past its first or last point (a run that stopped at step 90 shows no value
      // at step 199).
      // A point not drawn (NaN, say) is data too: hovering it shows what it holds.
      const has = data.slice(1).map((ys, k) => (j) => ys[j] != null || (ys[j] === null && series[k + 1].loupeUndrawn.has(data[0][j])));
      const spans = data.slice(1).map((ys, k) => {
        let first = -1, last = -1;
        for (let j = 0; j < ys.length; j++) if (has[k](j)) { if (first < 0) first = j; last = j; }
        return [first, last];
      });
      const dataIdx = (u, sidx, idx) => {
        if (sidx === 0) return idx;
        const [first, last] = spans[sidx - 1] || [-1, -1];
        if (first < 0 || idx < first || idx > last) return null;
        const at = has[sidx - 1];
        for (let d = 0; d <= last - first; d++) {
          if (idx - d >= first && at(idx - d)) return idx - d;
          if (idx + d <= last && at(idx + d)) return idx + d;
        }
        return null;
      };
      const rightAxis = srcs.some(s => s.axis === 'right');
      const axes = [this.xAxis(), this.yAxis('y', log)];
      if (rightAxis) axes.push(Object.assign(this.yAxis('y2', false), { side: 1, grid: { show: false, stroke: 'transparent' } }));
      const opts = {
        width: this.width(),
        height: 200,
        series,
        scales: {
          // A run logged within a second has a zero-width time span; give it one.
          // A zoomed step axis shows the whole zoomed range, not just the points in it.
          // One point (uPlot pads a lone x to 0..2x): a unit either side of it.
          x: { time: false, range: (u, min, max) => {
            if (this.range && mode === 'step') return [this.range.from, this.range.to];
            const xs = u.data[0] || [];
            if (xs.length && xs[0] === xs[xs.length - 1]) return [xs[0] - 1, xs[0] + 1];
            return min === max ? [min - 1, max + 1] : [min, max];
          } },
          y: log ? { distr: 3 } : { distr: 1, range: linearRange },
          y2: { distr: 1, range: linearRange },
        },
        axes,
        legend: { show: true },
        // Charts of one page share a cursor: hovering one shows the same x on the others.
        cursor: Object.assign({ drag: { x: true, y: false, setScale: false }, dataIdx },
          this.opts.syncKey ? { sync: { key: this.opts.syncKey, setSeries: false } } : {}),
        hooks: {
          setSelect: [u => {
            if (u.select.width > 4) {
              const a = u.posToVal(u.select.left, 'x');
              const b = u.posToVal(u.select.left + u.select.width, 'x');
              this.zoomX(a, b);
            }
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          }],
        },
      };
      if (this.plot) this.plot.destroy();
      this.body.textContent = '';
      this.plot = new uPlot(opts, data, this.body);
      this.plot.over.addEventListener('dblclick', () => this.zoom(null));
      this.el.dataset.state = 'drawn';
      this.el.dataset.points = String(shown);
    }

    // Converts a selected x range (steps or seconds) to a step range and re-queries.
    zoomX(a, b) {
      if (this.settings.xmode === 'step') return this.zoom({ from: a, to: b });
      const d = this.data[0];
      const xs = this.xOf(0, d);
      let from = null, to = null;
      for (let i = 0; i < xs.length; i++) {
        if (xs[i] >= a && from === null) from = d.steps[i];
        if (xs[i] <= b) to = d.steps[i];
      }
      if (from === null || to === null || to < from) return;
      this.zoom({ from, to });
    }

    // A zoom the user asked for: the page may apply it to every chart (onZoom).
    zoom(range) {
      if (this.opts.onZoom) return this.opts.onZoom(range);
      this.setRange(range);
      return this.load();
    }

    setRange(range) {
      this.range = range;
      this.el.classList.toggle('zoomed', !!range);
    }

    exportPng() {
      if (!this.plot) return;
      const src = this.plot.ctx.canvas;
      const c = document.createElement('canvas');
      c.width = src.width; c.height = src.height;
      const ctx = c.getContext('2d');
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, c.width, c.height);
      ctx.drawImage(src, 0, 0);
      download(safeName(this.opts.title) + '.png', c.toDataURL('image/png'));
    }

    svgText() {
      const u = this.plot;
      const w = u.width, h = u.height;
      const left = u.bbox.left / devicePixelRatio, top = u.bbox.top / devicePixelRatio;
      const pw = u.bbox.width / devicePixelRatio, ph = u.bbox.height / devicePixelRatio;
      const esc = s => String(s).replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
      let out = '<svg xmlns="http://www.w3.org/2000/svg" width="' + w + '" height="' + (h + 20) + '" font-family="sans-serif" font-size="11">';
      out += '<rect width="100%" height="100%" fill="#fff"/>';
      out += '<text x="' + left + '" y="14" font-weight="bold">' + esc(this.opts.title) + '</text>';
      out += '<g transform="translate(0,20)"><rect x="' + left + '" y="' + top + '" width="' + pw + '" height="' + ph + '" fill="none" stroke="#ccc"/>';
      const A = window.LoupeAxes;
      for (const [scale, side, axisIdx] of [['x', 'x', 0], ['y', 'y', 1]]) {
        const sc = u.scales[scale];
        if (sc.min == null) continue;
        // The ticks the page drew, labelled as drawn; the scale's ends and middle only when
        // uPlot drew none.
        const drawnAt = u.axes[axisIdx] && u.axes[axisIdx]._splits;
        const drawnLabels = this.ticks && this.ticks[scale];
        let vals, labels;
        if (drawnAt && drawnLabels && drawnAt.length === drawnLabels.length && drawnAt.length) {
          vals = drawnAt;
          labels = drawnLabels.map(l => String(l).split('\n')[0]);
        } else {
          vals = [sc.min, (sc.min + sc.max) / 2, sc.max];
          const incr = (sc.max - sc.min) / 2;
          const mode = this.settings.xmode;
          labels = side === 'y' ? (this.settings.log ? A.logTicks(vals) : A.numberTicks(vals, incr))
            : mode === 'wall' ? A.wallTicks(vals, incr).map(l => l.split('\n')[0])
            : mode === 'relative' ? A.durationTicks(vals, incr) : A.numberTicks(vals, incr);
        }
        vals.forEach((v, k) => {
          const label = labels[k];
          if (v == null || label === '' || label == null) return;
          const p = u.valToPos(v, scale);
          out += side === 'x'
            ? '<text x="' + (left + p) + '" y="' + (top + ph + 14) + '" text-anchor="middle">' + esc(label) + '</text>'
            : '<text x="' + (left - 4) + '" y="' + (top + p + 4) + '" text-anchor="end">' + esc(label) + '</text>';
        });
      }
      for (let s = 1; s < u.series.length; s++) {
        const ser = u.series[s];
        if (!ser.show) continue;
        let d = '', pen = false, dots = '';
        const xs = u.data[0], ys = u.data[s];
        const stroke = typeof ser.stroke === 'function' ? ser.stroke(u, s) : ser.stroke;
        for (const i of isolatedPoints(u, s) || []) {
          dots += '<circle cx="' + (left + u.valToPos(xs[i], 'x')).toFixed(1) + '" cy="' + (top + u.valToPos(ys[i], ser.scale)).toFixed(1) +
            '" r="2" fill="' + esc(stroke) + '"/>';
        }
        for (let i = 0; i < xs.length; i++) {
          if (ys[i] === undefined) continue;  // another run's x: the line goes on, as on the page
          if (ys[i] == null) { pen = false; continue; }
          const x = left + u.valToPos(xs[i], 'x'), y = top + u.valToPos(ys[i], ser.scale);
          d += (pen ? 'L' : 'M') + x.toFixed(1) + ' ' + y.toFixed(1);
          pen = true;
        }
        out += '<path d="' + d + '" fill="none" stroke="' + esc(stroke) + '" stroke-width="1.5"/>' + dots;
      }
      return out + '</g></svg>';
    }

    exportSvg() {
      if (!this.plot) return;
      const blob = new Blob([this.svgText()], { type: 'image/svg+xml' });
      const url = URL.createObjectURL(blob);
      download(safeName(this.opts.title) + '.svg', url);
      setTimeout(() => URL.revokeObjectURL(url), 5000);
    }

    exportData(format) {
      const s = this.opts.sources[0];
      download(safeName(s.key) + '.' + format, '/api/v1/experiments/' + s.expId + '/series/export?key=' +
        encodeURIComponent(s.key) + '&format=' + format);
    }

    resize() {
      if (this.el.parentElement) this.el.parentElement._loupeWidth = 0;
      if (this.plot) this.plot.setSize({ width: this.width(), height: 200 });
    }
  }

  // Runs async jobs with at most `limit` in flight (the browser allows 6 connections).
  function queue(limit) {
    let active = 0;
    const waiting = [];
    const next = () => {
      if (active >= limit || !waiting.length) return;
      active++;
      const [job, resolve] = waiting.shift();
      job().finally(() => { active--; resolve(); next(); });
    };
    return job => new Promise(resolve => { waiting.push([job, resolve]); next(); });
  }

  function bindControls(settings, onChange) {
    const sm = document.getElementById('smoothing');
    const smv = document.getElementById('smoothing-value');
    if (sm) sm.addEventListener('input', () => { settings.smoothing = +sm.value; smv.textContent = sm.value; onChange('redraw'); });
    const x = document.getElementById('xaxis');
    if (x) x.addEventListener('change', () => { settings.xmode = x.value; onChange('redraw'); });
    const lg = document.getElementById('logscale');
    if (lg) lg.addEventListener('change', () => { settings.log = lg.checked; onChange('redraw'); });
  }

  window.Loupe = { LoupeChart, fetchSeries, fetchBatchUrl, smooth, queue, bindControls,
    palette: ['#3b5bdb', '#e8590c', '#2b8a3e', '#c2255c', '#7048e8', '#0c8599', '#f08c00', '#5c940d', '#862e9c', '#1864ab',
              '#d9480f', '#087f5b', '#a61e4d', '#364fc7', '#e67700', '#2f9e44', '#9c36b5', '#0b7285', '#c92a2a', '#495057'] };
})();
