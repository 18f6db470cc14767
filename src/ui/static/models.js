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
    // The server's guess for the dataset (GET /api/v1/dataset/{id}/session-guess):
    // output, inputs, and the columns it left out (ids, constants) with the reason.
    let guess = null;
    const fillColumns = () => {
      const cols = columns[ds.value] || [];
      const textTask = task.value === 'TextClassification';
      const prevOut = output.value;
      output.replaceChildren(...cols.map((c) => el('option', { value: c.name, text: c.name + ' (' + c.type + ')' })));
      const fallback = cols.filter((c) => c.type === 'categorical' || c.type === 'boolean').pop() || cols[cols.length - 1];
      const guessedOutput = guess && guess.output;
      output.value = cols.some((c) => c.name === prevOut) ? prevOut : (guessedOutput || (fallback ? fallback.name : ''));
      const leftOut = new Map(((guess && guess.left_out) || []).map((x) => [x.column, x.reason]));
      // The server's inputs while its task and output are the ones chosen.
      const guessed = guess && guess.task === task.value && guess.output === output.value ? new Set(guess.inputs) : null;
      inputs.replaceChildren();
      for (const c of cols) {
        const fits = guessed ? guessed.has(c.name) : (textTask ? c.type === 'text' : c.type !== 'text');
        const why = leftOut.get(c.name);
        const idLike = why && (why.startsWith('an id') || why.startsWith('the same value') || why === 'no values');
        const box = el('input', { type: 'checkbox', value: c.name, checked: fits && !idLike && c.name !== output.value });
        const label = el('label', { class: 'check' }, box, ' ' + c.name + ' ', el('span', { class: 'muted', text: c.type }));
        if (idLike) label.append(' ', el('span', { class: 'badge warn-badge', text: why, title: 'left out: ' + why }));
        inputs.append(label);
      }
    };
    const showGuess = () => {
      const box = document.getElementById('s-guess');
      if (!box) return;
      box.replaceChildren();
      if (!guess) return;
      if (!guess.task) { box.textContent = (guess.reasons || []).join('; '); return; }
      box.append(el('div', {}, el('strong', { text: 'Suggested: ' }),
        guess.task + ' predicting ', el('code', { text: guess.output }), ' from ' + guess.inputs.length + ' column(s). ' + (guess.reasons || []).join('; ') + '.'));
      if (guess.left_out.length) {
        box.append(el('div', { text: 'Left out: ' + guess.left_out.map((x) => x.column + ' — ' + x.reason).join('; ') }));
      }
      if (guess.class_balance.length) {
        const bars = el('div', { class: 'balance', 'aria-label': 'class balance of ' + guess.output });
        for (const c of guess.class_balance) {
          const pct = (100 * c.share).toFixed(1);
          bars.append(el('div', { class: 'balance-row' }, el('span', { class: 'balance-name', text: c.class }),
            el('span', { class: 'balance-bar' }, el('span', { style: 'width:' + pct + '%' })),
            el('span', { class: 'num', text: c.count + ' (' + pct + '%)' })));
        }
        box.append(el('div', { text: 'Class balance of ' + guess.output + ' (a model must beat always answering "' + guess.class_balance[0].class + '", right ' + (100 * guess.class_balance[0].share).toFixed(1) + '% of the time):' }), bars);
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
    task.addEventListener('change', () => { fillColumns(); fillMetrics(); });
    // Another output: the server's guess for it (task, inputs, class balance).
    output.addEventListener('change', async () => {
      for (const b of inputs.querySelectorAll('input')) if (b.value === output.value) b.checked = false;
      const id = ds.value, chosen = output.value;
      try {
        const g = await api('GET', '/api/v1/dataset/' + id + '/session-guess?output=' + encodeURIComponent(chosen));
        if (ds.value !== id || output.value !== chosen) return;
        guess = g;
        if (g.task) task.value = g.task;
        fillColumns(); fillMetrics(); showGuess();
      } catch (e) { say('s-guess', 'no suggestion for ' + chosen + ': ' + e.message); }
    });
    document.getElementById('s-all').addEventListener('click', () => inputs.querySelectorAll('input').forEach((b) => { b.checked = b.value !== output.value; }));
    document.getElementById('s-none').addEventListener('click', () => inputs.querySelectorAll('input').forEach((b) => { b.checked = false; }));
    // A first guess from the column types at once, then the server's (which reads the
    // values: ids, constants, the class balance) when it arrives.
    const guessTask = async () => {
      const id = ds.value;
      const cols = columns[id] || [];
      guess = null;
      output.value = '';
      task.value = cols.some((c) => c.type === 'text') ? 'TextClassification' : 'TabularClassification';
      fillColumns(); fillMetrics();
      say('s-guess', 'looking at the columns…');
      try {
        const g = await api('GET', '/api/v1/dataset/' + id + '/session-guess');
        if (ds.value !== id) return;  // the user picked another dataset meanwhile
        guess = g;
        if (g.task) task.value = g.task;
        output.value = '';
        fillColumns(); fillMetrics();
        showGuess();
      } catch (e) {
        if (ds.value === id) say('s-guess', 'no suggestion: ' + e.message);
      }
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
      // The TF-IDF settings only mean something to a text session.
      const schema = rform.dataset.task === 'TextClassification' ? m.schema : { ...m.schema,
        order: (m.schema.order || Object.keys(m.schema.properties)).filter((k) => !/^TF-IDF:/.test(m.schema.properties[k].description || '')) };
      render(document.getElementById('r-params'), schema, { tunable: true, prefix: 'p-' });
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
      if (o && !document.querySelector('#r-params input.optimize:checked')) {
        say('run-status', 'Tick “search” on at least one parameter for ' + o.name + ' to vary, or set the optimizer to none.', true);
        return;
      }
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

  // One run of every fitting model with its defaults; the page then refreshes itself
  // while they train (the runs table is live).
  const trainAll = document.getElementById('train-all');
  if (trainAll) trainAll.addEventListener('click', async () => {
    trainAll.disabled = true;
    say('train-all-status', 'queueing…');
    try {
      const out = await api('POST', '/api/v1/model-session/' + trainAll.dataset.session + '/leaderboard');
      const queued = out.runs.filter((r) => r.job_id).length;
      const failed = out.runs.filter((r) => r.error);
      say('train-all-status', queued + ' queued' + (failed.length ? '; ' + failed.map((r) => r.model + ': ' + r.error).join('; ') : ''), failed.length > 0);
      if (queued) setTimeout(() => location.reload(), 600);
      else trainAll.disabled = false;
    } catch (e) { say('train-all-status', e.message, true); trainAll.disabled = false; }
  });

  // ---- run page ----
  // A running search: the progress line (same wording as the server's), and the
  // history plot redrawn when a trial ends.
  let trialsSeen = -1;
  const fmt = (v, digits) => window.LoupeForms.shortNumber(v, digits);
  const showSearchProgress = async (r) => {
    const p = r.search_progress, box = document.getElementById('search-progress');
    if (!p || !box) return;
    const bar = box.querySelector('progress');
    bar.max = p.trials_planned; bar.value = p.trials_done;
    let text = 'trial ' + p.trials_done + ' of ' + p.trials_planned;
    if (p.best_value !== null) text += ' · best ' + p.goal_metric + ' ' + fmt(p.best_value, 4) + ' (trial ' + p.best_trial + ')';
    text += ' · ' + fmt(p.elapsed_s, 3) + ' s elapsed';
    if (p.remaining_s !== null) text += ' · about ' + fmt(p.remaining_s, 2) + ' s left';
    document.getElementById('search-progress-text').textContent = text;
    if (p.trials_done !== trialsSeen) {
      trialsSeen = p.trials_done;
      // Everything on the page follows the search: the count, the trials table, the plots.
      const count = document.getElementById('trial-count');
      if (count) count.textContent = String(p.trials_done);
      const table = document.querySelector('table.trials');
      if (table) {
        const space = [...table.querySelectorAll('thead th[data-param]')].map((th) => th.dataset.param);
        const text = (v) => (v === null || v === undefined ? '—' : typeof v === 'number' ? window.LoupeForms.shortNumber(v) : String(v));
        table.tBodies[0].replaceChildren(...r.trials.map((t) => {
          const best = t.trial === p.best_trial;
          const tr = el('tr', best ? { class: 'best' } : {}, el('td', { class: 'num', text: String(t.trial) }),
            el('td', { class: 'num', text: t.value === null ? '—' : fmt(t.value, 4) }),
            ...space.map((k) => el('td', { class: 'mono', text: text(t.parameters[k]) })),
            el('td', { class: 'num', text: fmt(t.seconds, 3) }),
            el('td', {}, best ? 'best' : '', t.error ? el('span', { class: 'error-text', text: t.error }) : ''));
          return tr;
        }));
      }
      for (const kind of ['history', 'slice', 'contour', 'importance']) {
        const div = document.getElementById('plot-' + kind);
        if (!div || p.trials_done === 0) continue;
        try { plot(div, (await api('GET', '/api/v1/run/plot/' + div.dataset.run + '/' + kind)).data); } catch (e) { /* drawn at the end */ }
      }
    }
  };

  const badge = document.getElementById('run-badge');
  if (badge && (badge.dataset.status === 'DELIVERED' || badge.dataset.status === 'STARTED' || badge.dataset.status === 'NOT_STARTED')) {
    const poll = async () => {
      try {
        const r = await api('GET', '/api/v1/run/' + badge.dataset.run);
        if (r.status !== badge.dataset.status) { location.reload(); return; }
        showSearchProgress(r);
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
    // An image task takes a picture: drawn on a side x side canvas in grey, its pixels
    // become the row ("invert" when its background is the opposite of the training
    // pictures').
    const imageTask = pform.dataset.task === 'ImageClassification';
    let imageRow = null;
    if (imageTask) {
      const side = Math.round(Math.sqrt(inputs.length));
      const canvas = el('canvas', { width: side, height: side, id: 'predict-canvas', class: 'pixel-canvas', 'aria-label': 'the image as the model sees it' });
      const file = el('input', { type: 'file', accept: 'image/png,image/jpeg,image/gif,image/webp', id: 'predict-image', 'aria-label': 'image to classify' });
      const invert = el('input', { type: 'checkbox', id: 'predict-invert' });
      let img = null, unreadable = '';
      const draw = () => {
        if (!img) return;
        const ctx = canvas.getContext('2d', { willReadFrequently: true });
        ctx.fillStyle = '#000';
        ctx.fillRect(0, 0, side, side);
        ctx.drawImage(img, 0, 0, side, side);
        const data = ctx.getImageData(0, 0, side, side).data;
        imageRow = {};
        const pixelMax = Number(pform.dataset.pixelMax) || 255;  // the training images' scale
        for (let i = 0; i < side * side; i++) {
          const grey = Math.round(0.299 * data[4 * i] + 0.587 * data[4 * i + 1] + 0.114 * data[4 * i + 2]);
          const v = invert.checked ? 255 - grey : grey;
          imageRow[inputs[i].name] = v * pixelMax / 255;
          data[4 * i] = data[4 * i + 1] = data[4 * i + 2] = v;
          data[4 * i + 3] = 255;
        }
        ctx.putImageData(new ImageData(data, side, side), 0, 0);
      };
      file.addEventListener('change', () => {
        const f = file.files[0];
        if (!f) return;
        const url = URL.createObjectURL(f);
        img = new Image();
        imageRow = null;
        unreadable = '';
        img.onload = () => {
          URL.revokeObjectURL(url);
          // A picture whose border is light where the training pictures' borders are
          // dark (Fashion-MNIST's) or the other way round is inverted (untick to undo).
          const probe = document.createElement('canvas');
          probe.width = side; probe.height = side;
          const pctx = probe.getContext('2d', { willReadFrequently: true });
          pctx.drawImage(img, 0, 0, side, side);
          const d = pctx.getImageData(0, 0, side, side).data;
          let sum = 0, n = 0;
          for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) {
            if (x > 0 && y > 0 && x < side - 1 && y < side - 1) continue;
            const k = 4 * (y * side + x);
            sum += 0.299 * d[k] + 0.587 * d[k + 1] + 0.114 * d[k + 2];
            n++;
          }
          const trainedLight = (Number(pform.dataset.pixelBackground) || 0) > 0.5;
          const light = sum / n > 127;
          invert.checked = light !== trainedLight;
          // Say what was done to the picture, so a changed answer is never a mystery.
          const notes = [];
          if (invert.checked) notes.push('inverted: its background is ' + (light ? 'light' : 'dark') + ', the training pictures\' ' + (trainedLight ? 'light' : 'dark'));
          if (img.naturalWidth !== img.naturalHeight) notes.push('stretched from ' + img.naturalWidth + '×' + img.naturalHeight + ' to a square');
          say('predict-status', notes.join('; '));
          draw();
        };
        img.onerror = () => {
          img = null;
          unreadable = f.name;
          say('predict-status', 'could not read ' + f.name + ' as an image', true);
        };
        img.src = url;
      });
      invert.addEventListener('change', draw);
      fields.append(el('label', { class: 'field' }, 'Image ', file), ' ', el('label', { class: 'check' }, invert, ' invert'),
        el('div', { class: 'muted small' }, 'As the model sees it (' + side + '×' + side + ' grey): '), canvas);
    }
    // Categories and yes/no as drop-downs (the blank choice predicts a missing value),
    // dates with the browser's picker, numbers as numbers.
    for (const c of imageTask ? [] : inputs) {
      let field;
      if (c.type === 'categorical' || c.type === 'boolean') {
        const choices = c.categories && c.categories.length ? c.categories : (c.type === 'boolean' ? ['false', 'true'] : []);
        field = el('select', { 'data-column': c.name, 'aria-label': c.name },
          el('option', { value: '', text: '(blank)' }), ...choices.map((v) => el('option', { value: v, text: v })));
      } else if (c.type === 'datetime') {
        field = el('input', { 'data-column': c.name, type: 'datetime-local', step: '1', 'aria-label': c.name });
      } else if (c.type === 'text') {
        field = el('textarea', { 'data-column': c.name, rows: 4, cols: 60, placeholder: c.name });
      } else {
        field = el('input', { 'data-column': c.name, type: c.type === 'numeric' ? 'number' : 'text', step: 'any', placeholder: c.type });
      }
      fields.append(el('label', { class: 'field' }, el('code', { text: c.name }), ' ', field));
    }
    const pct = (v) => window.LoupeForms.shortNumber(100 * v, 3) + '%';
    const showWarnings = (w) => {
      const parts = [];
      for (const [col, n] of Object.entries((w && w.blank) || {})) parts.push(col + ' blank in ' + n + ' row(s): predicted as missing');
      for (const [col, u] of Object.entries((w && w.unconverted) || {})) {
        parts.push(col + ': ' + u.values.map((v) => '"' + v + '"').join(', ') + ' not of its type (' + u.rows + ' row(s)): predicted as missing');
      }
      for (const [col, u] of Object.entries((w && w.unseen_categories) || {})) {
        parts.push(col + ': ' + u.values.map((v) => '"' + v + '"').join(', ') + ' not seen in training (' + u.rows + ' row(s))');
      }
      return parts.length ? el('div', { class: 'card warn', role: 'alert', id: 'predict-warnings' }, el('strong', { text: 'Check these inputs: ' }), parts.join(' · ')) : null;
    };
    const downloadCsv = async (file) => {
      const form = new FormData();
      form.append('file', file);
      const resp = await fetch('/api/v1/run/' + pform.dataset.run + '/predict?format=csv', { method: 'POST', body: form });
      if (!resp.ok) { say('predict-status', (await resp.json()).message || ('HTTP ' + resp.status), true); return; }
      const url = URL.createObjectURL(await resp.blob());
      const a = el('a', { href: url, download: 'predictions-run-' + pform.dataset.run + '.csv' });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    };
    pform.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      let rows;
      const raw = document.getElementById('predict-json').value.trim();
      const file = document.getElementById('predict-file').files[0];
      if (file) {
        rows = null;
      } else if (raw) {
        try { rows = JSON.parse(raw); } catch (e) { say('predict-status', 'the JSON rows do not parse: ' + e.message, true); return; }
      } else if (imageTask) {
        if (!imageRow) { say('predict-status', unreadable ? 'could not read ' + unreadable + ' as an image' : 'choose an image first', true); return; }
        rows = [imageRow];
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
        t.append(el('thead', {}, el('tr', {}, el('th', { text: '#' }), el('th', { text: 'prediction' }), el('th', { text: 'probabilities' }), el('th', { text: 'warnings' }))));
        const body = el('tbody');
        out.predictions.forEach((p, i) => {
          const probs = p.probabilities ? Object.entries(p.probabilities).sort((a, b) => b[1] - a[1]).slice(0, 5)
            .map(([k, v]) => k + ' ' + pct(v)).join(' · ') : '';
          body.append(el('tr', {}, el('td', { text: String(i + 1) }), el('td', { class: 'prediction', text: p.label !== undefined ? p.label : String(p.value) }),
            el('td', { class: 'muted', text: probs }), el('td', { class: 'small warn-text', text: (p.warnings || []).join('; ') })));
        });
        t.append(body);
        const parts = [showWarnings(out.warnings)].filter(Boolean);
        if (file) {
          const dl = el('button', { type: 'button', class: 'btn', id: 'predict-csv', text: 'Download predictions as CSV' });
          dl.addEventListener('click', () => downloadCsv(file));
          parts.push(el('div', { class: 'toolbar' }, dl, el('span', { class: 'muted small', text: 'every column of the file, the prediction, each class probability and the warnings' })));
        }
        document.getElementById('predict-result').replaceChildren(...parts, t);
      } catch (e) {
        document.getElementById('predict-result').replaceChildren();  // an old table would look like this file's
        say('predict-status', e.message, true);
      }
    });
  }
})();
