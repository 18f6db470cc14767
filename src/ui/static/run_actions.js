// Managing a run or a project from its page: stop, edit (name, notes, tags) and delete
// with confirmation. The page embeds what these need as JSON in #run-data or
// #project-data; the buttons exist only for editors.
(function () {
  'use strict';

  const call = window.LoupeApi.call;

  function tagsOf(text) {
    return text.split(',').map(t => t.trim()).filter(Boolean);
  }

  function bindEdit(form, toPatch, url) {
    const open = document.getElementById('edit-run') || document.getElementById('edit-project');
    const cancel = document.getElementById('edit-cancel');
    const error = document.getElementById('edit-error');
    if (!form || !open) return;
    open.addEventListener('click', () => { form.hidden = !form.hidden; if (!form.hidden) form.elements.name.focus(); });
    cancel.addEventListener('click', () => { form.hidden = true; error.textContent = ''; });
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      error.textContent = '';
      const button = form.querySelector('button[type=submit]');
      button.disabled = true;
      try {
        await call('PATCH', url, toPatch(form));
        location.reload();
      } catch (err) {
        error.textContent = err.message;
      } finally {
        button.disabled = false;
      }
    });
  }

  function bindDelete(button, question, url, then) {
    if (!button) return;
    button.addEventListener('click', async () => {
      if (!confirm(question)) return;
      button.disabled = true;
      try {
        await call('DELETE', url);
        location.href = then;
      } catch (err) {
        button.disabled = false;
        alert('Not deleted: ' + err.message);
      }
    });
  }

  const runEl = document.getElementById('run-data');
  if (runEl) {
    const run = JSON.parse(runEl.textContent);
    const url = '/api/v1/experiments/' + run.id;
    bindEdit(document.getElementById('edit-form'), form => ({
      name: form.elements.name.value.trim(),
      description: form.elements.description.value,
      tags: tagsOf(form.elements.tags.value),
    }), url);
    bindDelete(document.getElementById('delete-run'),
      'Delete the run "' + run.name + '" with all its metrics, console output and media? This cannot be undone.',
      url, '/projects/' + run.project_id);
    const stop = document.getElementById('stop-run');
    if (stop) {
      stop.addEventListener('click', async () => {
        if (!confirm('Stop the run "' + run.name + '"? Its training script is interrupted at its next log call.')) return;
        stop.disabled = true;
        try {
          const e = await call('POST', url + '/stop');
          const badge = document.getElementById('run-status');
          badge.textContent = e.status;
          badge.className = 'badge ' + e.status;
          stop.remove();
        } catch (err) {
          stop.disabled = false;
          alert('Not stopped: ' + err.message);
        }
      });
    }
  }

  const projectEl = document.getElementById('project-data');
  if (projectEl) {
    const project = JSON.parse(projectEl.textContent);
    const url = '/api/v1/projects/' + project.id;
    bindEdit(document.getElementById('edit-form'), form => ({
      name: form.elements.name.value.trim(),
      description: form.elements.description.value,
    }), url);
    bindDelete(document.getElementById('delete-project'),
      'Delete the project "' + project.name + '" and all ' + project.count + ' of its runs? This cannot be undone.',
      url, '/projects');
  }
})();
