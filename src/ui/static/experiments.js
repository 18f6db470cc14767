// The experiments table: pick rows to compare (up to 20), choose columns from a
// searchable list (metrics and config keys, sent as comma-separated `cols` and `ccols`),
// and, while some run on the page is running, refresh the rows every 5 s.
(function () {
  'use strict';
  const btn = document.getElementById('compare-btn');
  const picks = () => [...document.querySelectorAll('input.pick:checked')].map(i => i.value);
  const update = () => {
    const n = picks().length;
    btn.disabled = n === 0 || n > 20;
    btn.textContent = n > 20 ? 'Compare (max 20)' : n ? 'Compare ' + n : 'Compare selected';
  };
  document.addEventListener('change', ev => {
    if (ev.target.id === 'select-all') {
      document.querySelectorAll('input.pick').forEach(i => { i.checked = ev.target.checked; });
    }
    if (ev.target.classList && ev.target.classList.contains('pick') || ev.target.id === 'select-all') update();
  });
  btn.addEventListener('click', () => { location.href = '/compare?ids=' + picks().join(','); });
  const form = document.getElementById('table-form');
  form.addEventListener('submit', () => {
    for (const list of form.querySelectorAll('.picker-list[data-param]')) {
      const chosen = [...list.querySelectorAll('input:checked')].map(i => i.value);
      form.elements[list.dataset.param].value = chosen.join(',');
    }
  });
  const filter = document.getElementById('column-filter');
  if (filter) {
    filter.addEventListener('input', () => {
      const q = filter.value.trim().toLowerCase();
      for (const row of form.querySelectorAll('.picker-list .pick-row')) row.hidden = !!q && !row.textContent.toLowerCase().includes(q);
    });
  }
  update();

  // Saved views: the page's query string under a name.
  const projectId = JSON.parse(document.getElementById('project-data').textContent).id;
  const viewsUrl = '/api/v1/projects/' + projectId + '/views';
  const save = document.getElementById('save-view');
  if (save) {
    save.addEventListener('click', async () => {
      const name = prompt('Name of this view (search, columns, grouping and sort):');
      if (!name) return;
      const resp = await fetch(viewsUrl, { method: 'PUT', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: name.trim(), query: location.search.replace(/^\?/, '') }) });
      if (resp.ok) location.reload(); else alert('Not saved: ' + ((await resp.json()).message || resp.status));
    });
  }
  document.querySelectorAll('.view-delete').forEach(b => b.addEventListener('click', async () => {
    if (!confirm('Delete the view "' + b.dataset.name + '"?')) return;
    const resp = await fetch(viewsUrl + '?name=' + encodeURIComponent(b.dataset.name), { method: 'DELETE' });
    if (resp.ok) b.parentElement.remove();
  }));

  // Live rows: the same page fetched again, its table body swapped in (checked boxes kept).
  if (document.getElementById('live-table')) {
    const tick = async () => {
      if (document.hidden) return;
      try {
        const resp = await fetch(location.href, { headers: { Accept: 'text/html' } });
        if (!resp.ok) return;
        const doc = new DOMParser().parseFromString(await resp.text(), 'text/html');
        const fresh = doc.querySelector('table.experiments tbody');
        const body = document.querySelector('table.experiments tbody');
        if (!fresh || !body) return;
        const checked = new Set(picks());
        body.replaceWith(fresh);
        fresh.querySelectorAll('input.pick').forEach(i => { i.checked = checked.has(i.value); });
        if (!doc.getElementById('live-table')) { document.getElementById('live-table').textContent = ''; clearInterval(timer); }
      } catch (err) { /* offline for a moment: the next tick tries again */ }
    };
    const timer = setInterval(tick, 5000);
  }
})();
