// The LLM endpoints page: add or edit a model (one form), run its connection test, remove it.
(function () {
  'use strict';
  const form = document.getElementById('model-form');
  const addBtn = document.getElementById('add-model');
  if (addBtn && form) {
    const submit = document.getElementById('model-submit');
    const error = document.getElementById('model-error');
    const field = (name) => form.elements.namedItem(name);
    const editOnly = form.querySelectorAll('.edit-only');
    // editing: the id of the model the form changes (PATCH); none while adding (POST).
    let editing = null;
    const open = (model) => {
      form.reset();
      error.textContent = '';
      editing = model ? model.id : null;
      submit.textContent = model ? 'Save' : 'Add';
      for (const el of editOnly) el.hidden = !model || !model.key_set;
      field('api_key').placeholder = model && model.key_set ? 'leave empty to keep the stored key' : 'optional';
      if (model) {
        for (const k of ['name', 'api', 'base_url', 'model']) field(k).value = model[k];
        const d = model.defaults || {};
        field('temperature').value = d.temperature ?? '';
        field('max_tokens').value = d.max_tokens ?? '';
        field('system').value = d.system ?? '';
        field('price_input').value = model.price_input ?? '';
        field('price_output').value = model.price_output ?? '';
        field('base_model_id').value = model.base_model_id ?? '';
        field('experiment_id').value = model.experiment_id ?? '';
        for (const c of ['streaming', 'tools', 'vision', 'json_mode']) field('cap_' + c).checked = !!(model.capabilities || {})[c];
        form.dataset.defaults = JSON.stringify(d);
      }
      form.hidden = false;
      form.scrollIntoView({ block: 'nearest' });
      field('name').focus();
    };
    addBtn.addEventListener('click', () => open(null));
    for (const b of document.querySelectorAll('.edit-model')) b.addEventListener('click', () => open(JSON.parse(b.dataset.model)));
    document.getElementById('model-cancel').addEventListener('click', () => { form.hidden = true; });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = new FormData(form);
      const text = (k) => (f.get(k) || '').toString().trim();
      const numberOrNull = (k) => (text(k) ? Number(text(k)) : null);
      const body = { name: text('name'), api: text('api'), base_url: text('base_url'), model: text('model') };
      if (text('api_key')) body.api_key = text('api_key');
      else if (editing && f.get('remove_key') === 'on') body.api_key = null;
      body.base_model_id = numberOrNull('base_model_id');
      body.experiment_id = numberOrNull('experiment_id');
      body.price_input = numberOrNull('price_input');
      body.price_output = numberOrNull('price_output');
      // Defaults the form does not show (top_p, stop, seed) are kept as they were.
      const defaults = editing ? JSON.parse(form.dataset.defaults || '{}') : {};
      delete defaults.temperature;
      delete defaults.max_tokens;
      delete defaults.system;
      if (text('temperature')) defaults.temperature = Number(text('temperature'));
      if (text('max_tokens')) defaults.max_tokens = Number(text('max_tokens'));
      if (text('system')) defaults.system = text('system');
      body.defaults = defaults;
      body.capabilities = {};
      for (const c of ['streaming', 'tools', 'vision', 'json_mode']) body.capabilities[c] = f.get('cap_' + c) === 'on';
      if (!editing) {
        for (const k of ['base_model_id', 'experiment_id', 'price_input', 'price_output']) if (body[k] === null) delete body[k];
      }
      error.textContent = '';
      submit.disabled = true;
      const label = submit.textContent;
      submit.textContent = (editing ? 'Saving' : 'Adding') + ' and testing the connection…';
      try {
        const m = editing
          ? await LoupeApi.call('PATCH', '/api/v1/llm/models/' + editing, body)
          : await LoupeApi.call('POST', '/api/v1/llm/models', body);
        editing = m.id;  // saved: trying again changes it instead of adding a second one
        // Test it at once: the page then shows whether it works.
        await LoupeApi.call('POST', '/api/v1/llm/models/' + m.id + '/test');
        location.reload();
      } catch (err) {
        error.textContent = err.message;
        submit.disabled = false;
        submit.textContent = editing ? 'Save' : label;
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
