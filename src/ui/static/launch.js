// Training jobs: the launch form (Check asks the server for every problem of the spec;
// Launch checks, then launches and opens the job), Stop buttons, the prices form, and a
// job's page, whose facts, timeline and segments are re-rendered by the server every two
// seconds while the job is active.
(function () {
  'use strict';

  const form = document.getElementById('launch-form');
  if (form) {
    const status = document.getElementById('launch-status');
    const problems = document.getElementById('launch-problems');
    const show = (list) => {
      problems.replaceChildren(...list.map((p) => {
        const li = document.createElement('li');
        li.textContent = (p.field ? p.field + ': ' : '') + p.message;
        return li;
      }));
    };
    const check = async () => {
      status.textContent = 'Checking…';
      show([]);
      const r = await LoupeApi.call('POST', '/api/v1/launch/jobs?check=1', { spec_text: form.elements.spec.value });
      status.textContent = r.ok ? 'The spec can launch.' : '';
      show(r.problems);
      return r.ok;
    };
    document.getElementById('launch-check').addEventListener('click', async () => {
      try { await check(); } catch (e) { status.textContent = ''; show([{ field: '', message: e.message }]); }
    });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const button = form.querySelector('button[type=submit]');
      button.disabled = true;
      try {
        if (await check()) {
          status.textContent = 'Launching…';
          const job = await LoupeApi.call('POST', '/api/v1/launch/jobs', { spec_text: form.elements.spec.value });
          location.href = '/launch/' + job.id;
          return;
        }
      } catch (e) {
        status.textContent = '';
        show([{ field: '', message: e.message }]);
      }
      button.disabled = false;
    });
  }

  // The jobs table: Stop buttons (delegated: the rows are replaced), and rows that follow
  // their jobs, the page read again every 3 s while one of them is active.
  const jobs = document.getElementById('jobs');
  if (jobs) {
    jobs.addEventListener('click', async (ev) => {
      const b = ev.target.closest('button[data-stop]');
      if (!b) return;
      b.disabled = true;
      try {
        await LoupeApi.call('POST', '/api/v1/launch/jobs/' + b.dataset.stop + '/stop');
        await follow();
      } catch (e) {
        document.getElementById('jobs-error').textContent = e.message;
        b.disabled = false;
      }
    });
    let timer = 0;
    const follow = async () => {
      clearTimeout(timer);
      try {
        const resp = await fetch(location.pathname + location.search);
        if (resp.ok) {
          const fresh = new DOMParser().parseFromString(await resp.text(), 'text/html').querySelector('#jobs tbody');
          if (fresh) jobs.tBodies[0].replaceWith(fresh);
        }
      } catch (e) { /* the next round tries again */ }
      if (jobs.querySelector('tr[data-active]')) timer = setTimeout(follow, 3000);
    };
    if (jobs.querySelector('tr[data-active]')) timer = setTimeout(follow, 3000);
  }

  const prices = document.getElementById('prices-form');
  if (prices) {
    prices.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const error = document.getElementById('prices-error');
      error.textContent = '';
      const body = {};
      for (const line of prices.elements.prices.value.split('\n')) {
        if (!line.trim()) continue;
        const at = line.lastIndexOf(':');
        const value = at > 0 ? Number(line.slice(at + 1).trim().replace(/^\$/, '')) : NaN;
        if (at <= 0 || !line.slice(at + 1).trim() || !Number.isFinite(value)) {
          error.textContent = 'Write each price as "name: dollars per hour" ("' + line.trim() + '" is not)';
          return;
        }
        body[line.slice(0, at).trim()] = value;
      }
      try {
        await LoupeApi.call('PUT', '/api/v1/launch/prices', { prices: body });
        location.reload();
      } catch (e) {
        error.textContent = e.message;
      }
    });
  }

  const job = document.getElementById('launch-job');
  if (job) {
    const stop = document.getElementById('job-stop');
    const error = document.getElementById('job-error');
    if (stop) {
      stop.addEventListener('click', async () => {
        stop.disabled = true;
        try {
          await LoupeApi.call('POST', '/api/v1/launch/jobs/' + job.dataset.id + '/stop');
          await refresh();
        } catch (e) {
          error.textContent = e.message;
          stop.disabled = false;
        }
      });
    }
    const live = document.getElementById('job-live');
    // Checkpoint now / resume: buttons inside the live part, which is re-rendered.
    live.addEventListener('click', async (ev) => {
      const b = ev.target.closest('button[data-job-action]');
      if (!b) return;
      b.disabled = true;
      error.textContent = '';
      try {
        if (b.dataset.jobAction === 'checkpoint') {
          await LoupeApi.call('POST', '/api/v1/launch/jobs/' + job.dataset.id + '/checkpoint');
          await refresh();
        } else if (b.dataset.jobAction === 'stop-checkpoint') {
          await LoupeApi.call('POST', '/api/v1/launch/jobs/' + job.dataset.id + '/stop', { checkpoint_first: true });
          await refresh();
        } else {
          const body = {};
          if (b.dataset.checkpoint) body.checkpoint = Number(b.dataset.checkpoint);
          const minutes = document.getElementById('resume-minutes');
          const cost = document.getElementById('resume-cost');
          const budget = {};
          if (minutes && minutes.value) budget.max_minutes = Number(minutes.value);
          if (cost && cost.value) budget.max_cost = Number(cost.value);
          if (Object.keys(budget).length) body.budget = budget;
          await LoupeApi.call('POST', '/api/v1/launch/jobs/' + job.dataset.id + '/resume', body);
          if (stop) stop.hidden = false;
          follow();
        }
      } catch (e) {
        error.textContent = e.message;
        b.disabled = false;
      }
    });
    const refresh = async () => {
      const resp = await fetch('/launch/' + job.dataset.id + '/live');
      if (!resp.ok) throw new Error('HTTP ' + resp.status);
      live.innerHTML = await resp.text();
      const state = live.querySelector('[data-state]').dataset.state;
      const active = state === 'queued' || state === 'pending' || state === 'running' || state === 'stopping';
      if (stop) {
        stop.hidden = !active || state === 'stopping';
        if (!stop.hidden) stop.disabled = false;  // a resumed job can be stopped again
      }
      return active;
    };
    const follow = async () => {
      let active = true;
      try { active = await refresh(); error.textContent = ''; } catch (e) { error.textContent = 'Cannot refresh: ' + e.message; }
      if (active) setTimeout(follow, 2000);
    };
    if (job.dataset.active) setTimeout(follow, 2000);
  }
})();
