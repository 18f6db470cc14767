// Dataset pages: upload with a progress bar, sample imports, type overrides, delete.
(function () {
  'use strict';
  const status = document.getElementById('upload-status') || document.getElementById('type-status');
  const show = (text, bad) => { if (status) { status.textContent = text; status.style.color = bad ? 'var(--bad)' : ''; } };

  const form = document.getElementById('upload-form');
  if (form) {
    const retry = document.getElementById('upload-skip-retry');
    const upload = (skip) => {
      const file = document.getElementById('upload-file').files[0];
      if (!file) return;
      const data = new FormData();
      data.append('file', file);
      const name = document.getElementById('upload-name').value.trim();
      if (name) data.append('name', name);
      if (skip) data.append('skip_bad_rows', 'true');
      const side = document.getElementById('upload-side');
      if (side && side.value) data.append('image_side', side.value);
      const bar = document.getElementById('upload-progress');
      bar.hidden = false;
      bar.value = 0;
      retry.hidden = true;
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/v1/dataset/');
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total); };
      xhr.onload = () => {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        if (xhr.status === 201) { location.href = '/datasets/' + body.data.id; return; }
        bar.hidden = true;
        // Every bad row is named in the message; one click keeps the rest (the API's
        // "skip_bad_rows" is this page's button).
        const badRows = !skip && /bad rows?: |pictures? cannot be used: /.test(body.message || '');
        show(badRows ? body.message.replace(/upload again with skip_bad_rows to leave them out/, 'upload again skipping them')
          : (body.message || ('upload failed: HTTP ' + xhr.status)), true);
        if (badRows) retry.hidden = false;
      };
      xhr.onerror = () => { bar.hidden = true; show('upload failed: the connection was lost', true); };
      show('uploading ' + file.name + '…');
      xhr.send(data);
    };
    form.addEventListener('submit', (ev) => { ev.preventDefault(); upload(document.getElementById('upload-skip').checked); });
    retry.addEventListener('click', () => { document.getElementById('upload-skip').checked = true; upload(true); });
  }

  document.querySelectorAll('button.sample').forEach((b) => b.addEventListener('click', async () => {
    show('importing ' + b.dataset.sample + '…');
    const resp = await fetch('/api/v1/dataset/samples/' + encodeURIComponent(b.dataset.sample), { method: 'POST' });
    const body = await resp.json();
    if (resp.status === 201) location.href = '/datasets/' + body.data.id; else show(body.message, true);
  }));

  // A type some values do not fit is refused, naming the first; "convert anyway" makes
  // those values missing (counted on the column) instead.
  const retype = async (sel, type, coerce) => {
    const id = location.pathname.split('/').pop();
    show('converting ' + sel.dataset.column + '…');
    const resp = await fetch('/api/v1/dataset/' + id + '/types' + (coerce ? '?coerce=true' : ''), {
      method: 'PATCH', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ [sel.dataset.column]: type }) });
    const body = await resp.json();
    if (resp.ok) { location.reload(); return; }
    show(body.message, true);
    sel.value = sel.dataset.current || sel.value;
    const none = /\((\d+) of (\d+) values do not convert/.exec(body.message || '');
    if (!coerce && resp.status === 422 && / is not (a|an) /.test(body.message || '') && !(none && none[1] === none[2])) {
      const again = document.createElement('button');
      again.type = 'button';
      again.className = 'btn';
      again.id = 'coerce-retry';
      again.textContent = 'Convert ' + sel.dataset.column + ' to ' + type + ' anyway (values that do not fit become missing)';
      again.addEventListener('click', () => { again.remove(); retype(sel, type, true); });
      const old = document.getElementById('coerce-retry');
      if (old) old.remove();
      status.after(' ', again);
    }
  };
  document.querySelectorAll('select.coltype').forEach((sel) => sel.addEventListener('change', () => retype(sel, sel.value, false)));
  document.querySelectorAll('select.coltype').forEach((sel) => { sel.dataset.current = sel.value; });

  // An image dataset's rows as pictures: grey pixels scaled to the page's largest value.
  const grid = document.getElementById('image-grid');
  if (grid) {
    const url = '/api/v1/dataset/' + grid.dataset.dataset + '/images?offset=' + grid.dataset.offset + '&limit=' + grid.dataset.limit;
    fetch(url).then(async (resp) => {
      const body = await resp.json();
      if (!resp.ok) throw new Error(body.message || ('HTTP ' + resp.status));
      const { side, images } = body.data;
      let top = 0;
      for (const im of images) for (const v of im.pixels) if (v !== null && v > top) top = v;
      const scale = top > 0 ? 255 / top : 1;
      grid.replaceChildren();
      for (const im of images) {
        const canvas = document.createElement('canvas');
        canvas.width = side; canvas.height = side;
        const ctx = canvas.getContext('2d');
        const data = ctx.createImageData(side, side);
        im.pixels.forEach((v, i) => {
          const g = v === null ? 0 : Math.round(v * scale);
          data.data[4 * i] = data.data[4 * i + 1] = data.data[4 * i + 2] = g;
          data.data[4 * i + 3] = 255;
        });
        ctx.putImageData(data, 0, 0);
        canvas.setAttribute('aria-label', 'row ' + im.row + (im.label !== null ? ': ' + im.label : ''));
        const cap = document.createElement('figcaption');
        cap.textContent = '#' + im.row + (im.label !== null ? ' · ' + im.label : '');
        const fig = document.createElement('figure');
        fig.append(canvas, cap);
        grid.append(fig);
      }
      if (!images.length) grid.textContent = 'No rows on this page.';
      grid.removeAttribute('aria-busy');
    }).catch((e) => { grid.textContent = 'The images could not be drawn: ' + e.message; grid.classList.add('error-text'); grid.removeAttribute('aria-busy'); });
  }

  // Cleaning: steps built one at a time, then sent together; the server answers with the
  // copy (which lists them with what each did) or names the step that cannot apply.
  const clean = document.getElementById('clean-form');
  if (clean) {
    const columns = JSON.parse(clean.dataset.columns || '[]');
    const typeOf = Object.fromEntries(columns.map((c) => [c.name, c.type]));
    const $ = (id) => document.getElementById(id);
    const steps = [];
    const anyColumn = '(any column)';
    const fillColumns = () => {
      const op = $('c-op').value;
      const names = columns.map((c) => c.name);
      $('c-column').replaceChildren(...(op === 'drop_missing' ? [anyColumn, ...names] : names).map((n) => new Option(n, n)));
    };
    const layout = () => {
      const op = $('c-op').value;
      $('c-with').hidden = op !== 'fill_missing';
      $('c-test').hidden = op !== 'filter_rows';
      const test = $('c-test').value;
      $('c-value').hidden = !((op === 'fill_missing' && $('c-with').value === 'value') ||
        (op === 'filter_rows' && test !== 'missing' && test !== 'present'));
    };
    const words = (st) => {
      if (st.op === 'drop_columns') return 'drop ' + st.columns.join(', ');
      if (st.op === 'drop_missing') return 'drop rows missing a value ' + (st.columns ? 'in ' + st.columns.join(', ') : 'in any column');
      if (st.op === 'fill_missing') return 'fill missing ' + st.column + ' with ' + (st.with === 'value' ? st.value : 'the ' + st.with);
      return 'keep rows where ' + st.column + ' ' + (st.test === 'missing' ? 'is missing' : st.test === 'present' ? 'is present' : st.test + ' ' + st.value);
    };
    const draw = () => {
      $('c-steps').replaceChildren(...steps.map((st, i) => {
        const li = document.createElement('li');
        const x = document.createElement('button');
        x.type = 'button'; x.className = 'btn small'; x.textContent = 'remove';
        x.setAttribute('aria-label', 'remove step ' + (i + 1));
        x.addEventListener('click', () => { steps.splice(i, 1); draw(); });
        li.append(words(st) + ' ', x);
        return li;
      }));
      $('c-make').disabled = steps.length === 0;
    };
    // A value typed for a numeric column is sent as a number, so the server compares numbers.
    const valueFor = (column) => {
      const text = $('c-value').value.trim();
      return typeOf[column] === 'numeric' && text !== '' && !Number.isNaN(Number(text)) ? Number(text) : text;
    };
    $('c-op').addEventListener('change', () => { fillColumns(); layout(); });
    $('c-with').addEventListener('change', layout);
    $('c-test').addEventListener('change', layout);
    $('c-add').addEventListener('click', () => {
      const op = $('c-op').value, column = $('c-column').value;
      let st;
      if (op === 'drop_columns') st = { op, columns: [column] };
      else if (op === 'drop_missing') st = column === anyColumn ? { op } : { op, columns: [column] };
      else if (op === 'fill_missing') st = $('c-with').value === 'value' ? { op, column, with: 'value', value: valueFor(column) } : { op, column, with: $('c-with').value };
      else st = ['missing', 'present'].includes($('c-test').value) ? { op, column, test: $('c-test').value } : { op, column, test: $('c-test').value, value: valueFor(column) };
      steps.push(st);
      draw();
    });
    clean.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const say = (t, bad) => { $('clean-status').textContent = t; $('clean-status').style.color = bad ? 'var(--bad)' : ''; };
      say('making the copy…');
      const body = { steps };
      if ($('c-name').value.trim()) body.name = $('c-name').value.trim();
      const resp = await fetch('/api/v1/dataset/' + clean.dataset.dataset + '/clean', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      const out = await resp.json();
      if (resp.status === 201) location.href = '/datasets/' + out.data.id; else say(out.message || ('HTTP ' + resp.status), true);
    });
    fillColumns();
    layout();
  }

  const del = document.getElementById('delete-dataset');
  if (del) del.addEventListener('click', async () => {
    if (!confirm('Delete this dataset and its files?')) return;
    const resp = await fetch('/api/v1/dataset/' + del.dataset.id, { method: 'DELETE' });
    if (resp.ok) location.href = '/datasets'; else show((await resp.json()).message, true);
  });
})();
