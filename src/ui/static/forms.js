// Forms generated from parameter schemas (the component API's `schema`), and Plotly
// figures drawn from the server's JSON. Shared by the model and dataset pages.
(function () {
  'use strict';
  const el = (tag, attrs, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') e.textContent = v; else if (v !== false && v !== undefined && v !== null) e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children) e.append(c);
    return e;
  };

  function input(name, p, value, prefix) {
    const id = prefix + name;
    if (p.enum) {
      const s = el('select', { id, 'data-param': name });
      for (const c of p.enum) s.append(el('option', { value: c, selected: c === value, text: c }));
      return s;
    }
    if (p.type === 'boolean') return el('input', { id, type: 'checkbox', 'data-param': name, checked: !!value });
    const attrs = { id, 'data-param': name, type: p.type === 'string' ? 'text' : 'number', value: value ?? '' };
    if (p.type === 'integer') attrs.step = '1';
    if (p.type === 'number') attrs.step = 'any';
    if (p.minimum !== undefined) attrs.min = p.minimum;
    if (p.maximum !== undefined) attrs.max = p.maximum;
    return el('input', attrs);
  }

  // Rows of a parameter table: value, and for tunable parameters an "optimize" box
  // with bounds (DashAI's {optimize, lower_bound, upper_bound} form).
  function render(tbody, schema, opts) {
    tbody.replaceChildren();
    const prefix = (opts && opts.prefix) || 'p-';
    for (const name of schema.order || Object.keys(schema.properties)) {
      const p = schema.properties[name];
      const row = el('tr', { 'data-name': name });
      row.append(el('td', {}, el('label', { for: prefix + name }, el('code', { text: name }))));
      row.append(el('td', {}, input(name, p, p.default, prefix)));
      const search = el('td', { class: 'opt-col' });
      if (p.tunable && opts && opts.tunable) {
        const box = el('input', { type: 'checkbox', class: 'optimize', 'aria-label': 'search ' + name });
        const range = p.search_range || [p.minimum, p.maximum];
        const lo = el('input', { type: 'number', class: 'lower', step: 'any', value: range[0], min: p.minimum, max: p.maximum, size: 6, 'aria-label': name + ' lower bound' });
        const hi = el('input', { type: 'number', class: 'upper', step: 'any', value: range[1], min: p.minimum, max: p.maximum, size: 6, 'aria-label': name + ' upper bound' });
        search.append(el('label', {}, box, ' search '), lo, ' – ', hi, p.log_scale ? el('span', { class: 'muted small', text: ' log' }) : '');
      }
      row.append(search);
      row.append(el('td', { class: 'muted', text: p.description || '' }));
      tbody.append(row);
    }
  }

  function read(tbody, schema) {
    const out = {};
    for (const row of tbody.querySelectorAll('tr[data-name]')) {
      const name = row.dataset.name;
      const p = schema.properties[name];
      const field = row.querySelector('[data-param]');
      const box = row.querySelector('input.optimize');
      if (box && box.checked) {
        out[name] = { optimize: true, lower_bound: Number(row.querySelector('.lower').value), upper_bound: Number(row.querySelector('.upper').value) };
        continue;
      }
      if (p.type === 'boolean') out[name] = field.checked;
      else if (p.type === 'integer' || p.type === 'number') { if (field.value !== '') out[name] = Number(field.value); }
      else out[name] = field.value;
    }
    return out;
  }

  function plot(div, figure) {
    if (!window.Plotly) { div.textContent = 'plotly.js did not load'; return; }
    const layout = Object.assign({ autosize: true, height: 360, font: { size: 12 } }, figure.layout || {});
    window.Plotly.newPlot(div, figure.data || [], layout, { responsive: true, displaylogo: false });
  }

  // Six (or `digits`) significant digits, or more where that would round to 0, 1 or 100
  // (either sign) a value that is not exactly that (a score of 0.9999998 is not a perfect 1).
  function shortNumber(v, digits) {
    const d = digits || 6;
    let text = Number(v.toPrecision(d)).toString();
    for (let p = d + 1; p <= 17 && Number(text) !== v && [0, 1, 100].includes(Math.abs(Number(text))); p++) text = Number(v.toPrecision(p)).toString();
    return text;
  }

  function table(container, data) {
    const t = el('table', { class: 'grid' });
    const head = el('tr');
    for (const c of data.columns) head.append(el('th', { text: c }));
    t.append(el('thead', {}, head));
    const body = el('tbody');
    for (const r of data.rows) {
      const tr = el('tr');
      for (const v of r) tr.append(el('td', { text: v === null ? '—' : (typeof v === 'number' ? shortNumber(v) : String(v)) }));
      body.append(tr);
    }
    t.append(body);
    container.replaceChildren(t);
  }

  async function api(method, url, body) {
    const resp = await fetch(url, body === undefined ? { method } : {
      method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    let json = {};
    try { json = await resp.json(); } catch (e) { /* not JSON */ }
    if (!resp.ok) throw new Error(json.message || ('HTTP ' + resp.status));
    return json.data;
  }

  window.LoupeForms = { el, render, read, plot, table, api, shortNumber };
})();
