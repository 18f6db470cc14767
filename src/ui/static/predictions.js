// Predictions: answers rendered as sanitised markdown on a prediction's page, and the
// filter form sends only the filters that are set; "Save as dataset" keeps what matches
// the filters as a Loupe dataset.
(function () {
  'use strict';
  if (window.LoupeMarkdown) LoupeMarkdown.render(document);  // a prediction's page loads it
  const form = document.getElementById('prediction-filters');
  if (form) {
    form.addEventListener('submit', () => {
      for (const el of form.elements) if (el.name && el.value === '') el.disabled = true;
    });
  }
  const save = document.getElementById('save-dataset');
  if (save) {
    const out = document.getElementById('save-dataset-result');
    save.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const q = new URLSearchParams(save.dataset.query.replace(/^\?/, ''));
      q.set('kind', save.elements.kind.value);
      q.set('name', save.elements.name.value.trim());
      const button = save.querySelector('button');
      button.disabled = true;
      out.className = 'muted';
      out.textContent = 'Saving…';
      try {
        const d = await LoupeApi.call('POST', '/api/v1/llm/exports/dataset?' + q.toString());
        out.textContent = '';
        const a = document.createElement('a');
        a.href = d.href;
        a.textContent = d.name + ' (' + d.rows.toLocaleString('en-US') + (d.rows === 1 ? ' row' : ' rows') + ')';
        out.append('Saved: ', a);
      } catch (e) {
        out.className = 'error-text';
        out.textContent = e.message;
      } finally {
        button.disabled = false;
      }
    });
  }
})();
