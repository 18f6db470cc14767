// Dashboard benchmarks (docs/benchmarks.md): the experiment page with 100 charts in
// headless Chromium, the experiments table of a 10,000-run project, and the CLaaS pages
// over 10,000 feedback files / 500 eval runs. Times are medians of several loads.
//   node bench/dashboard_bench.mjs experiment URL EXPERIMENT_ID
//   node bench/dashboard_bench.mjs table URL PROJECT_ID
//   node bench/dashboard_bench.mjs claas URL
//   node bench/dashboard_bench.mjs console URL       (logs 1,000,000 console lines first)
import { chromium } from 'playwright-core';

const chromeArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const [mode, url, id] = process.argv.slice(2);
// Every request needs a credential: the server's local token (run_all.sh exports it).
const auth = process.env.LOUPE_TOKEN ? { Authorization: `Bearer ${process.env.LOUPE_TOKEN}` } : {};
async function signedInContext(browser, options) {
  const context = await browser.newContext(options);
  if (process.env.LOUPE_TOKEN) await context.request.post(url + '/api/v1/auth/login', { data: { token: process.env.LOUPE_TOKEN } });
  return context;
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * p))]; };

// Server time of a page: the time to the response's last byte over loopback, best of `n`.
async function pageTime(path, n = 7) {
  const times = [];
  let bytes = 0, status = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const resp = await fetch(url + path, { headers: auth });
    const body = await resp.arrayBuffer();
    times.push(performance.now() - t0);
    bytes = body.byteLength; status = resp.status;
  }
  return { path, status, bytes, median_ms: +median(times).toFixed(2), min_ms: +Math.min(...times).toFixed(2) };
}

async function experimentPage() {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromeArgs });
  const results = [];
  for (let run = 0; run < 4; run++) {
    // A fresh context each time: no HTTP cache, so every chart is fetched and drawn.
    const context = await signedInContext(browser, { viewport: { width: 1600, height: 1000 } });
    const page = await context.newPage();
    const serverTimes = [];
    page.on('response', (r) => {
      if (r.url().includes('/series/batch?')) serverTimes.push(1000 * Number(r.headers()['swanlab-process-time']));
    });
    await page.goto(`${url}/experiments/${id}`, { waitUntil: 'commit' });
    // The page stamps the time its last initial chart was drawn; polling slowly keeps
    // the measurement from competing with the page for the CPU.
    await page.waitForFunction(() => window.loupeAllDrawnAt !== undefined, null, { timeout: 60000, polling: 250 });
    const drawnMs = await page.evaluate(() => {
      const charts = document.querySelectorAll('.chart');
      if (charts.length < 100 || ![...charts].every((c) => c.dataset.state === 'drawn')) throw new Error('not all drawn');
      return window.loupeAllDrawnAt;
    });
    const charts = await page.evaluate(() => document.querySelectorAll('.chart').length);
    const points = await page.evaluate(() => document.querySelector('.chart .meta').textContent);
    const phases = await page.evaluate(() => {
      const cs = [...document.querySelectorAll('.chart')];
      const fetched = cs.map((c) => +c.dataset.fetchedMs), drawn = cs.map((c) => +c.dataset.drawnMs);
      const nav = performance.getEntriesByType('navigation')[0];
      return { dom_ready_ms: Math.round(nav.domContentLoadedEventEnd), first_fetched_ms: Math.min(...fetched),
        last_fetched_ms: Math.max(...fetched), draw_total_ms: drawn.reduce((a, d, i) => a + d - fetched[i], 0) };
    });
    results.push({ run, charts, all_drawn_ms: Math.round(drawnMs), batch_requests: serverTimes.length,
      batch_server_ms_median: +median(serverTimes).toFixed(2), batch_server_ms_max: +Math.max(...serverTimes).toFixed(2),
      first_chart: points, ...phases });
    await context.close();
  }
  await browser.close();
  console.log(JSON.stringify(results, null, 1));
  // One chart's request (what a zoom or a live update sends), each key once, sequentially.
  const single = [];
  for (let k = 0; k < 100; k++) {
    const resp = await fetch(`${url}/api/v1/experiments/${id}/series?key=train/metric_${k}&max_points=494`, { headers: auth });
    await resp.arrayBuffer();
    single.push(1000 * Number(resp.headers.get('swanlab-process-time')));
  }
  console.log(JSON.stringify({ chart_request_server_ms: { median: +median(single).toFixed(2),
    p95: +pct(single, 0.95).toFixed(2), max: +Math.max(...single).toFixed(2) } }));
}

async function table() {
  const base = `/projects/${id}`;
  for (const q of ['', '?page=100', '?sort=metric:train/metric_0&dir=asc', '?sort=name&per_page=200&page=7',
    '?q=exp-99', '?status=finished', '/experiments.csv']) {
    console.log(JSON.stringify(await pageTime(base + q)));
  }
}

async function claas() {
  for (const q of ['/v1/dashboard', '/v1/dashboard?page=250', '/v1/dashboard?per_page=200&page=10',
    '/v1/eval', '/v1/eval?page=20', '/v1/eval?per_page=200']) {
    console.log(JSON.stringify(await pageTime(q, 5)));
  }
}

async function consoleView() {
  const post = (path, body) => fetch(url + path, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' },
    body: JSON.stringify(body) }).then((r) => r.json());
  const exp = (await post('/api/v1/experiments', { project: 'console-bench', name: 'million-lines' })).data.id;
  const t0 = performance.now();
  for (let b = 0; b < 100; b++) {
    const lines = [];
    for (let i = 0; i < 10000; i++) {
      const n = b * 10000 + i + 1;
      lines.push({ text: `${n % 1000 === 0 ? 'ERROR' : 'INFO'} step ${n}: loss=${(1 / n).toFixed(6)} lr=0.001 tokens/s=12345` });
    }
    await post(`/api/v1/experiments/${exp}/console`, { seq: b, lines });
  }
  console.log(JSON.stringify({ logged_lines: 1000000, seconds: +((performance.now() - t0) / 1000).toFixed(1) }));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromeArgs });
  const page = await (await signedInContext(browser, { viewport: { width: 1600, height: 1000 } })).newPage();
  await page.goto(`${url}/experiments/${exp}/console`);
  await page.waitForFunction(() => document.querySelector('#console .line[data-line="1000000"]'), null, { polling: 50 });
  const firstMs = await page.evaluate(() => performance.now());
  // Jumps to 20 places in the log: time until the rows there are on screen.
  const jumps = await page.evaluate(async () => {
    const box = document.getElementById('console');
    const out = [];
    for (let k = 0; k < 20; k++) {
      const target = Math.floor(Math.random() * 999000) + 1;
      const t = performance.now();
      box.scrollTop = (target - 1) * 18;
      await new Promise((resolve) => {
        const check = () => (box.querySelector(`.line[data-line="${target}"]`) ? resolve() : requestAnimationFrame(check));
        check();
      });
      out.push(performance.now() - t);
    }
    return out;
  });
  const dom = await page.evaluate(() => document.querySelectorAll('#console .line').length);
  const t1 = Date.now();
  await page.selectOption('#level', 'error');
  await page.waitForFunction(() => /^1000 of 1000000 lines/.test(document.getElementById('line-count').textContent), null, { polling: 20 });
  const filterMs = Date.now() - t1;
  console.log(JSON.stringify({ tail_shown_ms: Math.round(firstMs), jump_ms_median: +median(jumps).toFixed(1),
    jump_ms_max: +Math.max(...jumps).toFixed(1), rows_in_dom: dom, level_filter_ms: filterMs }));
  await browser.close();
}

await ({ experiment: experimentPage, table, claas, console: consoleView }[mode])();
