// The chat portal: start conversations, stream answers as the model writes them (the
// POST answers with server-sent events, read with fetch), stop them, send a prompt to
// another model, thumbs and evaluations, markdown answers, latency history per model.
(function () {
  'use strict';
  const newForm = document.getElementById('new-conversation');
  if (newForm) {
    newForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = new FormData(newForm);
      const body = { model_id: Number(f.get('model_id')) };
      const title = (f.get('title') || '').toString().trim();
      if (title) body.title = title;
      try {
        const c = await LoupeApi.call('POST', '/api/v1/llm/conversations', body);
        location.href = '/llm/chat/' + c.id;
      } catch (err) {
        document.getElementById('new-error').textContent = err.message;
      }
    });
  }
  const chat = document.getElementById('chat');
  if (!chat) return;
  const id = chat.dataset.id;
  const thread = document.getElementById('thread');

  const renderMarkdown = (root) => LoupeMarkdown.render(root);
  renderMarkdown(thread);

  async function refreshThread() {
    const resp = await fetch('/llm/chat/' + id + '/thread');
    if (!resp.ok) return false;
    thread.innerHTML = await resp.text();
    renderMarkdown(thread);
    loadCharts();
    return true;
  }

  // Reads an SSE response: calls onEvent(name, data) per event; throws the server's
  // message when the answer could not start.
  async function readEvents(resp, onEvent) {
    const type = resp.headers.get('Content-Type') || '';
    if (!resp.ok || !type.startsWith('text/event-stream')) {
      let message = 'HTTP ' + resp.status;
      try { message = (await resp.json()).message || message; } catch (e) { /* not JSON */ }
      throw new Error(message);
    }
    const reader = resp.body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true }).replace(/\r\n/g, '\n');
      let cut;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        let name = 'message', data = '';
        for (const line of frame.split('\n')) {
          if (line.startsWith(':')) continue;
          if (line.startsWith('event:')) name = line.slice(6).trim();
          else if (line.startsWith('data:')) data += (data ? '\n' : '') + line.slice(5).replace(/^ /, '');
        }
        if (data) onEvent(name, JSON.parse(data));
      }
    }
  }

  function streamingCard(modelName) {
    const card = document.createElement('article');
    card.className = 'answer streaming';
    const head = document.createElement('header');
    const strong = document.createElement('strong');
    strong.textContent = modelName;
    head.append(strong, ' ');
    const state = document.createElement('span');
    state.className = 'muted small stream-state';
    state.textContent = 'waiting for the first token…';
    head.append(state);
    const text = document.createElement('div');
    text.className = 'stream-text';
    card.append(head, text);
    return { card, state, text };
  }

  const sendBtn = document.getElementById('send');
  const stopBtn = document.getElementById('stop');
  const composerError = document.getElementById('composer-error');
  let controller = null;

  function busy(on) {
    if (sendBtn) sendBtn.disabled = on;
    if (stopBtn) stopBtn.hidden = !on;
    for (const b of thread.querySelectorAll('.resend-btn')) b.disabled = on;
  }

  // Streams one answer into `answers` (a turn's answer row); refreshes the thread after.
  async function streamAnswer(url, body, answers, modelName) {
    const view = streamingCard(modelName);
    answers.append(view.card);
    controller = new AbortController();
    busy(true);
    composerError.textContent = '';
    let stopped = false;
    try {
      const resp = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                      body: JSON.stringify(body), signal: controller.signal });
      await readEvents(resp, (name, data) => {
        if (name === 'start') {
          view.card.closest('.turn').dataset.message = data.user_message.id;
        } else if (name === 'delta') {
          if (!view.text.textContent) view.state.textContent = 'writing…';
          view.text.textContent += data.text;
        } else if (name === 'retry') {
          view.state.textContent = 'retrying in ' + (data.delay_ms / 1000).toFixed(1) + ' s (attempt ' + data.attempt + '): ' + data.reason;
        }
      });
    } catch (err) {
      if (err.name === 'AbortError') {
        stopped = true;
        view.state.textContent = 'stopped';
      } else {
        view.card.remove();
        composerError.textContent = err.message;
      }
    } finally {
      controller = null;
      busy(false);
    }
    // A stopped answer is recorded once the server notices the reader left: look again
    // until it shows.
    for (let i = 0; i < (stopped ? 20 : 1); ++i) {
      if (stopped) await new Promise((r) => setTimeout(r, 250));
      const before = thread.querySelectorAll('.answer:not(.streaming)').length;
      await refreshThread();
      if (!stopped || thread.querySelectorAll('.answer').length > before) break;
    }
  }

  // Stop asks the server to end the answer (recorded as cancelled, the stream ends);
  // dropping the connection is the fallback when that call fails.
  if (stopBtn) stopBtn.addEventListener('click', async () => {
    if (!controller) return;
    const mine = controller;
    try {
      await LoupeApi.call('POST', '/api/v1/llm/conversations/' + id + '/stop');
    } catch (err) {
      mine.abort();
    }
  });

  const composer = document.getElementById('composer');
  if (composer) {
    const textarea = composer.querySelector('textarea');
    textarea.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) composer.requestSubmit();
    });
    composer.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const content = textarea.value;
      if (!content.trim() || controller) return;
      const select = document.getElementById('composer-model');
      const empty = document.getElementById('thread-empty');
      if (empty) empty.remove();
      const turn = document.createElement('section');
      turn.className = 'turn';
      const bubble = document.createElement('div');
      bubble.className = 'bubble user';
      const text = document.createElement('div');
      text.className = 'md-source';
      text.textContent = content;
      bubble.append(text);
      const answers = document.createElement('div');
      answers.className = 'answers';
      turn.append(bubble, answers);
      thread.append(turn);
      textarea.value = '';
      await streamAnswer('/api/v1/llm/conversations/' + id + '/messages',
                         { content, model_id: Number(select.value) }, answers,
                         select.options[select.selectedIndex].textContent);
      if (composerError.textContent && !turn.querySelector('.answer')) {
        turn.remove();
        textarea.value = content;
      }
    });
    // Switching the model here makes it the conversation's model.
    document.getElementById('composer-model').addEventListener('change', async (ev) => {
      try { await LoupeApi.call('PATCH', '/api/v1/llm/conversations/' + id, { model_id: Number(ev.target.value) }); }
      catch (err) { composerError.textContent = err.message; }
    });
  }

  const settings = document.getElementById('chat-settings');
  if (settings) {
    settings.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = new FormData(settings);
      const params = {};
      for (const k of ['temperature', 'top_p', 'max_tokens', 'seed']) {
        const v = (f.get(k) || '').toString().trim();
        if (v !== '') params[k] = Number(v);
      }
      const status = document.getElementById('settings-status');
      try {
        const c = await LoupeApi.call('PATCH', '/api/v1/llm/conversations/' + id,
                                      { title: (f.get('title') || '').toString(), system: (f.get('system') || '').toString(), params });
        document.getElementById('chat-title').textContent = c.title;
        status.textContent = 'saved';
      } catch (err) {
        status.textContent = err.message;
      }
    });
  }

  // Thumbs, evaluations and "compare" live on the thread, which is re-rendered: delegate.
  thread.addEventListener('click', async (ev) => {
    const thumb = ev.target.closest('.thumb');
    const evaluate = ev.target.closest('.evaluate-btn');
    const resend = ev.target.closest('.resend-btn');
    if (thumb) {
      const pid = thumb.closest('.answer').dataset.prediction;
      const pressed = thumb.getAttribute('aria-pressed') === 'true';
      thumb.disabled = true;
      try {
        if (pressed) await LoupeApi.call('DELETE', '/api/v1/llm/predictions/' + pid + '/thumbs');
        else await LoupeApi.call('PUT', '/api/v1/llm/predictions/' + pid + '/thumbs', { up: thumb.dataset.up === 'true' });
        await refreshThread();
      } catch (err) {
        composerError.textContent = err.message;
        thumb.disabled = false;
      }
    } else if (evaluate) {
      openEvaluation(evaluate.closest('.answer').dataset.prediction);
    } else if (resend && !controller) {
      const turn = resend.closest('.turn');
      const select = turn.querySelector('.resend-model');
      await streamAnswer('/api/v1/llm/conversations/' + id + '/messages/' + turn.dataset.message + '/answers',
                         { model_id: Number(select.value) }, turn.querySelector('.answers'),
                         select.options[select.selectedIndex].textContent);
    }
  });

  // The Evaluate dialog: stars, success, failure tags, notes, expected behaviour,
  // groundedness and citations; opens with the caller's earlier evaluation.
  const dialog = document.getElementById('evaluate');
  const evalForm = document.getElementById('evaluate-form');
  const citations = document.getElementById('citations');
  let evaluating = null;
  function addCitation(source, correct) {
    const row = document.createElement('div');
    row.className = 'citation toolbar';
    const input = document.createElement('input');
    input.name = 'citation_source';
    input.placeholder = 'source (URL, document, passage)';
    input.value = source || '';
    const select = document.createElement('select');
    select.name = 'citation_correct';
    for (const [v, label] of [['true', 'correct'], ['false', 'incorrect']]) {
      const o = document.createElement('option');
      o.value = v;
      o.textContent = label;
      select.append(o);
    }
    select.value = correct === false ? 'false' : 'true';
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'btn';
    remove.textContent = 'Remove';
    remove.addEventListener('click', () => row.remove());
    row.append(input, select, remove);
    citations.append(row);
  }
  document.getElementById('add-citation').addEventListener('click', () => addCitation('', true));
  evalForm.groundedness.addEventListener('input', () => { evalForm.groundedness_value.value = evalForm.groundedness.value; });
  document.getElementById('evaluate-cancel').addEventListener('click', () => dialog.close());

  async function openEvaluation(pid) {
    evaluating = pid;
    evalForm.reset();
    citations.textContent = '';
    evalForm.groundedness_value.value = evalForm.groundedness.value;
    document.getElementById('evaluate-error').textContent = '';
    try {
      const p = await LoupeApi.call('GET', '/api/v1/llm/predictions/' + pid);
      const mine = (p.judgments || []).find((j) => j.criterion === 'evaluation' && j.source === 'human' && j.created_by === chat.dataset.user);
      if (mine) {
        const e = mine.evidence || {};
        if (e.stars) evalForm.querySelector('input[name=stars][value="' + e.stars + '"]').checked = true;
        if (e.success !== undefined) evalForm.querySelector('input[name=success][value="' + e.success + '"]').checked = true;
        for (const t of e.failure_tags || []) {
          const box = evalForm.querySelector('input[name=failure_tags][value="' + t + '"]');
          if (box) box.checked = true;
        }
        for (const k of ['strengths', 'notes', 'expected']) evalForm[k].value = e[k] || '';
        if (e.groundedness !== undefined) {
          evalForm.rate_groundedness.checked = true;
          evalForm.groundedness.value = e.groundedness;
          evalForm.groundedness_value.value = e.groundedness;
        }
        for (const c of e.citations || []) addCitation(c.source, c.correct);
      }
    } catch (err) {
      document.getElementById('evaluate-error').textContent = err.message;
    }
    dialog.showModal();
  }

  evalForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = new FormData(evalForm);
    const body = {};
    if (f.get('stars')) body.stars = Number(f.get('stars'));
    if (f.get('success')) body.success = f.get('success') === 'true';
    const tags = f.getAll('failure_tags');
    if (tags.length) body.failure_tags = tags;
    for (const k of ['strengths', 'notes', 'expected']) {
      const v = (f.get(k) || '').toString().trim();
      if (v) body[k] = v;
    }
    if (f.get('rate_groundedness')) body.groundedness = Number(f.get('groundedness'));
    const sources = f.getAll('citation_source');
    const correct = f.getAll('citation_correct');
    if (sources.length) body.citations = sources.map((s, i) => ({ source: s.toString(), correct: correct[i] === 'true' }));
    try {
      await LoupeApi.call('PUT', '/api/v1/llm/predictions/' + evaluating + '/evaluation', body);
      dialog.close();
      await refreshThread();
    } catch (err) {
      document.getElementById('evaluate-error').textContent = err.message;
    }
  });

  // Latency history: each model of this conversation, its last 50 answered calls anywhere
  // (failed calls end in a millisecond or at a timeout: they say nothing of its speed).
  const charts = document.getElementById('latency-charts');
  function median(values) {
    const v = values.filter((x) => typeof x === 'number').sort((a, b) => a - b);
    if (!v.length) return null;
    const m = Math.floor(v.length / 2);
    return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
  }
  function ms(v) {
    if (v === null) return '—';
    if (v < 10) return v.toFixed(2) + ' ms';
    if (v < 100) return v.toFixed(1) + ' ms';
    if (v < 999.5) return v.toFixed(0) + ' ms';
    return v < 9995 ? (v / 1000).toFixed(2) + ' s' : (v / 1000).toFixed(1) + ' s';
  }
  // Axis and grid colours from the page's theme (dark mode included).
  function themed(axis) {
    const css = getComputedStyle(document.documentElement);
    const ink = css.getPropertyValue('--axis').trim() || '#4a5160';
    const grid = css.getPropertyValue('--grid').trim() || '#e9ecef';
    return Object.assign({ stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } }, axis);
  }
  let chartGen = 0;
  async function loadCharts() {
    if (!charts || !window.uPlot) return;
    const gen = ++chartGen;
    const models = new Map();
    for (const a of thread.querySelectorAll('.answer[data-model]')) models.set(a.dataset.model, a.dataset.modelName);
    const figures = [];
    for (const [mid, name] of [...models].slice(0, 6)) {
      let data;
      try { data = await LoupeApi.call('GET', '/api/v1/llm/predictions?model_id=' + mid + '&outcome=ok&limit=50&sort=time'); }
      catch (e) { continue; }
      const rows = data.predictions.slice().reverse();
      if (!rows.length) continue;
      const fig = document.createElement('figure');
      fig.className = 'latency-chart';
      fig.dataset.model = mid;
      const cap = document.createElement('figcaption');
      cap.textContent = name + ': median ' + ms(median(rows.map((r) => r.latency_ms))) + ' total, ' +
        ms(median(rows.map((r) => r.ttft_ms))) + ' to first token (last ' + rows.length + ' answered calls, all conversations)';
      fig.append(cap);
      figures.push([fig, rows]);
    }
    if (gen !== chartGen) return;
    charts.textContent = '';
    for (const [fig, rows] of figures) {
      charts.append(fig);
      const x = rows.map((r, i) => i + 1);
      // The legend names the two lines; y starts at 0 with head room, so a few close
      // values still get labelled ticks; one call is a point.
      new uPlot({ width: Math.min(360, charts.clientWidth || 360), height: 140, legend: { show: true, live: false },
                  scales: { x: { time: false, range: (u, lo, hi) => [1, Math.max(2, hi)] },
                            y: { range: (u, lo, hi) => [0, hi > 0 ? hi * 1.15 : 1] } },
                  axes: [themed({ label: 'call' }), themed({ label: 'ms', size: 50 })],
                  series: [{ label: 'call' }, { label: 'total', stroke: '#3b5bdb', width: 1.5, points: { show: rows.length < 20 } },
                           { label: 'first token', stroke: '#e67700', width: 1.5, points: { show: rows.length < 20 } }] },
                [x, rows.map((r) => r.latency_ms), rows.map((r) => (typeof r.ttft_ms === 'number' ? r.ttft_ms : null))], fig);
    }
  }
  loadCharts();
})();
