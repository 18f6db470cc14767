// Regression suites: the new-suite form (the test set is parsed by the server, then the
// suite is created), "run now" and delete on a suite's page, and a run's page, which
// follows the run every second until it ends.
(function () {
  'use strict';

  const form = document.getElementById('new-suite');
  if (form) {
    const info = document.getElementById('suite-test-set-info');
    const error = document.getElementById('suite-error');
    const cases = LoupeTestSet.attach(form.elements.file, info, error);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      error.textContent = '';
      if (!cases()) { error.textContent = cases.why(); return; }
      const testSet = { cases: cases() };
      if (form.elements.system.value.trim()) testSet.system = form.elements.system.value;
      if (form.elements.judge_model_id.value) testSet.judge = { judge_model_id: Number(form.elements.judge_model_id.value) };
      if (form.elements.validators.value.trim()) {
        try { testSet.validators = JSON.parse(form.elements.validators.value); } catch (e) {
          error.textContent = 'The validators are not JSON: ' + e.message;
          return;
        }
      }
      const body = { name: form.elements.name.value.trim(), test_set: testSet,
        threshold: Number(form.elements.threshold.value) / 100,
        schedule_minutes: Number(form.elements.schedule_minutes.value || 0) };
      if (form.elements.description.value.trim()) body.description = form.elements.description.value.trim();
      if (form.elements.base_model_id.value) body.base_model_id = Number(form.elements.base_model_id.value);
      if (form.elements.session_id.value) body.session_id = Number(form.elements.session_id.value);
      if (form.elements.match_expected.value) testSet.match_expected = form.elements.match_expected.value;
      const button = form.querySelector('button[type=submit]');
      button.disabled = true;
      try {
        const suite = await LoupeApi.call('POST', '/api/v1/suites', body);
        location.href = '/llm/suites/' + suite.id;
      } catch (e) {
        error.textContent = e.message;
        button.disabled = false;
      }
    });
  }

  const suite = document.getElementById('suite');
  if (suite) {
    const run = document.getElementById('suite-run');
    if (run) {
      run.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const error = document.getElementById('suite-run-error');
        error.textContent = '';
        const button = run.querySelector('button[type=submit]');
        button.disabled = true;
        try {
          const r = await LoupeApi.call('POST', '/api/v1/suites/' + suite.dataset.id + '/runs',
            { model_id: Number(run.elements.model_id.value) });
          location.href = '/llm/suites/' + suite.dataset.id + '/runs/' + r.run.id;
        } catch (e) {
          error.textContent = e.message;
          button.disabled = false;
        }
      });
    }
    const del = document.getElementById('suite-delete');
    if (del) {
      del.addEventListener('click', async () => {
        if (!confirm('Delete this suite? Its runs stay, as batch runs.')) return;
        try {
          await LoupeApi.call('DELETE', '/api/v1/suites/' + suite.dataset.id);
          location.href = '/llm/suites';
        } catch (e) { document.getElementById('suite-run-error').textContent = e.message; }
      });
    }
  }

  const page = document.getElementById('suite-run-page');
  if (!page) return;
  const live = document.getElementById('suite-run-live');
  const error = document.getElementById('suite-live-error');
  function status() {
    const p = document.getElementById('suite-progress');
    return p ? p.dataset.status : '';
  }
  async function refresh() {
    const resp = await fetch('/llm/suites/' + page.dataset.id + '/runs/' + page.dataset.run + '/live');
    if (!resp.ok) { error.textContent = 'Could not refresh (HTTP ' + resp.status + ').'; setTimeout(refresh, 3000); return; }
    error.textContent = '';
    live.innerHTML = await resp.text();
    follow();
  }
  function follow() {
    if (status() === 'running') setTimeout(refresh, 1000);
  }
  follow();
})();
