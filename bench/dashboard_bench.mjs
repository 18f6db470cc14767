// Dashboard benchmarks (docs/benchmarks.md): the experiment page with 100 charts in
// headless Chromium, the experiments table of a 10,000-run project, and the CLaaS pages
// over 10,000 feedback files / 500 eval runs. Times are medians of several loads.
//   node bench/dashboard_bench.mjs experiment URL EXPERIMENT_ID
//   node bench/dashboard_bench.mjs table URL PROJECT_ID
//   node bench/dashboard_bench.mjs claas URL
import { chromium } from 'playwright-core';

const [mode, url, id] = process.argv.slice(2);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * p))]; };

// Server time of a page: the time to the response's last byte over loopback, best of `n`.
async function pageTime(path, n = 7) {
  const times = [];
  let bytes = 0, status = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const resp = await fetch(url + path);
    const body = await resp.arrayBuffer();
    times.push(performance.now() - t0);
    bytes = body.byteLength; status = resp.status;
  }
  return { path, status, bytes, median_ms: +median(times).toFixed(2), min_ms: +Math.min(...times).toFixed(2) };
}

async function experimentPage() {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  const results = [];
  for (let run = 0; run < 4; run++) {
    // A fresh context each time: no HTTP cache, so every chart is fetched and drawn.
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    const page = await context.newPage();
    const serverTimes = [];
    page.on('response', (r) => {
      if (r.url().includes('/series/batch?')) serverTimes.push(1000 * Number(r.headers()['swanlab-process-time']));
    });
    await page.goto(`${url}/experiments/${id}${process.env.QS || ''}`, { waitUntil: 'commit' });
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
    const resp = await fetch(`${url}/api/v1/experiments/${id}/series?key=train/metric_${k}&max_points=494`);
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

await ({ experiment: experimentPage, table, claas }[mode])();
