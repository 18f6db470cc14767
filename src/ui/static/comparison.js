// The comparison lab: the form that starts a comparison (prompts typed, pasted or read
// from a .txt, .jsonl or .csv file) and a comparison's grid (ratings, preferences, ties,
// reveal; the grid refreshes while answers arrive). Everything is saved on the server.
(function () {
  'use strict';

  // Prompts from text: separated by lines holding only "---" when there are any, else one per line.
  function promptsFromText(text) {
    const lines = text.replace(/\r\n?/g, '\n').split('\n');
    if (lines.some((l) => l.trim() === '---')) {
      const out = [];
      let cur = [];
      for (const l of lines) {
        if (l.trim() === '---') { out.push(cur.join('\n')); cur = []; } else { cur.push(l); }
      }
      out.push(cur.join('\n'));
      return out.map((p) => p.trim()).filter((p) => p !== '');
    }
    return lines.map((l) => l.trim()).filter((l) => l !== '');
  }

  // RFC 4180 fields: quotes around a field, "" for a quote inside one.
  function parseCsv(text) {
    const rows = [];
    let row = [], field = '', quoted = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (quoted) {
        if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') { quoted = false; } else { field += c; }
      } else if (c === '"') { quoted = true; } else if (c === ',') { row.push(field); field = ''; } else if (c === '\n' || c === '\r') {
        if (c === '\r' && text[i + 1] === '\n') i++;
        row.push(field); rows.push(row); row = []; field = '';
      } else { field += c; }
    }
    if (field !== '' || row.length) { row.push(field); rows.push(row); }
    return rows;
  }

  function promptsFromFile(name, text) {
    if (/\.jsonl$/i.test(name)) {
      const out = [];
      text.split(/\r?\n/).forEach((line, i) => {
        if (!line.trim()) return;
        let v;
        try { v = JSON.parse(line); } catch (e) { throw new Error('line ' + (i + 1) + ' of ' + name + ' is not JSON'); }
        if (!v || typeof v.prompt !== 'string') throw new Error('line ' + (i + 1) + ' of ' + name + ' has no "prompt" string');
        out.push(v.prompt);
      });
      return out;
    }
    if (/\.csv$/i.test(name)) {
      const rows = parseCsv(text.replace(/^\uFEFF/, ''));
      if (!rows.length) return [];
      const col = rows[0].findIndex((h) => h.trim().toLowerCase() === 'prompt');
      if (col < 0) throw new Error(name + ' has no "prompt" column');
      return rows.slice(1).map((r) => (r[col] || '').trim()).filter((p) => p !== '');
    }
    return promptsFromText(text);
  }

  const form = document.getElementById('new-comparison');
  if (form) {
    const count = document.getElementById('prompt-count');
    const error = document.getElementById('new-error');
    // Prompts read from a file are sent as read (a prompt may hold a "---" line of its own),
    // unless the text is edited after.
    let filePrompts = null, fileText = null;
    const current = () => (filePrompts && form.elements.prompts.value === fileText ? filePrompts : promptsFromText(form.elements.prompts.value));
    const update = () => {
      const n = current().length;
      count.textContent = n ? n + (n === 1 ? ' prompt' : ' prompts') : '';
    };
    form.elements.prompts.addEventListener('input', update);
    form.elements.file.addEventListener('change', async () => {
      const file = form.elements.file.files[0];
      error.textContent = '';
      if (!file) return;
      try {
        const prompts = promptsFromFile(file.name, await file.text());
        form.elements.prompts.value = prompts.join('\n---\n');
        filePrompts = prompts;
        fileText = form.elements.prompts.value;
        update();
      } catch (e) { error.textContent = e.message; }
    });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      error.textContent = '';
      const models = [...form.querySelectorAll('input[name=model_ids]:checked')].map((x) => Number(x.value));
      if (models.length < 2 || models.length > 4) { error.textContent = 'Pick 2 to 4 models.'; return; }
      const prompts = current();
      if (!prompts.length) { error.textContent = 'Add at least one prompt.'; return; }
      const body = { model_ids: models, prompts, blind: form.elements.blind.checked };
      if (form.elements.title.value.trim()) body.title = form.elements.title.value.trim();
      if (form.elements.system.value.trim()) body.system = form.elements.system.value;
      const button = form.querySelector('button[type=submit]');
      button.disabled = true;
      try {
        const c = await LoupeApi.call('POST', '/api/v1/comparisons', body);
        location.href = '/llm/compare/' + c.id;
      } catch (e) {
        error.textContent = e.message;
        button.disabled = false;
      }
    });
  }

  const page = document.getElementById('comparison');
  if (!page) return;
  const id = page.dataset.id;
  const grid = document.getElementById('grid');
  const gridError = document.getElementById('grid-error');

  const renderMarkdown = (root) => LoupeMarkdown.render(root);
  renderMarkdown(grid);

  let timer = null;
  async function refresh() {
    const resp = await fetch('/llm/compare/' + id + '/grid');
    if (!resp.ok) { gridError.textContent = 'Could not refresh the grid (HTTP ' + resp.status + ').'; return; }
    gridError.textContent = '';
    grid.innerHTML = await resp.text();
    renderMarkdown(grid);
    follow();
  }
  // While answers are on their way, the grid refreshes itself every second.
  function follow() {
    const summary = document.getElementById('compare-summary');
    clearTimeout(timer);
    if (summary && summary.dataset.running === '1') timer = setTimeout(refresh, 1000);
  }
  follow();

  async function act(method, url, body) {
    gridError.textContent = '';
    try {
      await LoupeApi.call(method, url, body);
      await refresh();
    } catch (e) { gridError.textContent = e.message; }
  }

  grid.addEventListener('click', (ev) => {
    const t = ev.target.closest('button');
    if (!t) return;
    const row = t.closest('[data-row]');
    if (!row) return;
    const url = '/api/v1/comparisons/' + id + '/rows/' + row.dataset.row + '/decision';
    if (t.dataset.prefer) act('PUT', url, { decision: 'prefer', preferred: Number(t.dataset.prefer) });
    else if (t.dataset.tie) act('PUT', url, { decision: 'tie' });
    else if (t.dataset.clear) act('PUT', url, { decision: '' });
  });
  grid.addEventListener('change', (ev) => {
    const sel = ev.target.closest('select[data-criterion]');
    if (!sel) return;
    const cell = sel.closest('[data-cell]');
    const body = {};
    body[sel.dataset.criterion] = sel.value === '' ? null : Number(sel.value);
    act('PUT', '/api/v1/comparisons/' + id + '/answers/' + cell.dataset.cell + '/ratings', body);
  });
  const reveal = document.getElementById('reveal');
  if (reveal) {
    reveal.addEventListener('click', async () => {
      if (!confirm('Reveal the model names? Decisions from now on are recorded as not blind.')) return;
      try {
        await LoupeApi.call('POST', '/api/v1/comparisons/' + id + '/reveal');
        location.reload();
      } catch (e) { gridError.textContent = e.message; }
    });
  }
})();
