// Artifact and registry pages: add and remove aliases, register a version as a model,
// delete a version, point a model's alias at a version, describe a model. Each change
// reloads the page, which the server renders from what it stored.
(function () {
  'use strict';

  const status = document.getElementById('artifact-status');

  const call = window.LoupeApi.call;

  async function act(button, work, after) {
    if (button) button.disabled = true;
    if (status) status.textContent = '';
    try {
      await work();
      if (after) after(); else location.reload();
    } catch (err) {
      if (status) status.textContent = err.message;
      else alert(err.message);
    } finally {
      if (button) button.disabled = false;
    }
  }

  function onSubmit(form, work, after) {
    form.addEventListener('submit', ev => {
      ev.preventDefault();
      act(form.querySelector('button[type=submit]'), () => work(form), after);
    });
  }

  const listOf = text => text.split(',').map(t => t.trim()).filter(Boolean);
  const enc = encodeURIComponent;

  const aliasForm = document.getElementById('alias-form');
  if (aliasForm) {
    onSubmit(aliasForm, f => call('POST', '/api/v1/artifact-versions/' + f.dataset.version + '/aliases',
      { alias: f.elements.alias.value.trim() }));
  }
  const registerForm = document.getElementById('register-form');
  if (registerForm) {
    let registered = null;
    onSubmit(registerForm, async f => {
      registered = await call('POST', '/api/v1/registry/models/' + enc(f.elements.model.value.trim()) + '/versions',
        { artifact_version_id: Number(f.dataset.version), aliases: listOf(f.elements.aliases.value) });
    }, () => { location.href = '/registry/' + enc(registered.model); });
  }
  const describeForm = document.getElementById('describe-form');
  if (describeForm) {
    onSubmit(describeForm, f => call('PATCH', '/api/v1/registry/models/' + enc(f.dataset.model),
      { description: f.elements.description.value }));
  }
  for (const form of document.querySelectorAll('form.set-alias')) {
    onSubmit(form, f => call('PUT', '/api/v1/registry/models/' + enc(f.dataset.model) + '/aliases/' +
      enc(f.elements.alias.value.trim()), { version: Number(f.dataset.version) }));
  }
  document.addEventListener('click', ev => {
    const b = ev.target.closest('button');
    if (!b) return;
    if (b.classList.contains('remove-alias')) {
      act(b, () => call('DELETE', '/api/v1/artifact-versions/' + b.dataset.version + '/aliases/' + enc(b.dataset.alias)));
    } else if (b.classList.contains('remove-model-alias')) {
      act(b, () => call('DELETE', '/api/v1/registry/models/' + enc(b.dataset.model) + '/aliases/' + enc(b.dataset.alias)));
    } else if (b.id === 'delete-version') {
      if (!confirm('Delete this artifact version? Its files go when no other version shares them.')) return;
      act(b, () => call('DELETE', '/api/v1/artifact-versions/' + b.dataset.version),
        () => { location.href = b.dataset.back; });
    }
  });
})();
