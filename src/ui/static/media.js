// Media panels of the experiment page, one per media key: images (and audio) with a step
// slider and captions, text samples as a table by step, histograms over steps as a
// heatmap with the selected step's bars. Each loads its key's files list in one request
// (/api/v1/experiments/{id}/media; text and histograms come inline), only once the
// panel is near the screen, so media never delays the scalar charts.
(function () {
  'use strict';

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function byStep(items) {
    const steps = new Map();
    for (const it of items) {
      if (!steps.has(it.step)) steps.set(it.step, []);
      steps.get(it.step).push(it);
    }
    return [...steps.entries()].sort((a, b) => a[0] - b[0]);
  }

  function fmt(v) {
    return window.LoupeAxes ? window.LoupeAxes.compact(v, 4) : String(v);
  }

  class MediaPanel {
    // opts: {expId, key, type, title?, onStep?(step): the user picked a step}
    constructor(container, opts) {
      this.opts = opts;
      this.el = el('div', 'chart media');
      this.el.dataset.key = opts.key;
      this.el.dataset.type = opts.type;
      this.el.dataset.state = 'waiting';
      const head = el('div', 'head');
      const title = el('span', 'title', opts.title || opts.key);
      title.title = opts.title || opts.key;
      head.appendChild(title);
      head.appendChild(el('span', 'muted kind', opts.type));
      this.el.appendChild(head);
      this.meta = el('div', 'meta');
      this.el.appendChild(this.meta);
      this.body = el('div', 'media-body');
      this.el.appendChild(this.body);
      this.selected = null;  // the step shown; null follows the newest
      container.appendChild(this.el);
    }

    async load() {
      this.el.dataset.state = 'loading';
      try {
        const resp = await fetch('/api/v1/experiments/' + this.opts.expId + '/media?key=' + encodeURIComponent(this.opts.key));
        const body = await resp.json();
        if (!resp.ok) throw new Error(body.message || ('HTTP ' + resp.status));
        this.data = body.data;
      } catch (err) {
        this.meta.textContent = 'failed: ' + err.message;
        this.el.dataset.state = 'error';
        return;
      }
      this.draw();
      this.el.dataset.state = 'drawn';
    }

    draw() {
      const items = this.data.items;
      const steps = byStep(items);
      this.steps = steps;
      let meta = items.length + (items.length === 1 ? ' file' : ' files') + ' at ' + steps.length +
        (steps.length === 1 ? ' step' : ' steps');
      if (this.data.truncated) meta += ' (the newest ' + items.length + ')';
      this.meta.textContent = meta;
      this.el.dataset.steps = String(steps.length);
      this.body.textContent = '';
      if (!steps.length) { this.body.appendChild(el('div', 'muted', 'nothing logged yet')); return; }
      if (this.opts.type === 'text') return this.drawText(steps);
      if (this.opts.type === 'histogram') this.drawHeatmap(steps);
      this.drawSlider(steps);
    }

    // A slider over the steps that have files; the view below follows it.
    drawSlider(steps) {
      const row = el('div', 'media-slider');
      const range = el('input');
      range.type = 'range';
      range.min = '0';
      range.max = String(steps.length - 1);
      const idx = this.selected === null ? steps.length - 1
        : Math.max(0, steps.findIndex(([s]) => s >= this.selected));
      range.value = String(idx);
      range.disabled = steps.length === 1;
      range.setAttribute('aria-label', this.opts.key + ' step');
      const label = el('span', 'mono step-label');
      row.appendChild(range);
      row.appendChild(label);
      this.body.appendChild(row);
      const view = el('div', 'media-view');
      this.body.appendChild(view);
      const show = i => {
        const [step, files] = steps[i];
        label.textContent = 'step ' + step + ' (' + (i + 1) + ' of ' + steps.length + ')';
        this.el.dataset.shownStep = String(step);
        view.textContent = '';
        if (this.opts.type === 'histogram') this.drawBars(view, files[files.length - 1], step);
        else for (const f of files) view.appendChild(this.figure(f));
      };
      this.showIndex = i => {
        range.value = String(i);
        this.selected = i === steps.length - 1 ? null : steps[i][0];
        show(i);
        if (this.heat) this.heat.mark(i);
      };
      range.addEventListener('input', () => {
        this.showIndex(+range.value);
        if (this.opts.onStep) this.opts.onStep(steps[+range.value][0]);
      });
      show(idx);
      this.range = range;
      if (this.heat) this.heat.mark(idx);
    }

    figure(f) {
      const fig = el('figure');
      if (this.opts.type === 'audio') {
        const a = el('audio');
        a.controls = true;
        a.preload = 'none';
        a.src = f.url;
        fig.appendChild(a);
      } else {
        const link = el('a');
        link.href = f.url;
        link.target = '_blank';
        link.rel = 'noopener';
        const img = el('img');
        img.loading = 'lazy';
        img.src = f.url;
        img.alt = f.caption || this.opts.key;
        link.appendChild(img);
        fig.appendChild(link);
      }
      if (f.caption) fig.appendChild(el('figcaption', '', f.caption));
      return fig;
    }

    drawText(steps) {
      const wrap = el('div', 'text-samples');
      const table = el('table', 'grid samples');
      const head = el('tr');
      for (const h of ['Step', 'Text', 'Caption']) head.appendChild(el('th', '', h));
      const thead = el('thead');
      thead.appendChild(head);
      table.appendChild(thead);
      const tbody = el('tbody');
      for (const [step, files] of steps) {
        for (const f of files) {
          const tr = el('tr');
          tr.appendChild(el('td', 'num', String(step)));
          tr.appendChild(el('td', 'sample', f.text !== undefined ? f.text : (f.error || '')));
          tr.appendChild(el('td', 'muted', f.caption || ''));
          tbody.appendChild(tr);
        }
      }
      table.appendChild(tbody);
      wrap.appendChild(table);
      this.body.appendChild(wrap);
      wrap.scrollTop = wrap.scrollHeight;
    }

    // Histograms over steps: a column per step, the value axis shared, darker where a
    // step's bin holds more of that step's values.
    drawHeatmap(steps) {
      const hists = steps.map(([step, files]) => [step, files[files.length - 1].histogram]).filter(([, h]) => h && h.edges);
      let lo = Infinity, hi = -Infinity;
      for (const [, h] of hists) { lo = Math.min(lo, h.edges[0]); hi = Math.max(hi, h.edges[h.edges.length - 1]); }
      const W = Math.max(200, (this.el.clientWidth || 420) - 70), H = 150;
      const wrap = el('div', 'heatmap');
      const canvas = el('canvas');
      const dpr = window.devicePixelRatio || 1;
      canvas.width = W * dpr;
      canvas.height = H * dpr;
      canvas.style.width = W + 'px';
      canvas.style.height = H + 'px';
      const axis = el('div', 'heat-axis');
      axis.appendChild(el('span', 'mono', fmt(hi)));
      axis.appendChild(el('span', 'mono', fmt(lo)));
      wrap.appendChild(axis);
      wrap.appendChild(canvas);
      this.body.appendChild(wrap);
      const ctx = canvas.getContext('2d');
      ctx.scale(dpr, dpr);
      const colW = W / Math.max(1, hists.length);
      const y = v => H - (v - lo) / (hi - lo || 1) * H;
      hists.forEach(([, h], i) => {
        let max = 0;
        for (let b = 0; b < h.counts.length; b++) max = Math.max(max, h.counts[b] / (h.edges[b + 1] - h.edges[b]));
        for (let b = 0; b < h.counts.length; b++) {
          const density = h.counts[b] / (h.edges[b + 1] - h.edges[b]);
          if (!density) continue;
          ctx.fillStyle = 'rgba(59, 91, 219, ' + (0.08 + 0.92 * density / max).toFixed(3) + ')';
          const top = y(h.edges[b + 1]), bottom = y(h.edges[b]);
          ctx.fillRect(i * colW, top, Math.ceil(colW), Math.max(1, bottom - top));
        }
      });
      const marker = el('div', 'heat-marker');
      wrap.appendChild(marker);
      this.heat = {
        mark: i => {
          const col = hists.findIndex(([s]) => s === steps[i][0]);
          marker.style.left = (axis.offsetWidth + col * colW) + 'px';
          marker.style.width = Math.max(2, colW) + 'px';
        },
      };
      canvas.addEventListener('click', ev => {
        const i = Math.min(hists.length - 1, Math.floor(ev.offsetX / colW));
        const at = steps.findIndex(([s]) => s === hists[i][0]);
        this.showIndex(at);
        if (this.opts.onStep) this.opts.onStep(steps[at][0]);
      });
      this.el.dataset.range = JSON.stringify([lo, hi]);
    }

    // Shows the newest step at or before `step` (another panel's choice, on the compare page).
    selectStep(step) {
      if (!this.steps || !this.showIndex) { this.selected = step; return; }
      let i = 0;
      while (i + 1 < this.steps.length && this.steps[i + 1][0] <= step) i++;
      this.showIndex(i);
    }

    // One step's histogram as bars, with its bins' ranges and counts on hover.
    drawBars(view, file, step) {
      const h = file.histogram;
      if (!h || !h.edges) { view.appendChild(el('div', 'error-text', file.error || 'unreadable histogram')); return; }
      const total = h.counts.reduce((a, b) => a + b, 0);
      const max = Math.max(...h.counts);
      const bars = el('div', 'hist-bars');
      h.counts.forEach((c, b) => {
        const bar = el('div', 'hist-bar');
        bar.style.height = (max ? c / max * 100 : 0) + '%';
        bar.title = '[' + fmt(h.edges[b]) + ', ' + fmt(h.edges[b + 1]) + '): ' + c;
        bars.appendChild(bar);
      });
      view.appendChild(bars);
      const foot = el('div', 'hist-foot mono');
      foot.appendChild(el('span', '', fmt(h.edges[0])));
      foot.appendChild(el('span', 'muted', total + ' values at step ' + step));
      foot.appendChild(el('span', '', fmt(h.edges[h.edges.length - 1])));
      view.appendChild(foot);
      this.el.dataset.shownTotal = String(total);
    }
  }

  window.LoupeMedia = { MediaPanel };
})();
