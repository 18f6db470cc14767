// Every dashboard page in headless Chromium against a live server holding runs logged
// through the SDK and a CLaaS data folder. Fails on any console error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, logRun, launch, newPage, shot, idsOf } from './harness.mjs';

let server, chrome, page, ids;
const errors = [];

before(async () => {
  server = await startServer();
  await logRun(server.url, ['--mode', 'finished', '--name', 'baseline', '--lr', '0.01']);
  await logRun(server.url, ['--mode', 'finished', '--name', 'higher-lr', '--lr', '0.05']);
  ids = await idsOf(server, 'browser-demo');
  chrome = await launch();
  page = await newPage(chrome.browser, errors, server);
});

after(async () => {
  if (chrome) await chrome.close();
  if (server) await server.stop();
});

async function noErrors() {
  assert.deepEqual(errors, [], 'console errors:\n' + errors.join('\n'));
}

test('home and projects pages link to the runs', async () => {
  await page.goto(server.url + '/');
  assert.match(await page.textContent('table.recent'), /higher-lr/);
  await shot(page, 'home');
  await page.click('header nav a[href="/projects"]');
  await page.click('table.projects a:has-text("browser-demo")');
  assert.match(page.url(), /\/projects\/\d+$/);
  await noErrors();
});

test('experiments table sorts, filters and exports', async () => {
  await page.goto(`${server.url}/projects/${ids.project}`);
  assert.equal(await page.locator('table.experiments tbody tr').count(), 2);
  await page.click('table.experiments th a:has-text("Name")');
  const names = await page.locator('table.experiments tbody td:nth-child(2)').allTextContents();
  assert.deepEqual(names, ['higher-lr', 'baseline']);  // first click on a column sorts descending
  await page.fill('input[name=q]', 'lr=0.05');
  await page.click('button:has-text("Apply")');
  assert.deepEqual(await page.locator('table.experiments tbody td:nth-child(2)').allTextContents(), ['higher-lr']);
  await page.fill('input[name=q]', '');
  await page.click('button:has-text("Apply")');
  await page.check('#select-all');
  assert.equal(await page.textContent('#compare-btn'), 'Compare 2');
  await shot(page, 'experiments-table');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('a:has-text("Export CSV")')]);
  assert.match(download.suggestedFilename(), new RegExp(`experiments-${ids.project}\\.csv`));
  await noErrors();
});

test('experiment page draws every chart, zoom re-queries the server', async () => {
  await page.goto(`${server.url}/experiments/${ids.experiments.baseline}`);
  await page.waitForFunction(() => document.querySelectorAll('.chart').length === 3 &&
    [...document.querySelectorAll('.chart')].every((c) => c.dataset.state === 'drawn'));
  assert.match(await page.textContent('.chart[data-key="train/loss"] .meta'), /2000 points/);
  // The learning rate is overlaid on the loss chart.
  assert.equal(await page.locator('.chart[data-key="train/loss"] .u-legend .u-series').count(), 3);
  await shot(page, 'experiment');
  const chart = page.locator('.chart[data-key="val/acc"] .u-over');
  const box = await chart.boundingBox();
  const [req] = await Promise.all([
    page.waitForRequest((r) => r.url().includes('series?') && r.url().includes('from=') && r.url().includes('val%2Facc')),
    (async () => {
      await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2, { steps: 5 });
      await page.mouse.up();
    })(),
  ]);
  const from = Number(new URL(req.url()).searchParams.get('from'));
  const to = Number(new URL(req.url()).searchParams.get('to'));
  assert.ok(from > 200 && to < 1000 && from < to, `zoom range ${from}-${to}`);
  await page.waitForFunction(() => /zoomed to steps/.test(document.querySelector('.chart[data-key="val/acc"] .meta').textContent));
  await shot(page, 'experiment-zoomed');
  // Smoothing, log scale and x-axis modes redraw without errors.
  await page.fill('#smoothing', '0.8');
  await page.dispatchEvent('#smoothing', 'input');
  await page.check('#logscale');
  await page.selectOption('#xaxis', 'relative');
  await page.selectOption('#xaxis', 'wall');
  await shot(page, 'experiment-smoothed');
  // Pin a chart: it moves to the pinned group and the state is stored.
  await page.click('.chart[data-key="val/acc"] button[data-action=pin]');
  await page.waitForSelector('[data-group=__pinned] .chart[data-key="val/acc"]');
  await page.reload();
  await page.waitForSelector('[data-group=__pinned] .chart[data-key="val/acc"]');
  // Exports.
  const [png] = await Promise.all([page.waitForEvent('download'), page.click('.chart[data-key="train/loss"] button[data-action=png]')]);
  assert.match(png.suggestedFilename(), /\.png$/);
  const [svg] = await Promise.all([page.waitForEvent('download'), page.click('.chart[data-key="train/loss"] button[data-action=svg]')]);
  assert.match(svg.suggestedFilename(), /\.svg$/);
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('.chart[data-key="val/acc"] button[data-action=csv]')]);
  assert.match(csv.suggestedFilename(), /\.csv$/);
  await noErrors();
});

test('a live run updates without a reload', async () => {
  const child = logRun(server.url, ['--mode', 'live', '--name', 'live-run', '--seconds', '12'], { wait: false });
  try {
    // The run appears in the table once the SDK has created it.
    for (let i = 0; i < 50; i++) {
      await page.goto(`${server.url}/projects/${ids.project}?q=live-run`);
      if (await page.locator('table.experiments a:has-text("live-run")').count()) break;
      await page.waitForTimeout(200);
    }
    await page.click('table.experiments a:has-text("live-run")');
    await page.waitForSelector('.chart[data-key="train/loss"][data-state=drawn]');
    const before = Number(await page.getAttribute('.chart[data-key="train/loss"]', 'data-points'));
    // New points and a new key arrive over server-sent events.
    await page.waitForFunction((n) => Number(document.querySelector('.chart[data-key="train/loss"]').dataset.points) > n + 5,
      before, { timeout: 15000 });
    await page.waitForSelector('.chart[data-key="live/late_key"][data-state=drawn]', { timeout: 15000 });
    assert.equal(await page.textContent('#live-state'), 'live');
    // The header's duration counts while the run runs.
    const secs = async () => Number((await page.textContent('#duration')).replace(/s$/, ''));
    const d0 = await secs();
    await page.waitForTimeout(2100);
    const d1 = await secs();
    assert.ok(d1 - d0 >= 1.7 && d1 - d0 <= 2.5, `duration went from ${d0} to ${d1}`);  // updated every 0.25 s
    await shot(page, 'experiment-live');
    await page.waitForFunction(() => document.getElementById('run-status').textContent === 'finished', null, { timeout: 20000 });
    // Once it ends, the header shows the stored duration.
    const ended = (await (await fetch(`${server.url}/api/v1/experiments/${new URL(page.url()).pathname.split('/').pop()}`,
      { headers: server.headers })).json()).data;
    // Tenths of a second, truncated as every duration on the pages is (59.96 s reads 59.9s).
    const tenths = Math.floor((Date.parse(ended.finish_time) - Date.parse(ended.create_time)) / 100);
    const expected = Math.floor(tenths / 10) + '.' + (tenths % 10) + 's';
    await page.waitForFunction((want) => document.getElementById('duration').textContent === want, expected);
  } finally {
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
  }
  await noErrors();
});

test('console view filters and jumps to matches', async () => {
  await page.goto(`${server.url}/experiments/${ids.experiments.baseline}/console`);
  await page.waitForFunction(() => document.querySelectorAll('#console .line[data-line]').length > 5);
  assert.match(await page.textContent('#line-count'), /^21 lines/);
  await page.fill('#search', 'step 1500');
  await page.press('#search', 'Enter');
  await page.waitForSelector('#console .line.hit mark');
  assert.equal(await page.textContent('#match-info'), '1 / 1');
  await page.selectOption('#level', 'warning');
  await page.waitForFunction(() => /^1 of 21 lines/.test(document.getElementById('line-count').textContent));
  await shot(page, 'console');
  await noErrors();
});

test('compare page overlays runs and highlights config differences', async () => {
  await page.goto(`${server.url}/compare?ids=${ids.experiments.baseline},${ids.experiments['higher-lr']}`);
  await page.waitForFunction(() => document.querySelectorAll('.chart').length === 3 &&
    [...document.querySelectorAll('.chart')].every((c) => c.dataset.state === 'drawn'));
  assert.equal(await page.locator('table.config-diff tr.diff').count(), 1);  // only lr differs
  assert.match(await page.textContent('table.config-diff tr.diff'), /lr/);
  await page.check('#only-diff');
  assert.equal(await page.locator('table.config-diff tr.same:visible').count(), 0);
  await shot(page, 'compare');
  await noErrors();
});

test('CLaaS feedback and eval runs are experiments too', async () => {
  await page.goto(server.url + '/projects');
  await page.click('table.projects a:has-text("claas-feedback")');
  await page.click('table.experiments a:has-text("user/tinker-lora")');
  await page.waitForSelector('.chart[data-key="sdpo/adv_mean"][data-state=drawn]');
  assert.match(await page.textContent('.chart[data-key="sdpo/adv_mean"] .meta'), /^10 points/);
  await shot(page, 'claas-feedback-experiment');
  await noErrors();
});

test('CLaaS training dashboard expands a batch', async () => {
  await page.goto(server.url + '/v1/dashboard');
  assert.match(await page.textContent('.pager'), /Page 1 of 2 \(30 total\)/);
  const detail = page.locator('#detail-0');
  assert.equal(await detail.isVisible(), false);
  await page.click('#batch-0 button.expand');
  assert.equal(await detail.isVisible(), true);
  await page.click('#detail-0 details.sample summary');
  assert.match(await detail.textContent(), /Teacher Scored Text|Be more concise/);
  await shot(page, 'claas-dashboard');
  await page.click('.pager a[rel=next]');
  assert.match(await page.textContent('.pager'), /Page 2 of 2/);
  await noErrors();
});

test('CLaaS eval dashboard shows runs, plots and step details', async () => {
  await page.goto(server.url + '/v1/eval?results_dir=./data/evals');
  assert.equal(await page.locator('details.run-section').count(), 3);
  assert.match(await page.textContent('details.run-section >> nth=0'), /in progress/);
  await page.click('details.run-section >> nth=1 >> summary >> nth=0');
  const img = page.locator('details.run-section >> nth=1 >> .plots img >> nth=0');
  assert.ok(await img.evaluate((i) => i.complete && i.naturalWidth > 0), 'plot decoded');
  const button = page.locator('details.run-section >> nth=1 >> tr.step button.expand >> nth=0');
  await button.click();
  assert.equal(await button.getAttribute('aria-expanded'), 'true');
  await shot(page, 'claas-eval');
  const resp = await page.goto(server.url + '/v1/eval?results_dir=../../etc');
  assert.equal(resp.status(), 400);
  errors.length = 0;  // the 400 page load itself is logged by Chromium as a failed resource
  await noErrors();
});
