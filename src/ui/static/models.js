// Model pages: the new-session wizard, the run form, the runs table (sort, compare,
// live refresh), and a run's search plots and predict box.
(function () {
  'use strict';
  const { el, render, read, plot, api } = window.LoupeForms;
  const say = (id, text, bad) => {
    const s = document.getElementById(id);
    if (s) { s.textContent = text; s.style.color = bad ? 'var(--bad)' : ''; }
  };

  // ---- new session ----
  const sform = document.getElementById('session-form');
  if (sform) {
    const columns = JSON.parse(sform.dataset.datasets || '{}');
    const metrics = JSON.parse(sform.dataset.tasks || '{}');
    const ds = document.getElementById('s-dataset'), task = document.getElementById('s-task');
    const output = document.getElementById('s-output'), inputs = document.getElementById('s-inputs');
    if (sform.dataset.preselect) ds.value = sform.dataset.preselect;
    const defaults = { Accuracy: 1, F1: 1, RMSE: 1, MAE: 1, R2: 1 };
    const fillColumns = () => {
      const cols = columns[ds.value] || [];
      const textTask = task.value === 'TextClassification';
      const prevOut = output.value;
      output.replaceChildren(...cols.map((c) => el('option', { value: c.name, text: c.name + ' (' + c.type + ')' })));
      // A likely target: a previous choice, else a column named like one, else the last
      // categorical column, else the last column.
      const named = cols.find((c) => /^(label|labels|target|class|y|outcome|category)$/i.test(c.name));
      const guess = named || cols.filter((c) => c.type === 'categorical' || c.type === 'boolean').pop() || cols[cols.length - 1];
      output.value = cols.some((c) => c.name === prevOut) ? prevOut : (guess ? guess.name : '');
      inputs.replaceChildren();
      for (const c of cols) {
        const fits = textTask ? c.type === 'text' : c.type !== 'text';
        const box = el('input', { type: 'checkbox', value: c.name, checked: fits && c.name !== output.value });
        inputs.append(el('label', { class: 'check' }, box, ' ' + c.name + ' ', el('span', { class: 'muted', text: c.type })));
      }
    };
    const fillMetrics = () => {
      const body = document.getElementById('s-metrics');
      body.replaceChildren();
      for (const m of metrics[task.value] || []) {
        const tr = el('tr', {}, el('td', { text: m }));
        for (const split of ['train', 'validation', 'test']) {
          tr.append(el('td', {}, el('input', { type: 'checkbox', 'data-split': split, value: m, checked: !!defaults[m] || (split === 'test' && m === 'ROCAUC'), 'aria-label': split + ' ' + m })));
        }
        body.append(tr);
      }
    };
    ds.addEventListener('change', fillColumns);
    task.addEventListener('change', () => { fillColumns(); fillMetrics(); });
    output.addEventListener('change', () => {
      for (const b of inputs.querySelectorAll('input')) if (b.value === output.value) b.checked = false;
    });
    document.getElementById('s-all').addEventListener('click', () => inputs.querySelectorAll('input').forEach((b) => { b.checked = b.value !== output.value; }));
    document.getElementById('s-none').addEventListener('click', () => inputs.querySelectorAll('input').forEach((b) => { b.checked = false; }));
    // A dataset with a text column suggests the text task, one without the tabular one.
    const guessTask = () => {
      const cols = columns[ds.value] || [];
      task.value = cols.some((c) => c.type === 'text') ? 'TextClassification' : 'TabularClassification';
      fillColumns(); fillMetrics();
    };
    ds.addEventListener('change', guessTask);
    guessTask();
    sform.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const pick = (split) => [...document.querySelectorAll('#s-metrics input[data-split=' + split + ']:checked')].map((b) => b.value);
      const body = {
        dataset_id: Number(ds.value), task_name: task.value,
        input_columns: [...inputs.querySelectorAll('input:checked')].map((b) => b.value),
        output_columns: [output.value],
        train_metrics: pick('train'), validation_metrics: pick('validation'), test_metrics: pick('test'),
        splits: { train: Number(document.getElementById('s-train').value), validation: Number(document.getElementById('s-validation').value),
          test: Number(document.getElementById('s-test').value) },
        seed: Number(document.getElementById('s-seed').value || 0),
      };
      const name = document.getElementById('s-name').value.trim();
      if (name) body.name = name;
      say('session-status', 'checking the columns…');
      try {
        const s = await api('POST', '/api/v1/model-session/', body);
        location.href = '/sessions/' + s.id;
      } catch (e) { say('session-status', e.message, true); }
    });
  }

  // ---- new run ----
  const rform = document.getElementById('run-form');
  if (rform) {
    let components = [];
    const model = document.getElementById('r-model'), optimizer = document.getElementById('r-optimizer');
    const find = (name) => components.find((c) => c.name === name);
    const showModel = () => {
      const m = find(model.value);
      if (!m) return;
      document.getElementById('r-model-help').textContent = m.description + ' (' + m.library + ')' + (m.gives_probabilities ? '' : ' No class probabilities.');
      render(document.getElementById('r-params'), m.schema, { tunable: true, prefix: 'p-' });
      rform.classList.toggle('searching', !!optimizer.value);
    };
    const showOptimizer = () => {
      const o = find(optimizer.value);
      document.getElementById('r-optimizer-params').hidden = !o;
      rform.classList.toggle('searching', !!o);
      if (o) render(document.getElementById('r-opt-params'), o.schema, { prefix: 'o-' });
    };
    api('GET', '/api/v1/component/?select_types=Model,Optimizer').then((c) => { components = c; showModel(); showOptimizer(); })
      .catch((e) => say('run-status', e.message, true));
    model.addEventListener('change', showModel);
    optimizer.addEventListener('change', showOptimizer);
    rform.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const m = find(model.value), o = find(optimizer.value);
      const body = { model_session_id: Number(rform.dataset.session), model_name: model.value,
        parameters: read(document.getElementById('r-params'), m.schema), goal_metric: document.getElementById('r-goal').value };
      if (o) { body.optimizer_name = o.name; body.optimizer_parameters = read(document.getElementById('r-opt-params'), o.schema); }
      const name = document.getElementById('r-name').value.trim();
      if (name) body.name = name;
      say('run-status', 'creating the run…');
      try {
        const run = await api('POST', '/api/v1/run/', body);
        await api('POST', '/api/v1/job/', { job_type: 'ModelJob', kwargs: { run_id: run.id } });
        location.reload();
      } catch (e) { say('run-status', e.message, true); }
    });
  }

  // ---- runs table: sort, compare, live refresh ----
  const runs = document.querySelector('table.runs');
  if (runs) {
    runs.querySelectorAll('th').forEach((th, col) => th.addEventListener('click', () => {
      const body = runs.tBodies[0];
      const dir = th.dataset.dir === 'asc' ? -1 : 1;
      runs.querySelectorAll('th').forEach((h) => delete h.dataset.dir);
      th.dataset.dir = dir === 1 ? 'asc' : 'desc';
      const key = (tr) => {
        const td = tr.children[col];
        if (th.dataset.sort === 'num') { const v = parseFloat(td.dataset.value); return Number.isNaN(v) ? null : v; }
        return td.textContent.trim().toLowerCase();
      };
      const rows = [...body.rows].sort((a, b) => {
        const x = key(a), y = key(b);
        if (x === null) return 1; if (y === null) return -1;  // missing values last either way
        return x < y ? -dir : x > y ? dir : 0;
      });
      body.append(...rows);
    }));
    const cmp = document.getElementById('compare-runs');
    const picks = () => [...runs.querySelectorAll('input.pick:checked')].map((b) => b.dataset.experiment);
    runs.addEventListener('change', () => { cmp.disabled = picks().length < 2; });
    cmp.addEventListener('click', () => { location.href = '/compare?ids=' + picks().join(','); });
    if (runs.dataset.live === 'true') {
      const session = rform ? rform.dataset.session : '';
      const shown = () => [...runs.querySelectorAll('tr[data-run]')].map((tr) => tr.dataset.run + tr.querySelector('.badge').dataset.status).join();
      const before = shown();
      const poll = async () => {
        try {
          const list = await api('GET', '/api/v1/run/?model_session_id=' + session);
          const now = list.slice().reverse().map((r) => r.id + r.status).join();
          if (now !== before) { location.reload(); return; }
        } catch (e) { /* keep polling */ }
        setTimeout(poll, 1000);
      };
      setTimeout(poll, 1000);
    }
  }

  // Cancel a queued or training run (its job); the page follows the status.
  document.querySelectorAll('button.cancel-job').forEach((b) => b.addEventListener('click', async () => {
    b.disabled = true;
    try { await api('POST', '/api/v1/job/' + b.dataset.job + '/cancel'); } catch (e) { b.title = e.message; b.disabled = false; }
  }));

  // Delete a run or a whole session (refused while a run is queued or training).
  const delRun = document.querySelector('button.delete-run');
  if (delRun) delRun.addEventListener('click', async () => {
    if (!confirm('Delete this run and its model file? Its experiment stays.')) return;
    try { await api('DELETE', '/api/v1/run/' + delRun.dataset.run); location.href = '/sessions/' + delRun.dataset.session; }
    catch (e) { alert(e.message); }
  });
  const delSession = document.getElementById('delete-session');
  if (delSession) delSession.addEventListener('click', async () => {
    if (!confirm('Delete this session, its runs and their model files? Their experiments stay.')) return;
    try { await api('DELETE', '/api/v1/model-session/' + delSession.dataset.session); location.href = '/sessions'; }
    catch (e) { alert(e.message); }
  });

  // ---- run page ----
  const badge = document.getElementById('run-badge');
  if (badge && (badge.dataset.status === 'DELIVERED' || badge.dataset.status === 'STARTED' || badge.dataset.status === 'NOT_STARTED')) {
    const poll = async () => {
      try {
        const r = await api('GET', '/api/v1/run/' + badge.dataset.run);
        if (r.status !== badge.dataset.status) { location.reload(); return; }
      } catch (e) { /* keep polling */ }
      setTimeout(poll, 1000);
    };
    setTimeout(poll, 1000);
  }
  document.querySelectorAll('div.plot[data-kind]').forEach(async (div) => {
    try { plot(div, (await api('GET', '/api/v1/run/plot/' + div.dataset.run + '/' + div.dataset.kind)).data); }
    catch (e) { div.textContent = e.message; div.classList.add('muted'); }
  });
  const pform = document.getElementById('predict-form');
  if (pform) {
    const inputs = JSON.parse(pform.dataset.inputs || '[]');
    const fields = document.getElementById('predict-fields');
    for (const c of inputs) {
      const field = c.type === 'text'
        ? el('textarea', { 'data-column': c.name, rows: 4, cols: 60, placeholder: c.name })
        : el('input', { 'data-column': c.name, type: c.type === 'numeric' ? 'number' : 'text', step: 'any', placeholder: c.type });
      fields.append(el('label', { class: 'field' }, el('code', { text: c.name }), ' ', field));
    }
    pform.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      let rows;
      const raw = document.getElementById('predict-json').value.trim();
      const file = document.getElementById('predict-file').files[0];
      if (file) {
        rows = null;
      } else if (raw) {
        try { rows = JSON.parse(raw); } catch (e) { say('predict-status', 'the JSON rows do not parse: ' + e.message, true); return; }
      } else {
        const row = {};
        for (const f of fields.querySelectorAll('[data-column]')) {
          if (f.value === '') continue;
          row[f.dataset.column] = f.type === 'number' ? Number(f.value) : f.value;
        }
        rows = [row];
      }
      say('predict-status', 'predicting…');
      try {
        let out;
        if (file) {
          const form = new FormData();
          form.append('file', file);
          const resp = await fetch('/api/v1/run/' + pform.dataset.run + '/predict', { method: 'POST', body: form });
          const body = await resp.json();
          if (!resp.ok) throw new Error(body.message || ('HTTP ' + resp.status));
          out = body.data;
        } else {
          out = await api('POST', '/api/v1/run/' + pform.dataset.run + '/predict', { rows });
        }
        say('predict-status', '');
        const t = el('table', { class: 'grid predictions' });
        t.append(el('thead', {}, el('tr', {}, el('th', { text: '#' }), el('th', { text: 'prediction' }), el('th', { text: 'probabilities' }))));
        const body = el('tbody');
        out.predictions.forEach((p, i) => {
          const probs = p.probabilities ? Object.entries(p.probabilities).sort((a, b) => b[1] - a[1]).slice(0, 5)
            .map(([k, v]) => k + ' ' + (100 * v).toFixed(1) + '%').join(' · ') : '';
          body.append(el('tr', {}, el('td', { text: String(i + 1) }), el('td', { class: 'prediction', text: p.label !== undefined ? p.label : String(p.value) }), el('td', { class: 'muted', text: probs })));
        });
        t.append(body);
        document.getElementById('predict-result').replaceChildren(t);
      } catch (e) { say('predict-status', e.message, true); }
    });
  }
})();
