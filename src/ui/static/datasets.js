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
        show(badRows ? body.message.replace(/\. Fix them, or upload again with skip_bad_rows.*$/, '. Fix them, or upload again skipping them (they are listed on the dataset page and kept for download).')
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

  const del = document.getElementById('delete-dataset');
  if (del) del.addEventListener('click', async () => {
    if (!confirm('Delete this dataset and its files?')) return;
    const resp = await fetch('/api/v1/dataset/' + del.dataset.id, { method: 'DELETE' });
    if (resp.ok) location.href = '/datasets'; else show((await resp.json()).message, true);
  });
})();
