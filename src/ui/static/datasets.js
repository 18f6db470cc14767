// Dataset pages: upload with a progress bar, sample imports, type overrides, delete.
(function () {
  'use strict';
  const status = document.getElementById('upload-status') || document.getElementById('type-status');
  const show = (text, bad) => { if (status) { status.textContent = text; status.style.color = bad ? 'var(--bad)' : ''; } };

  const form = document.getElementById('upload-form');
  if (form) {
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const file = document.getElementById('upload-file').files[0];
      if (!file) return;
      const data = new FormData();
      data.append('file', file);
      const name = document.getElementById('upload-name').value.trim();
      if (name) data.append('name', name);
      const bar = document.getElementById('upload-progress');
      bar.hidden = false;
      bar.value = 0;
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/v1/dataset/');
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total); };
      xhr.onload = () => {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        if (xhr.status === 201) { location.href = '/datasets/' + body.data.id; return; }
        bar.hidden = true;
        show(body.message || ('upload failed: HTTP ' + xhr.status), true);
      };
      xhr.onerror = () => { bar.hidden = true; show('upload failed: the connection was lost', true); };
      show('uploading ' + file.name + '…');
      xhr.send(data);
    });
  }

  document.querySelectorAll('button.sample').forEach((b) => b.addEventListener('click', async () => {
    show('importing ' + b.dataset.sample + '…');
    const resp = await fetch('/api/v1/dataset/samples/' + encodeURIComponent(b.dataset.sample), { method: 'POST' });
    const body = await resp.json();
    if (resp.status === 201) location.href = '/datasets/' + body.data.id; else show(body.message, true);
  }));

  document.querySelectorAll('select.coltype').forEach((sel) => sel.addEventListener('change', async () => {
    const id = location.pathname.split('/').pop();
    show('converting ' + sel.dataset.column + '…');
    const resp = await fetch('/api/v1/dataset/' + id + '/types', {
      method: 'PATCH', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ [sel.dataset.column]: sel.value }) });
    const body = await resp.json();
    if (resp.ok) location.reload(); else { show(body.message, true); sel.value = sel.dataset.current || sel.value; }
  }));
  document.querySelectorAll('select.coltype').forEach((sel) => { sel.dataset.current = sel.value; });

  const del = document.getElementById('delete-dataset');
  if (del) del.addEventListener('click', async () => {
    if (!confirm('Delete this dataset and its files?')) return;
    const resp = await fetch('/api/v1/dataset/' + del.dataset.id, { method: 'DELETE' });
    if (resp.ok) location.href = '/datasets'; else show((await resp.json()).message, true);
  });
})();
