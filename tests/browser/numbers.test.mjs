// Numbers a chart shows at the edges (issue 20), read as Chromium drew them: a plateau
// five digits deep, magnitudes from 3e23 to 1e300, a run of one point, NaN counts that
// say what was stored, relative time that never goes negative, and wall-clock labels in
// UTC in a New York browser, identical in the SVG export.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer, launch, signIn, shot, callApi } from './harness.mjs';

let server, chrome, page, nyPage;
const errors = [];
const base = Math.floor(Date.now() / 1000 / 86400) * 86400 - 86400 + 10 * 3600;  // yesterday 10:00 UTC
const exps = {};
const api = (method, url, body) => callApi(server, method, url, body);
const range = (n, f) => Array.from({ length: n }, (_, i) => f(i));

async function experiment(name, key, points, start) {
  const e = await api('POST', '/api/v1/experiments', { project: 'numbers', name, start_time: start ?? points[0][1] });
  await api('POST', `/api/v1/experiments/${e.id}/metrics`, {
    steps: points.map(([step, ts, v]) => ({ step, ts, values: { [key]: v } })) });
  exps[name] = e.id;
}

before(async () => {
  server = await startServer();
  await experiment('plateau', 'acc', range(100, (i) => [i, base + i, 0.97501 + 0.00002 * i / 99]));
  await experiment('stuck', 'loss', range(100, (i) => [i, base + i, 2.30258 + 0.00004 * (i % 2)]));
  await experiment('huge', 'big', range(50, (i) => [i, base + i, 3e23 + i * 1e18]));
  await experiment('constant-huge', 'big', range(10, (i) => [i, base + i, 3e23]));
  await experiment('e40', 'big', range(50, (i) => [i, base + i, 1e40 * (1 + i / 49)]));
  await experiment('e300', 'big', range(50, (i) => [i, base + i, i % 2 ? 1e300 : -1e300]));
  await experiment('one-point', 'acc', [[7, base, 0.5]]);
  // 5 NaNs among 10 points; and a second run with 3 more, compared with it.
  await experiment('nans', 'loss', range(10, (i) => [i, base + i, i % 2 ? 'NaN' : i]));
  await experiment('more-nans', 'loss', range(10, (i) => [i, base + i, i < 3 ? 'NaN' : i]));
  await experiment('zero', 'flat', range(10, (i) => [i, base + i, 0]));
  await experiment('near-one', 'flat', range(10, (i) => [i, base + i, 0.9999978]));
  // 2,000 points with 5 NaNs close together: drawn downsampled, one NaN a bucket.
  await experiment('many-nans', 'loss', range(2000, (i) => [i, base + i, i >= 1000 && i < 1005 ? 'NaN' : i % 7]));
  // Points logged before the run's start (a client clock behind the server's).
  await experiment('early', 'loss', range(10, (i) => [i, base - 100 + i * 10, i]), base);
  chrome = await launch();
  const context = await chrome.browser.newContext({ viewport: { width: 1400, height: 900 }, timezoneId: 'UTC', acceptDownloads: true });
  page = await context.newPage();
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
  page.on('pageerror', (err) => errors.push(err.message));
  await signIn(page, server);
  const ny = await chrome.browser.newContext({ viewport: { width: 1400, height: 900 }, timezoneId: 'America/New_York',
    acceptDownloads: true });
  nyPage = await ny.newPage();
  nyPage.on('pageerror', (err) => errors.push(err.message));
  await signIn(nyPage, server);
});

after(async () => {
  if (chrome) await chrome.close();
  if (server) await server.stop();
});

async function chartOf(p, name, key, xmode = 'step') {
  await p.goto(`${server.url}/experiments/${exps[name]}`);
  await p.waitForFunction((k) => document.querySelector(`.chart[data-key="${k}"]`)?.dataset.state === 'drawn', key);
  if (xmode !== 'step') {
    await p.selectOption('#xaxis', xmode);
    await p.waitForFunction((k) => document.querySelector(`.chart[data-key="${k}"]`)?.dataset.state === 'drawn', key);
  }
  const chart = p.locator(`.chart[data-key="${key}"]`);
  return {
    x: JSON.parse(await chart.getAttribute('data-ticks-x')),
    y: JSON.parse(await chart.getAttribute('data-ticks-y')),
    meta: await chart.locator('.meta').textContent(),
    chart,
  };
}

async function svgOf(p, key) {
  const [download] = await Promise.all([p.waitForEvent('download'), p.click(`.chart[data-key="${key}"] button[data-action=svg]`)]);
  return fs.readFileSync(await download.path(), 'utf8');
}

function distinctNumbers(labels) {
  const shown = labels.filter((l) => l !== '');
  assert.ok(shown.length >= 2, 'fewer than two ticks: ' + JSON.stringify(labels));
  assert.equal(new Set(shown).size, shown.length, 'repeated tick labels: ' + JSON.stringify(labels));
  for (const l of shown) assert.ok(!/NaN|Infinity|,/.test(l), 'not a number label: ' + JSON.stringify(labels));
}

test('a plateau 0.97501-0.97503 and a stuck loss get distinct ticks', async () => {
  const plateau = await chartOf(page, 'plateau', 'acc');
  distinctNumbers(plateau.y);
  for (const l of plateau.y.filter((l) => l)) assert.ok(Math.abs(Number(l) - 0.97502) < 0.0001, JSON.stringify(plateau.y));
  const stuck = await chartOf(page, 'stuck', 'loss');
  distinctNumbers(stuck.y);
  await shot(page, 'numbers-plateau');
});

test('magnitudes from 3e23 to 1e300 are labelled and drawn', async () => {
  for (const name of ['huge', 'constant-huge', 'e40', 'e300']) {
    const c = await chartOf(page, name, 'big');
    distinctNumbers(c.y);
    for (const l of c.y.filter((l) => l)) assert.match(l, /^-?\d(\.\d+)?e\d+$|^0$/, name + ' ' + JSON.stringify(c.y));
    const path = await svgOf(page, 'big');
    assert.ok(!/Infinity|NaN/.test(path), name + ' SVG: ' + path.slice(0, 300));
    assert.match(path, /<path d="M[\d.]+ [\d.]+L/, name + ': no line drawn');
  }
  await shot(page, 'numbers-huge');
});

test('a run of one point has an x axis around that point', async () => {
  const c = await chartOf(page, 'one-point', 'acc');
  const xs = c.x.filter((l) => l !== '').map(Number);
  assert.ok(xs.length >= 1, JSON.stringify(c.x));
  assert.ok(Math.min(...xs) >= 5 && Math.max(...xs) <= 9, 'x ticks ' + JSON.stringify(c.x));
});

test('the NaN count is the stored one, the chart\'s own run only', async () => {
  const c = await chartOf(page, 'nans', 'loss');
  assert.match(c.meta, /^10 points · 5 NaN\/Inf$/, c.meta);
  await page.goto(`${server.url}/compare?ids=${exps.nans},${exps['more-nans']}`);
  await page.waitForFunction(() => document.querySelector('.chart[data-key="loss"]')?.dataset.state === 'drawn');
  const meta = await page.locator('.chart[data-key="loss"] .meta').textContent();
  assert.match(meta, /^10 points · 5 NaN\/Inf$/, meta);
  // Downsampled, each bucket keeps its first NaN: the count drawn is a lower bound, said so.
  const many = await chartOf(page, 'many-nans', 'loss');
  const m = /^2000 points · \d+ drawn \(min\/max per bucket\) · at least (\d+) NaN\/Inf$/.exec(many.meta);
  assert.ok(m, many.meta);
  assert.ok(Number(m[1]) >= 1 && Number(m[1]) <= 5, many.meta);
});

test('hovering a NaN says NaN; points between NaNs are drawn; the SVG has the page\'s ticks', async () => {
  const c = await chartOf(page, 'nans', 'loss');
  const over = await c.chart.locator('.u-over').boundingBox();
  // Steps 0..9 span the plot: step 1 (NaN) and step 2 (the value 2, between NaNs).
  await page.mouse.move(over.x + over.width * (1 / 9), over.y + over.height / 2);
  let values = await c.chart.locator('.u-legend .u-series .u-value').allTextContents();
  assert.deepEqual(values, ['1', 'NaN']);
  await page.mouse.move(over.x + over.width * (2 / 9), over.y + over.height / 2);
  values = await c.chart.locator('.u-legend .u-series .u-value').allTextContents();
  assert.deepEqual(values, ['2', '2']);
  const svg = await svgOf(page, 'loss');
  assert.equal((svg.match(/<circle /g) || []).length, 5, svg.slice(0, 400));  // steps 0, 2, 4, 6, 8
  for (const label of c.y.filter((l) => l)) assert.ok(svg.includes('>' + label + '<'), label + ' not in ' + svg.slice(0, 600));
  for (const label of c.x.filter((l) => l)) assert.ok(svg.includes('>' + label + '<'), label);
});

test('a constant series is drawn on a range around it', async () => {
  const zero = await chartOf(page, 'zero', 'flat');
  const ys = zero.y.filter((l) => l).map(Number);
  assert.ok(Math.min(...ys) >= -1 && Math.max(...ys) <= 1 && ys.includes(0), JSON.stringify(zero.y));
  const near = await chartOf(page, 'near-one', 'flat');
  const ns = near.y.filter((l) => l).map(Number);
  assert.ok(Math.min(...ns) >= 0.89 && Math.max(...ns) <= 1.11, JSON.stringify(near.y));
});

test('relative time starts at 0 when points come before the run\'s start', async () => {
  const c = await chartOf(page, 'early', 'loss', 'relative');
  for (const l of c.x.filter((l) => l)) assert.ok(!l.startsWith('-'), JSON.stringify(c.x));
  assert.equal(c.x.find((l) => l), '0s', JSON.stringify(c.x));
  // Opened zoomed to steps 2-8 (20 s to 1 m 20 s after the first point): the same origin.
  await page.goto(`${server.url}/experiments/${exps.early}?x=relative&from=2&to=8`);
  await page.waitForFunction(() => document.querySelector('.chart[data-key="loss"]')?.dataset.state === 'drawn');
  const zoomed = JSON.parse(await page.getAttribute('.chart[data-key="loss"]', 'data-ticks-x')).filter((l) => l);
  assert.ok(zoomed.length >= 2, JSON.stringify(zoomed));
  for (const l of zoomed) assert.ok(!l.startsWith('-') && l !== '0s', JSON.stringify(zoomed));
});

test('wall-clock labels are UTC in a New York browser, the same in the SVG export', async () => {
  const c = await chartOf(nyPage, 'plateau', 'acc', 'wall');
  const day = new Date(base * 1000).toISOString().slice(0, 10);
  assert.equal(c.x[0].split('\n')[0].slice(0, 5), '10:00', JSON.stringify(c.x));
  assert.ok(c.x[0].endsWith(day), JSON.stringify(c.x));
  const svg = await svgOf(nyPage, 'acc');
  assert.ok(svg.includes('>10:00:00<'), svg.slice(0, 500));
  assert.match(await nyPage.locator('#xaxis').textContent(), /Wall time \(UTC\)/);
  assert.deepEqual(errors, []);
});
