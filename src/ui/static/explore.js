// The dataset page's explorers: a form built from the Explorer components' schemas,
// explorations run as jobs, and their Plotly figures or tables drawn below, newest first.
(function () {
  'use strict';
  const form = document.getElementById('explore-form');
  if (!form) return;
  const { el, render, read, plot, table, api } = window.LoupeForms;
  const columns = JSON.parse(form.dataset.columns || '[]');
  const dataset = form.dataset.dataset;
  const type = document.getElementById('e-type');
  const list = document.getElementById('explorations');
  const say = (text, bad) => { const s = document.getElementById('explore-status'); s.textContent = text; s.style.color = bad ? 'var(--bad)' : ''; };
  let explorers = [];
  const current = () => explorers.find((e) => e.name === type.value);

  const show = () => {
    const e = current();
    if (!e) return;
    document.getElementById('e-help').textContent = e.description;
    const { min, max, types } = e.columns;
    document.getElementById('e-columns-rule').textContent = '(' + (max === min ? min : (max ? min + '–' + max : min + ' or more')) + ' of: ' + types.join(', ') + ')';
    const box = document.getElementById('e-columns');
    box.replaceChildren();
    let picked = 0;
    for (const c of columns) {
      const fits = types.includes(c.type);
      const check = fits && picked < (min || 0);
      if (check) picked++;
      box.append(el('label', { class: 'check' }, el('input', { type: 'checkbox', value: c.name, disabled: !fits, checked: check }), ' ' + c.name + ' ', el('span', { class: 'muted', text: c.type })));
    }
    const params = document.getElementById('e-params');
    render(params, e.schema, { prefix: 'e-' });
    // Parameters that name a column become a column picker.
    for (const name of e.column_parameters) {
      const old = params.querySelector('[data-param="' + name + '"]');
      const sel = el('select', { id: old.id, 'data-param': name }, el('option', { value: '', text: '(none)' }));
      for (const c of columns) if (c.type !== 'text') sel.append(el('option', { value: c.name, text: c.name + ' (' + c.type + ')' }));
      old.replaceWith(sel);
    }
  };

  const draw = async (x, card) => {
    const out = card.querySelector('.result');
    if (x.status === 'ERROR') { out.textContent = x.error; out.className = 'result error-text'; return; }
    if (x.status !== 'FINISHED') {
      out.textContent = x.status.toLowerCase() + '…';
      setTimeout(async () => draw(await api('GET', '/api/v1/explorer/' + x.id), card), 300);
      return;
    }
    const res = await api('GET', '/api/v1/explorer/' + x.id + '/results');
    out.replaceChildren();
    if (res.type === 'plotly_json') { const div = el('div', { class: 'plot' }); out.append(div); plot(div, res.data); }
    else table(out, res.data);
  };
  const card = (x) => {
    const c = el('div', { class: 'card exploration', 'data-explorer': x.id },
      el('div', { class: 'muted', text: x.exploration_type + (x.columns.length ? ' · ' + x.columns.join(', ') : '') }),
      el('div', { class: 'result' }));
    draw(x, c);
    return c;
  };

  api('GET', '/api/v1/component/?select_types=Explorer').then((e) => {
    explorers = e;
    type.replaceChildren(...e.map((x) => el('option', { value: x.name, text: x.name.replace(/Explorer$/, '') })));
    show();
  });
  api('GET', '/api/v1/explorer/?dataset_id=' + dataset).then((all) => { for (const x of all.reverse()) list.append(card(x)); });
  type.addEventListener('change', show);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const e = current();
    const params = read(document.getElementById('e-params'), e.schema);
    for (const name of e.column_parameters) if (params[name] === '') delete params[name];
    const body = { dataset_id: Number(dataset), exploration_type: e.name, parameters: params,
      columns: [...document.querySelectorAll('#e-columns input:checked')].map((b) => b.value) };
    say('exploring…');
    try {
      const x = await api('POST', '/api/v1/explorer/', body);
      say('');
      list.prepend(card(x));
    } catch (err) { say(err.message, true); }
  });
})();
