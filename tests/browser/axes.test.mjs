// Tick labels: the formatters on their own (known values in, known labels out), then the
// labels uPlot actually drew on real charts in every x-axis mode, for series posted with
// known values and timestamps.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { root, startServer, launch, signIn, shot, callApi } from './harness.mjs';

const sandbox = { window: {} };
vm.runInNewContext(fs.readFileSync(path.join(root, 'src', 'ui', 'static', 'axes.js'), 'utf8'), sandbox);
const A = sandbox.window.LoupeAxes;
const plain = (x) => JSON.parse(JSON.stringify(x));

test('number ticks carry the digits their spacing needs', () => {
  assert.deepEqual(plain(A.numberTicks([1e-4, 2e-4, 3e-4], 1e-4)), ['1e-4', '2e-4', '3e-4']);
  assert.deepEqual(plain(A.numberTicks([0.00025, 0.0003], 0.00005)), ['2.5e-4', '3e-4']);
  assert.deepEqual(plain(A.numberTicks([0.0098, 0.0099, 0.01], 0.0001)), ['0.0098', '0.0099', '0.0100']);
  assert.deepEqual(plain(A.numberTicks([0, 0.25, 0.5], 0.25)), ['0.00', '0.25', '0.50']);
  assert.deepEqual(plain(A.numberTicks([-0.5, 0, 0.5], 0.5)), ['-0.5', '0.0', '0.5']);
  assert.deepEqual(plain(A.numberTicks([0, 500, 1000, 1500], 500)), ['0', '500', '1000', '1500']);
  assert.deepEqual(plain(A.numberTicks([0, 50000, 100000], 50000)), ['0', '50k', '100k']);
  assert.deepEqual(plain(A.numberTicks([1.5e6, 2e6, 2.5e6], 5e5)), ['1.5M', '2.0M', '2.5M']);
  assert.deepEqual(plain(A.numberTicks([0, 1e-5, 2e-5], 1e-5)), ['0', '1e-5', '2e-5']);
  assert.deepEqual(plain(A.numberTicks([0.1 + 0.2, 0.4], 0.1)), ['0.3', '0.4']);
  assert.deepEqual(plain(A.numberTicks([1e20, 2e20], 1e20)), ['1e20', '2e20']);
});

test('ticks never share a label: huge steps, near-constant values, zoomed durations', () => {
  assert.deepEqual(plain(A.numberTicks([2e12, 2e12 + 1000, 2e12 + 2000], 1000)), ['2000000000000', '2000000001000', '2000000002000']);
  assert.deepEqual(plain(A.numberTicks([9e15, 9e15 + 2, 9e15 + 4], 2)), ['9000000000000000', '9000000000000002', '9000000000000004']);
  assert.deepEqual(plain(A.numberTicks([0.5, 0.5 + 1e-11, 0.5 + 2e-11], 1e-11)), ['0.50000000000', '0.50000000001', '0.50000000002']);
  assert.deepEqual(plain(A.numberTicks([100000.0001, 100000.0002], 0.0001)), ['100000.0001', '100000.0002']);
  assert.deepEqual(plain(A.durationTicks([90000, 90010, 90020], 10)), ['1d 1h', '1d 1h 0m 10s', '1d 1h 0m 20s']);
  assert.deepEqual(plain(A.durationTicks([3600, 3610, 3620], 10)), ['1h', '1h 0m 10s', '1h 0m 20s']);
  assert.deepEqual(plain(A.durationTicks([60.5, 61], 0.5)), ['1m 0.5s', '1m 1.0s']);
  assert.equal(A.decimalsOf(1e-11), 11);
  assert.equal(A.decimalsOf(0.0025), 4);
});

test('legend values never round an imperfect score to a perfect one', () => {
  assert.equal(A.compact(0.9999978, 4), '0.999998');
  assert.equal(A.compact(0.99995, 4), '0.99995');
  assert.equal(A.compact(-0.99999, 3), '-0.99999');
  assert.equal(A.compact(1, 4), '1');
  assert.equal(A.compact(0.5, 4), '0.5');
  assert.equal(A.compact(99.99996, 6), '99.99996');
  assert.equal(A.compact(100, 6), '100');
  assert.equal(A.compact(0.97501, 4), '0.975');
  assert.equal(A.compact(3e-4, 6), '3e-4');
  // The explorers' tables (LoupeForms): six digits, more where six would read as 1 or 0.
  const forms = { window: {} };
  vm.runInNewContext(fs.readFileSync(path.join(root, 'src', 'ui', 'static', 'forms.js'), 'utf8'), forms);
  const short = forms.window.LoupeForms.shortNumber;
  assert.equal(short(0.9999998), '0.9999998');
  assert.equal(short(1e-9), '1e-9');
  assert.equal(short(0.123456789), '0.123457');
  assert.equal(short(1), '1');
  assert.equal(short(99.9999996), '99.9999996');
});

test('log-scale ticks and durations', () => {
  assert.deepEqual(plain(A.logTicks([1e-4, 1e-3, 0.01, 1, 100, 1e5])), ['1e-4', '0.001', '0.01', '1', '100', '100k']);
  assert.deepEqual(plain(A.durationTicks([0, 0.1, 0.2], 0.1)), ['0s', '0.1s', '0.2s']);
  assert.deepEqual(plain(A.durationTicks([0, 30, 60, 90], 30)), ['0s', '30s', '1m', '1m 30s']);
  assert.deepEqual(plain(A.durationTicks([0, 1800, 3600, 5400, 7200], 1800)), ['0s', '30m', '1h', '1h 30m', '2h']);
  assert.deepEqual(plain(A.durationTicks([86400, 90000], 3600)), ['1d', '1d 1h']);
});

test('wall-clock ticks show the UTC time of day and the date where it changes, whatever the zone', () => {
  const base = Date.UTC(2026, 10, 30, 23, 59, 0) / 1000;
  const tz = process.env.TZ;
  process.env.TZ = 'America/New_York';  // the labels must not follow the machine's zone
  try {
    assert.deepEqual(plain(A.wallTicks([base, base + 30, base + 60], 30)),
      ['23:59:00\n2026-11-30', '23:59:30', '00:00:00\n2026-12-01']);
    assert.deepEqual(plain(A.wallTicks([base + 0.1, base + 0.2], 0.1)), ['23:59:00.1\n2026-11-30', '23:59:00.2']);
    // Across a daylight-saving change, hourly ticks stay an hour apart.
    const dst = Date.UTC(2024, 10, 3, 4, 0, 0) / 1000;
    assert.deepEqual(plain(A.wallSplits(null, 0, dst, dst + 3 * 3600, 3600)), [dst, dst + 3600, dst + 7200, dst + 10800]);
  } finally {
    if (tz === undefined) delete process.env.TZ; else process.env.TZ = tz;
  }
});

// ---- drawn charts ---------------------------------------------------------------------

let server, chrome, page;
const errors = [];
// Whole UTC hours in the past: a run's start time must not be ahead of the server's clock.
const base = Math.floor(Date.now() / 1000 / 86400) * 86400 - 86400 + 10 * 3600;  // yesterday 10:00 UTC
const exps = {};

const api = (method, url, body) => callApi(server, method, url, body);

async function experiment(name, key, points) {
  const e = await api('POST', '/api/v1/experiments', { project: 'axes', name, start_time: points[0][1] });
  await api('POST', `/api/v1/experiments/${e.id}/metrics`, {
    steps: points.map(([step, ts, v]) => ({ step, ts, values: { [key]: v } })) });
  exps[name] = e.id;
}

before(async () => {
  server = await startServer();
  const range = (n, f) => Array.from({ length: n }, (_, i) => f(i));
  // A learning-rate schedule from 3e-4 down to 1e-4 over 0.4 s.
  await experiment('tiny-lr', 'lr', range(101, (i) => [i, base + i * 0.004, 3e-4 - 2e-4 * i / 100]));
  // Values around 0.01 (0.0098 .. 0.0100) over 90 s.
  await experiment('near-hundredth', 'acc', range(91, (i) => [i, base + i, 0.0098 + 0.0002 * i / 90]));
  // The same key over only the first ten steps: compared with tiny-lr, it has no value past step 10.
  await experiment('short-lr', 'lr', range(11, (i) => [i, base + i * 0.004, 5e-5]));
  // Three hours of a loss going from 1 to 0.
  await experiment('three-hours', 'loss', range(181, (i) => [i * 10, base + i * 60, 1 - i / 180]));
  chrome = await launch();
  const context = await chrome.browser.newContext({ viewport: { width: 1400, height: 900 }, timezoneId: 'UTC' });
  page = await context.newPage();
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
  page.on('pageerror', (err) => errors.push(err.message));
  await signIn(page, server);
});

after(async () => {
  if (chrome) await chrome.close();
  if (server) await server.stop();
});

async function ticksOf(name, key, xmode, log = false) {
  await page.goto(`${server.url}/experiments/${exps[name]}`);
  await page.waitForFunction((k) => document.querySelector(`.chart[data-key="${k}"]`)?.dataset.state === 'drawn', key);
  if (xmode !== 'step') await page.selectOption('#xaxis', xmode);
  if (log) await page.check('#logscale');
  const chart = page.locator(`.chart[data-key="${key}"]`);
  const x = JSON.parse(await chart.getAttribute('data-ticks-x'));
  const y = JSON.parse(await chart.getAttribute('data-ticks-y'));
  return { x, y };
}

function distinct(labels) {
  const shown = labels.filter((l) => l !== '');
  assert.equal(new Set(shown).size, shown.length, 'repeated tick labels: ' + JSON.stringify(labels));
  assert.ok(shown.length >= 2, 'fewer than two ticks: ' + JSON.stringify(labels));
}

test('a learning rate of 3e-4 gets distinct y ticks in scientific notation; 0.4 s reads as tenths of a second', async () => {
  const { x, y } = await ticksOf('tiny-lr', 'lr', 'step');
  distinct(y);
  for (const l of y) assert.match(l, /^(0|[0-9.]+e-4)$/, JSON.stringify(y));
  assert.ok(y.includes('2e-4') || y.includes('2.0e-4'), JSON.stringify(y));
  assert.deepEqual(x.filter((l) => l !== ''), ['0', '20', '40', '60', '80', '100']);
  await shot(page, 'axes-small-values');

  const rel = await ticksOf('tiny-lr', 'lr', 'relative');
  distinct(rel.x);
  for (const l of rel.x) assert.match(l, /^0\.\d+s$|^0s$/, JSON.stringify(rel.x));
  assert.ok(rel.x.includes('0.1s') && rel.x.includes('0.3s'), JSON.stringify(rel.x));

  const wall = await ticksOf('tiny-lr', 'lr', 'wall');
  distinct(wall.x);
  const day = new Date(base * 1000).toISOString().slice(0, 10);
  assert.equal(wall.x[0], `10:00:00.0\n${day}`, JSON.stringify(wall.x));
  for (const l of wall.x.slice(1)) assert.match(l, /^10:00:00\.[1-4]$/, JSON.stringify(wall.x));
  await shot(page, 'axes-wall-subsecond');
});

test('values around 0.01 keep four decimals; 90 s reads in minutes and seconds', async () => {
  const { y } = await ticksOf('near-hundredth', 'acc', 'step');
  distinct(y);
  for (const l of y) assert.match(l, /^0\.0(09\d|100)\d*$/, JSON.stringify(y));
  const rel = await ticksOf('near-hundredth', 'acc', 'relative');
  distinct(rel.x);
  assert.ok(rel.x.includes('1m') || rel.x.includes('1m 30s'), JSON.stringify(rel.x));
  assert.ok(rel.x.every((l) => /^(\d+s|1m( \d+s)?)$/.test(l)), JSON.stringify(rel.x));
});

test('three hours read in hours and minutes, the wall clock in UTC time of day, and log scale', async () => {
  const rel = await ticksOf('three-hours', 'loss', 'relative');
  distinct(rel.x);
  assert.ok(rel.x.includes('1h') && rel.x.includes('2h'), JSON.stringify(rel.x));
  const wall = await ticksOf('three-hours', 'loss', 'wall');
  distinct(wall.x);
  assert.ok(wall.x.some((l) => l.startsWith('11:00')) && wall.x.some((l) => l.startsWith('12:00')), JSON.stringify(wall.x));
  for (const l of wall.x) assert.match(l, /^1[0-3]:[0-5]\d(\n\d{4}-\d\d-\d\d)?$/, JSON.stringify(wall.x));
  await shot(page, 'axes-wall-hours');
  const log = await ticksOf('three-hours', 'loss', 'step', true);
  distinct(log.y);
  assert.ok(log.y.includes('0.01') && log.y.includes('0.1') && log.y.includes('1'), JSON.stringify(log.y));
  assert.deepEqual(errors, []);
});

test('hover shows values in full, and only where a series has data', async () => {
  await page.goto(`${server.url}/experiments/${exps['tiny-lr']}?x=step`);
  await page.waitForFunction(() => document.querySelector('.chart[data-key="lr"]')?.dataset.state === 'drawn');
  const over = await page.locator('.chart[data-key="lr"] .u-over').boundingBox();
  await page.mouse.move(over.x + over.width * 0.98, over.y + over.height / 2);
  const legend = page.locator('.chart[data-key="lr"] .u-legend .u-series .u-value');
  const [stepText, value] = await legend.allTextContents();
  const step = Number(stepText);
  assert.ok(step >= 95 && step <= 100, stepText);
  // lr at step s is 3e-4 - 2e-4 * s / 100, shown to six significant digits.
  assert.equal(value, Number((3e-4 - 2e-4 * step / 100).toPrecision(6)).toExponential().replace(/e-0*(\d)/, 'e-$1').replace('.0e', 'e'));
  await page.goto(`${server.url}/compare?ids=${exps['tiny-lr']},${exps['short-lr']}`);
  await page.waitForFunction(() => document.querySelector('.chart[data-key="lr"]')?.dataset.state === 'drawn');
  const box = await page.locator('.chart[data-key="lr"] .u-over').boundingBox();
  await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2);  // about step 90
  const values = await page.locator('.chart[data-key="lr"] .u-legend .u-series .u-value').allTextContents();
  assert.equal(values[2], '--', JSON.stringify(values));  // short-lr stopped at step 10
  assert.notEqual(values[1], '--', JSON.stringify(values));
  await page.mouse.move(box.x + box.width * 0.05, box.y + box.height / 2);  // about step 5
  assert.equal((await page.locator('.chart[data-key="lr"] .u-legend .u-series .u-value').allTextContents())[2], '5e-5');
});
