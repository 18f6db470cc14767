// The LLM endpoints page: add a model (the form), run its connection test, remove it.
(function () {
  'use strict';
  const form = document.getElementById('model-form');
  const addBtn = document.getElementById('add-model');
  if (addBtn && form) {
    addBtn.addEventListener('click', () => { form.hidden = false; form.querySelector('input[name=name]').focus(); });
    document.getElementById('model-cancel').addEventListener('click', () => { form.hidden = true; });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = new FormData(form);
      const text = (k) => (f.get(k) || '').toString().trim();
      const body = { name: text('name'), api: text('api'), base_url: text('base_url'), model: text('model') };
      if (text('api_key')) body.api_key = text('api_key');
      if (text('base_model_id')) body.base_model_id = Number(text('base_model_id'));
      for (const k of ['price_input', 'price_output']) if (text(k)) body[k] = Number(text(k));
      const defaults = {};
      if (text('temperature')) defaults.temperature = Number(text('temperature'));
      if (text('max_tokens')) defaults.max_tokens = Number(text('max_tokens'));
      if (text('system')) defaults.system = text('system');
      if (Object.keys(defaults).length) body.defaults = defaults;
      body.capabilities = {};
      for (const c of ['streaming', 'tools', 'vision', 'json_mode']) body.capabilities[c] = f.get('cap_' + c) === 'on';
      const error = document.getElementById('model-error');
      error.textContent = '';
      try {
        const m = await LoupeApi.call('POST', '/api/v1/llm/models', body);
        // Test it at once: the page then shows whether it works.
        await LoupeApi.call('POST', '/api/v1/llm/models/' + m.id + '/test');
        location.reload();
      } catch (err) {
        error.textContent = err.message;
      }
    });
  }
  for (const b of document.querySelectorAll('.test-model')) {
    b.addEventListener('click', async () => {
      const cell = b.closest('tr').querySelector('.test-cell');
      b.disabled = true;
      cell.textContent = 'testing…';
      try {
        await LoupeApi.call('POST', '/api/v1/llm/models/' + b.dataset.id + '/test');
        location.reload();
      } catch (err) {
        cell.textContent = err.message;
        b.disabled = false;
      }
    });
  }
  for (const b of document.querySelectorAll('.delete-model')) {
    b.addEventListener('click', async () => {
      if (!confirm('Remove the model "' + b.dataset.name + '"? Its conversations and predictions stay.')) return;
      try {
        await LoupeApi.call('DELETE', '/api/v1/llm/models/' + b.dataset.id);
        location.reload();
      } catch (err) {
        alert(err.message);
      }
    });
  }
})();
