// Batch tests: the form (the test set is parsed by the server, then the run is created)
// and a run's page (progress, summary and results refresh every second while it runs;
// Cancel and Resume).
(function () {
  'use strict';

  const form = document.getElementById('new-batch');
  if (form) {
    const info = document.getElementById('test-set-info');
    const error = document.getElementById('new-error');
    const cases = LoupeTestSet.attach(form.elements.file, info, error);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      error.textContent = '';
      if (!cases()) { error.textContent = cases.why(); return; }
      const models = [...form.querySelectorAll('input[name=model_ids]:checked')].map((x) => Number(x.value));
      if (!models.length) { error.textContent = 'Pick at least one model.'; return; }
      const body = { model_ids: models, cases: cases(), concurrency: Number(form.elements.concurrency.value),
        rpm: Number(form.elements.rpm.value || 0), cache: form.elements.cache.checked };
      if (form.elements.title.value.trim()) body.title = form.elements.title.value.trim();
      if (form.elements.system.value.trim()) body.system = form.elements.system.value;
      if (form.elements.max_latency_ms.value) body.max_latency_ms = Number(form.elements.max_latency_ms.value);
      if (form.elements.max_cost_usd.value) body.max_cost_usd = Number(form.elements.max_cost_usd.value);
      if (form.elements.judge_model_id.value) body.judge = { judge_model_id: Number(form.elements.judge_model_id.value) };
      if (form.elements.validators.value.trim()) {
        try { body.validators = JSON.parse(form.elements.validators.value); } catch (e) {
          error.textContent = 'The validators are not JSON: ' + e.message;
          return;
        }
      }
      const button = form.querySelector('button[type=submit]');
      button.disabled = true;
      try {
        const run = await LoupeApi.call('POST', '/api/v1/batches', body);
        location.href = '/llm/batch/' + run.id;
      } catch (e) {
        error.textContent = e.message;
        button.disabled = false;
      }
    });
  }

  const page = document.getElementById('batch');
  if (!page) return;
  const id = page.dataset.id;
  const live = document.getElementById('batch-live');
  const error = document.getElementById('batch-error');
  const cancel = document.getElementById('batch-cancel');
  const resume = document.getElementById('batch-resume');
  let timer = null;

  function status() {
    const p = document.getElementById('batch-progress');
    return p ? p.dataset.status : '';
  }
  function buttons() {
    if (cancel) cancel.hidden = status() !== 'running';
    if (resume) resume.hidden = status() !== 'cancelled';
  }
  async function refresh() {
    const resp = await fetch('/llm/batch/' + id + '/live?after=' + page.dataset.after);
    if (!resp.ok) { error.textContent = 'Could not refresh (HTTP ' + resp.status + ').'; return; }
    error.textContent = '';
    live.innerHTML = await resp.text();
    follow();
  }
  function follow() {
    buttons();
    clearTimeout(timer);
    if (status() === 'running') timer = setTimeout(refresh, 1000);
  }
  follow();

  async function act(what) {
    error.textContent = '';
    try {
      await LoupeApi.call('POST', '/api/v1/batches/' + id + '/' + what);
      await refresh();
    } catch (e) { error.textContent = e.message; }
  }
  if (cancel) cancel.addEventListener('click', () => act('cancel'));
  if (resume) resume.addEventListener('click', () => act('resume'));
})();
