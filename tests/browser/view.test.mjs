// View state and big runs: chart settings, zoom and filter kept in the URL and per
// project; one zoom and one cursor for all charts; collapse all, kept on reload; metrics
// logged once as a table; dozens of one-chart groups folded into one; picking runs to
// compare from a searchable list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServerAndPage, logRun, idsOf, shot, callApi } from './harness.mjs';

let server, page, ids;
const errors = [];
withServerAndPage(errors, (s, p) => { server = s; page = p; });

// Two finished runs of one project, logged once for all tests (after the server is up).
let logged = null;
function twoRuns() {
  logged = logged || (async () => {
    await logRun(server.url, ['--mode', 'finished', '--name', 'first', '--lr', '0.01']);
    await logRun(server.url, ['--mode', 'finished', '--name', 'second', '--lr', '0.05']);
    ids = await idsOf(server, 'browser-demo');
  })();
  return logged;
}

const drawn = () => page.waitForFunction(() => document.querySelectorAll('.chart:not(.media)').length > 0 &&
  [...document.querySelectorAll('.chart:not(.media)')].every((c) => c.dataset.state === 'drawn'));

test('chart settings live in the URL and are remembered for the project', async () => {
  await twoRuns();
  await page.goto(`${server.url}/experiments/${ids.experiments.first}`);
  await drawn();
  await page.fill('#smoothing', '0.6');
  await page.selectOption('#xaxis', 'relative');
  await page.check('#logscale');
  const url = new URL(page.url());
  assert.deepEqual([url.searchParams.get('smooth'), url.searchParams.get('x'), url.searchParams.get('log')], ['0.6', 'relative', '1']);
  await page.reload();
  await drawn();
  assert.equal(await page.inputValue('#smoothing'), '0.6');
  assert.equal(await page.inputValue('#xaxis'), 'relative');
  assert.equal(await page.isChecked('#logscale'), true);
  assert.match(await page.getAttribute('.chart[data-key="val/acc"]', 'data-ticks-x'), /s"/);  // drawn in relative time
  // Another run of the project, opened without settings in its URL, gets the same ones.
  await page.goto(`${server.url}/experiments/${ids.experiments.second}`);
  await drawn();
  assert.equal(await page.inputValue('#xaxis'), 'relative');
  // A link with settings wins over the remembered ones.
  await page.goto(`${server.url}/experiments/${ids.experiments.second}?x=step`);
  await drawn();
  assert.equal(await page.inputValue('#xaxis'), 'step');
  assert.equal(await page.isChecked('#logscale'), false);
  assert.deepEqual(errors, []);
});

test('one zoom for every chart, in the URL; a shared cursor; the filter', async () => {
  await page.goto(`${server.url}/experiments/${ids.experiments.first}?x=step`);
  await drawn();
  const box = await page.locator('.chart[data-key="val/acc"] .u-over').boundingBox();
  await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(() => [...document.querySelectorAll('.chart:not(.media)')]
    .every((c) => /zoomed to steps/.test(c.querySelector('.meta').textContent)));
  const url = new URL(page.url());
  const from = Number(url.searchParams.get('from')), to = Number(url.searchParams.get('to'));
  assert.ok(from > 200 && to < 1200 && from < to, `zoom ${from}-${to}`);
  await page.reload();
  await page.waitForFunction((want) => [...document.querySelectorAll('.chart:not(.media)')]
    .every((c) => c.dataset.state === 'drawn' && c.querySelector('.meta').textContent.includes(want)), `zoomed to steps ${from}–${to}`);
  // Hovering one chart moves the cursor of the others to the same step.
  const loss = await page.locator('.chart[data-key="train/loss"] .u-over').boundingBox();
  await page.mouse.move(loss.x + loss.width / 2, loss.y + loss.height / 2);
  const cursors = await page.evaluate(() => [...window.loupeExperiment.charts.values()]
    .map((c) => (c.chart.plot.cursor.idx == null ? null : c.chart.plot.data[0][c.chart.plot.cursor.idx])));
  assert.ok(cursors.every((x) => x != null && Math.abs(x - cursors[0]) <= 2), JSON.stringify(cursors));  // the same step
  // Reset on any chart resets all.
  await page.click('.chart[data-key="val/acc"] button[data-action=reset]');
  await page.waitForFunction(() => [...document.querySelectorAll('.chart:not(.media) .meta')].every((m) => !/zoomed/.test(m.textContent)));
  assert.equal(new URL(page.url()).searchParams.get('from'), null);

  await page.fill('#chart-filter', 'ACC');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('q') === 'ACC');
  const visible = await page.$$eval('.chart', (cs) => cs.filter((c) => !c.hidden && c.offsetParent).map((c) => c.dataset.key));
  assert.deepEqual(visible, ['val/acc']);
  assert.equal(await page.textContent('#filter-count'), '1 of 3 charts');
  await page.reload();
  assert.equal(await page.inputValue('#chart-filter'), 'ACC');
  assert.equal(await page.isVisible('.chart[data-key="train/loss"]'), false);
  await page.fill('#chart-filter', '');
  assert.deepEqual(errors, []);
});

test('collapse all stays collapsed after a reload', async () => {
  await page.goto(`${server.url}/experiments/${ids.experiments.second}?x=step`);
  await drawn();
  await page.click('#collapse-all');
  assert.deepEqual(await page.$$eval('details.ns', (ds) => ds.map((d) => d.open)), [false, false]);
  await page.waitForTimeout(300);  // the groups' state is saved on the server
  await page.reload();
  assert.deepEqual(await page.$$eval('details.ns', (ds) => ds.map((d) => d.open)), [false, false]);
  assert.equal(await page.textContent('#collapse-all'), 'Expand all');
  await page.click('#collapse-all');
  assert.deepEqual(await page.$$eval('details.ns', (ds) => ds.map((d) => d.open)), [true, true]);
  assert.equal(await page.textContent('#collapse-all'), 'Collapse all');
});

test('metrics logged once are a table; dozens of one-chart groups share one', async () => {
  const api = (m, u, b) => callApi(server, m, u, b);
  const e = await api('POST', '/api/v1/experiments', { project: 'big-runs', name: 'layers' });
  const steps = [];
  for (let s = 0; s < 5; s++) {
    const values = { 'train/loss': 1 / (s + 1), 'train/acc': s / 5 };
    for (let l = 0; l < 8; l++) values[`layer${l}/grad_norm`] = l + s / 10;
    steps.push({ step: s, values });
  }
  steps.push({ step: 4, values: { 'test/accuracy': 0.9123456, 'test/f1': 0.8 } });
  await api('POST', `/api/v1/experiments/${e.id}/metrics`, { steps });
  await api('POST', `/api/v1/experiments/${e.id}/finish`, { status: 'finished' });
  await page.goto(`${server.url}/experiments/${e.id}`);
  await drawn();
  assert.deepEqual(await page.$$eval('#summary tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent))),
    [['test/accuracy', '0.912346', '4'], ['test/f1', '0.8', '4']]);
  assert.equal(await page.locator('.chart[data-key="test/accuracy"]').count(), 0);
  assert.equal(await page.locator('details[data-group="__singles"] .chart').count(), 8);
  assert.match(await page.textContent('details[data-group="__singles"] summary'), /8 groups of one/);
  assert.equal(await page.locator('details[data-group="train"] .chart').count(), 2);
  await shot(page, 'big-run-layout');
  assert.deepEqual(errors, []);
});

test('compare: pick runs from a searchable list; the page links back to the project', async () => {
  await page.goto(`${server.url}/compare`);
  assert.equal(await page.getAttribute('#picker', 'open'), '');
  await page.fill('#picker-filter', 'seco');
  assert.deepEqual(await page.$$eval('#picker-list .pick-row', (rows) => rows.filter((r) => !r.hidden).map((r) => r.textContent.trim().split(' ')[0])),
    ['second']);
  await page.check('#picker-list .pick-row:not([hidden]) input');
  await page.fill('#picker-filter', 'first');
  await page.check('#picker-list .pick-row:not([hidden]) input');
  assert.equal(await page.textContent('#picked-count'), '2 selected');
  await Promise.all([page.waitForURL(/\/compare\?ids=/), page.click('#picker-go')]);
  const picked = new URL(page.url()).searchParams.get('ids').split(',').map(Number).sort();
  assert.deepEqual(picked, [ids.experiments.first, ids.experiments.second].sort());
  assert.equal(await page.getAttribute('.crumbs a:has-text("browser-demo")', 'href'), `/projects/${ids.project}`);
  await shot(page, 'compare-picker');
  assert.deepEqual(errors, []);
});

test('a custom panel draws several keys on one chart, on every run of the project', async () => {
  await twoRuns();
  await page.goto(`${server.url}/experiments/${ids.experiments.first}?x=step`);
  await drawn();
  await page.click('#add-panel');
  await page.fill('#panel-form input[name=name]', 'loss and accuracy');
  await page.fill('#panel-form input[type=search]', 'l');
  await page.check('#panel-form input[value="train/loss"]');
  await page.check('#panel-form input[value="val/acc"]');
  await page.click('#panel-form button[type=submit]');
  const panel = page.locator('.chart.custom[data-panel="loss and accuracy"]');
  await page.waitForFunction(() => document.querySelector('.chart.custom')?.dataset.state === 'drawn');
  assert.equal(await panel.locator('.u-legend .u-series').count(), 3);  // step + two keys
  // The other run of the project has it too, drawn from its own data.
  await page.goto(`${server.url}/experiments/${ids.experiments.second}?x=step`);
  await drawn();
  assert.equal(await page.locator('details[data-group="__custom"] .chart.custom').count(), 1);
  await shot(page, 'custom-panel');
  page.once('dialog', (d) => d.accept());
  await page.click('.chart.custom button[data-action=hide]');
  await page.waitForFunction(() => !document.querySelector('.chart.custom'));
  await page.reload();
  await drawn();
  assert.equal(await page.locator('.chart.custom').count(), 0);
  assert.deepEqual(errors, []);
});
