// The console log view: a virtual list (only the visible rows exist in the DOM), so a
// run with millions of lines scrolls as smoothly as one with ten. Lines are fetched in
// pages by line number; filters ask the server for the matching lines; the search
// jumps between matches; the tail follows a live run through its event stream.
(function () {
  'use strict';
  const ROW = 18, PAGE = 500, OVERSCAN = 20;
  const data = JSON.parse(document.getElementById('console-data').textContent);
  const box = document.getElementById('console');
  const spacer = document.getElementById('console-spacer');
  const el = id => document.getElementById(id);
  const api = '/api/v1/experiments/' + data.id + '/console/';

  let total = 0;            // lines in the log
  let filtered = null;      // null: every line; else the matching lines themselves
  const pages = new Map();  // page index -> lines (unfiltered mode)
  const loading = new Set();
  let matches = [], matchAt = -1, searchText = '';
  let follow = true;

  const count = () => filtered ? filtered.length : total;

  async function getJson(url) {
    const resp = await fetch(url);
    const body = await resp.json();
    if (!resp.ok) throw new Error(body.message || ('HTTP ' + resp.status));
    return body.data;
  }

  function lineAt(i) {
    if (filtered) return filtered[i];
    const page = Math.floor(i / PAGE);
    const lines = pages.get(page);
    if (lines) return lines[i - page * PAGE];
    if (!loading.has(page)) {
      loading.add(page);
      getJson(api + 'lines?from=' + (page * PAGE + 1) + '&limit=' + PAGE).then(d => {
        pages.set(page, d.lines);
        total = Math.max(total, d.total);
        loading.delete(page);
        render();
      }).catch(() => loading.delete(page));
    }
    return null;
  }

  function levelClass(l) {
    return l.level === 'error' ? 'err' : l.level === 'warning' ? 'warn' : '';
  }

  // ANSI colour codes (SGR) become styled spans; other escape sequences (cursor moves,
  // line erases) are dropped. A "\r" inside a line is a progress bar redrawing: only
  // what follows the last one is shown, as a terminal would leave it.
  const ESC = /\x1b\[([0-9;?]*)([A-Za-z])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Za-z0-9]/g;
  function segments(text) {
    text = text.replace(/\r+$/, '');
    const cr = text.lastIndexOf('\r');
    if (cr >= 0) text = text.slice(cr + 1);
    const out = [];
    let fg = '', bg = '', bold = false, at = 0, m;
    const push = t => { if (t) out.push({ text: t, cls: [fg, bg, bold ? 'b' : ''].filter(Boolean).join(' ') }); };
    ESC.lastIndex = 0;
    while ((m = ESC.exec(text))) {
      push(text.slice(at, m.index));
      at = ESC.lastIndex;
      if (m[2] !== 'm') continue;
      const codes = (m[1] || '0').split(';').map(Number);
      for (let i = 0; i < codes.length; i++) {
        const c = codes[i];
        if (c === 0) { fg = bg = ''; bold = false; }
        else if (c === 1) bold = true;
        else if (c === 22) bold = false;
        else if (c >= 30 && c <= 37) fg = 'f' + (c - 30);
        else if (c >= 90 && c <= 97) fg = 'f' + (c - 82);
        else if (c === 39) fg = '';
        else if (c >= 40 && c <= 47) bg = 'g' + (c - 40);
        else if (c >= 100 && c <= 107) bg = 'g' + (c - 100);
        else if (c === 49) bg = '';
        else if ((c === 38 || c === 48) && codes[i + 1] === 5) i += 2;  // 256 colours: not drawn
        else if ((c === 38 || c === 48) && codes[i + 1] === 2) i += 4;  // true colour: not drawn
      }
    }
    push(text.slice(at));
    return out;
  }
  function plain(text) {
    return segments(text).map(s => s.text).join('');
  }

  function highlight(div, text) {
    const needle = searchText.toLowerCase();
    for (const seg of segments(text)) {
      const span = seg.cls ? document.createElement('span') : div;
      if (seg.cls) { span.className = seg.cls; div.appendChild(span); }
      const t = seg.text, lower = t.toLowerCase();
      let at = 0;
      for (;;) {
        const hit = needle ? lower.indexOf(needle, at) : -1;
        if (hit < 0) break;
        span.appendChild(document.createTextNode(t.slice(at, hit)));
        const mk = document.createElement('mark');
        mk.textContent = t.slice(hit, hit + needle.length);
        span.appendChild(mk);
        at = hit + needle.length;
      }
      span.appendChild(document.createTextNode(t.slice(at)));
    }
  }

  // Times in UTC, as the rest of the pages print them.
  function clock(ts) {
    const d = new Date(ts * 1000);
    const p = n => String(n).padStart(2, '0');
    return p(d.getUTCHours()) + ':' + p(d.getUTCMinutes()) + ':' + p(d.getUTCSeconds());
  }

  function render() {
    const n = count();
    spacer.style.height = (n * ROW) + 'px';
    el('line-count').textContent = filtered ? filtered.length + ' of ' + total + ' lines' : total + ' lines';
    const first = Math.max(0, Math.floor(box.scrollTop / ROW) - OVERSCAN);
    const last = Math.min(n, Math.ceil((box.scrollTop + box.clientHeight) / ROW) + OVERSCAN);
    const frag = document.createDocumentFragment();
    const current = matchAt >= 0 ? matches[matchAt] : -1;
    for (let i = first; i < last; i++) {
      const l = lineAt(i);
      const div = document.createElement('div');
      div.className = 'line';
      div.style.top = (i * ROW) + 'px';
      if (l) {
        div.className += ' ' + levelClass(l) + (l.line === current ? ' hit' : '');
        div.dataset.line = l.line;
        const no = document.createElement('span');
        no.className = 'no';
        no.textContent = l.line;
        div.appendChild(no);
        const ts = document.createElement('span');
        ts.className = 'ts';
        ts.textContent = clock(l.ts);
        ts.title = new Date(l.ts * 1000).toISOString() + ' (UTC)';
        div.appendChild(ts);
        highlight(div, l.text);
        div.title = plain(l.text).slice(0, 2000);
      }
      frag.appendChild(div);
    }
    spacer.replaceChildren(frag);
  }

  async function refreshTotal() {
    const d = await getJson(api + 'lines?from=' + Math.max(1, total + 1) + '&limit=' + PAGE);
    // Freshly arrived lines fill the open last page(s).
    for (const l of d.lines) {
      const i = l.line - 1, page = Math.floor(i / PAGE);
      if (!pages.has(page)) pages.set(page, []);
      pages.get(page)[i - page * PAGE] = l;
    }
    total = d.total;
    if (filtered === null) render();
    if (follow) box.scrollTop = box.scrollHeight;
  }

  async function applyFilter() {
    const level = el('level').value, stream = el('stream').value, q = el('filter').value;
    if (!level && !stream && !q) {
      filtered = null;
    } else {
      const params = new URLSearchParams({ q, level, stream, limit: '100000' });
      filtered = (await getJson(api + 'search?' + params)).matches;
    }
    box.scrollTop = 0;
    render();
  }

  function indexOfLine(lineNo) {
    if (!filtered) return lineNo - 1;
    let lo = 0, hi = filtered.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (filtered[mid].line === lineNo) return mid;
      if (filtered[mid].line < lineNo) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
  }

  function jump(delta) {
    const visible = matches.filter(m => indexOfLine(m) >= 0);
    if (!visible.length) { el('match-info').textContent = searchText ? 'no matches' : ''; return; }
    matches = visible;
    matchAt = (matchAt + delta + matches.length) % matches.length;
    el('match-info').textContent = (matchAt + 1) + ' / ' + matches.length;
    follow = false;
    el('follow').checked = false;
    box.scrollTop = Math.max(0, indexOfLine(matches[matchAt]) * ROW - box.clientHeight / 2);
    render();
  }

  async function search() {
    searchText = el('search').value;
    matches = []; matchAt = -1;
    if (searchText) {
      const params = new URLSearchParams({ q: searchText, limit: '100000' });
      matches = (await getJson(api + 'search?' + params)).matches.map(l => l.line);
      jump(1);
    } else {
      el('match-info').textContent = '';
      render();
    }
  }

  // A click on a line shows it whole, wrapped and selectable, above the log.
  box.addEventListener('click', ev => {
    const lineEl = ev.target.closest('.line[data-line]');
    const detail = el('line-detail');
    if (!lineEl || !detail) return;
    const no = Number(lineEl.dataset.line);
    const l = filtered ? filtered.find(x => x.line === no) : lineAt(no - 1);
    if (!l) return;
    detail.hidden = false;
    detail.querySelector('.what').textContent = 'Line ' + l.line + ' · ' + l.stream + ' · ' + new Date(l.ts * 1000).toISOString();
    detail.querySelector('pre').textContent = plain(l.text);
  });

  let scheduled = false;
  box.addEventListener('scroll', () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => { scheduled = false; render(); });
    follow = box.scrollTop + box.clientHeight >= box.scrollHeight - ROW;
    el('follow').checked = follow;
  });
  for (const id of ['level', 'stream']) el(id).addEventListener('change', applyFilter);
  let filterTimer = null;
  el('filter').addEventListener('input', () => { clearTimeout(filterTimer); filterTimer = setTimeout(applyFilter, 250); });
  el('search').addEventListener('keydown', ev => { if (ev.key === 'Enter') { ev.preventDefault(); ev.shiftKey ? jump(-1) : search(); } });
  el('search').addEventListener('change', search);
  el('next-match').addEventListener('click', () => jump(1));
  el('prev-match').addEventListener('click', () => jump(-1));
  el('follow').addEventListener('change', ev => { follow = ev.target.checked; if (follow) box.scrollTop = box.scrollHeight; });

  refreshTotal().then(() => { box.scrollTop = box.scrollHeight; render(); });
  if (data.status === 'running') {
    const source = new EventSource('/api/v1/experiments/' + data.id + '/events');
    let known = -1;
    source.onmessage = ev => {
      const snap = JSON.parse(ev.data);
      if (snap.console_lines !== known) { known = snap.console_lines; refreshTotal(); }
      if (snap.status !== 'running') source.close();
    };
  }
  el('line-detail-close').addEventListener('click', () => { el('line-detail').hidden = true; });
  window.loupeConsole = { jump, search, segments, plain };
})();
