// The runs table as a sweep tool: config beside metric columns, defaults that matter,
// numeric filters, a searchable column picker, grouping with statistics, live rows, and
// the sweep panels (parallel coordinates, importance, scatter) over 50 runs of known
// configs and results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServerAndPage, shot, callApi } from './harness.mjs';

let server, page;
const errors = [];
withServerAndPage(errors, (s, p) => { server = s; page = p; });

const runs = [];
let project = 0;
async function sweep() {
  if (runs.length) return;
  const api = (m, u, b) => callApi(server, m, u, b);
  for (let i = 0; i < 50; i++) {
    const lr = [1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 1e-1][i % 10];
    const optimizer = i % 2 ? 'adam' : 'sgd';
    const config = { lr, batch_size: [32, 64, 128][i % 3], optimizer, seed: i };
    // A U-shaped loss in log10(lr), best at 10^-2.5, plus 0.1 for sgd.
    const loss = (Math.log10(lr) + 2.5) ** 2 + (optimizer === 'sgd' ? 0.1 : 0);
    const e = await api('POST', '/api/v1/experiments', { project: 'sweep', name: `run-${i}`, config });
    project = e.project_id;
    await api('POST', `/api/v1/experiments/${e.id}/metrics`, { steps: [
      { step: 0, values: { 'val/loss': loss + 1, 'val/acc': 0.5, epoch: 0 } },
      { step: 1, values: { 'val/loss': loss, 'val/acc': 1 - loss / 10, epoch: 1 } }] });
    await api('POST', `/api/v1/experiments/${e.id}/finish`, { status: 'finished' });
    runs.push({ id: e.id, name: `run-${i}`, lr, optimizer, loss });
  }
}

const cellTexts = (sel) => page.$$eval(sel, (cells) => cells.map((c) => c.textContent.trim()));

test('config and metric columns, numeric filters, the column picker', async () => {
  await sweep();
  await page.goto(`${server.url}/projects/${project}?per_page=100`);
  const heads = await cellTexts('table.experiments thead tr:last-child th');
  assert.deepEqual(heads.slice(5, 9).map((h) => h.replace(/ [▼▲]$/, '')), ['lr', 'batch_size', 'optimizer', 'seed']);
  const metricHeads = await cellTexts('table.experiments thead tr:last-child th > a:first-child');
  assert.deepEqual(metricHeads.slice(8, 10), ['val/loss', 'val/acc']);  // loss and accuracy first, epoch after
  assert.equal(heads[9], 'val/loss min max');  // each run's min and max sort too
  assert.equal(await page.locator('table.experiments tbody tr').count(), 50);
  await page.fill('input[name=q]', 'lr>0.01');
  await page.click('button:has-text("Apply")');
  const expected = runs.filter((r) => r.lr > 0.01).length;
  assert.equal(expected, 15);
  assert.equal(await page.locator('table.experiments tbody tr').count(), expected);
  await page.fill('input[name=q]', 'lr=0.0001 optimizer=sgd');
  await page.click('button:has-text("Apply")');
  assert.deepEqual((await cellTexts('table.experiments tbody td:nth-child(2) > a:first-child')).sort(),
    ['run-0', 'run-10', 'run-20', 'run-30', 'run-40']);
  await page.fill('input[name=q]', '');
  // The picker: find a column by name, tick it, untick others.
  await page.click('#column-picker summary');
  await page.fill('#column-filter', 'seed');
  assert.deepEqual(await page.$$eval('.picker-list[data-param=ccols] .pick-row', (rows) => rows.filter((r) => !r.hidden).map((r) => r.textContent.trim())), ['seed']);
  await page.uncheck('.picker-list[data-param=ccols] input[value=seed]');
  await page.fill('#column-filter', '');
  await page.uncheck('.picker-list[data-param=ccols] input[value=batch_size]');
  await shot(page, 'sweep-column-picker');
  await page.click('button:has-text("Apply")');
  assert.equal(new URL(page.url()).searchParams.get('ccols'), 'lr,optimizer');
  const after = await cellTexts('table.experiments thead tr:last-child th');
  assert.deepEqual(after.slice(5, 7).map((h) => h.replace(/ [▼▲]$/, '')), ['lr', 'optimizer']);
  assert.deepEqual(errors, []);
});

test('group by a config key shows each group with its mean and spread', async () => {
  await sweep();
  await page.goto(`${server.url}/projects/${project}?per_page=100&group=optimizer&cols=val/loss`);
  const groups = page.locator('tr.group-row');
  assert.equal(await groups.count(), 2);
  for (const [i, opt] of [[0, 'adam'], [1, 'sgd']]) {
    const row = groups.nth(i);
    assert.match(await row.textContent(), new RegExp(`optimizer = ${opt} · 25 runs`));
    const losses = runs.filter((r) => r.optimizer === opt).map((r) => r.loss);
    const mean = losses.reduce((a, b) => a + b, 0) / losses.length;
    const cell = row.locator('td.num').last();
    assert.match(await cell.getAttribute('title'), /^mean of 25 runs/);
    const shown = Number((await cell.textContent()).split(' ± ')[0]);
    assert.ok(Math.abs(shown - mean) <= Math.abs(mean) * 1e-3, `${opt}: shown ${shown}, mean ${mean}`);
  }
  await shot(page, 'sweep-grouped');
  assert.deepEqual(errors, []);
});

test("each run's min and max of a metric, shown and sorted", async () => {
  await sweep();
  // val/loss is loss + 1 at step 0, then loss: min loss at step 1, max loss + 1 at step 0.
  await page.goto(`${server.url}/projects/${project}?per_page=100&cols=val/loss`);
  await page.click('table.experiments thead a.sub-sort:has-text("max")');
  assert.equal(new URL(page.url()).searchParams.get('sort'), 'max:val/loss');
  assert.equal(new URL(page.url()).searchParams.get('dir'), 'asc');  // a loss: the lowest first
  const first = runs.slice().sort((a, b) => a.loss - b.loss || a.id - b.id)[0];
  const row = page.locator('table.experiments tbody tr').first();
  assert.equal(Number(await row.getAttribute('data-id')), first.id);
  const range = row.locator('td:last-child .range');
  const [lo, hi] = (await range.textContent()).split(' – ').map(Number);
  assert.ok(Math.abs(lo - first.loss) <= 1e-3 * Math.max(1, first.loss), `min ${lo} vs ${first.loss}`);
  assert.ok(Math.abs(hi - (first.loss + 1)) <= 1e-3 * (first.loss + 1), `max ${hi} vs ${first.loss + 1}`);
  assert.match(await range.getAttribute('title'), / at step 1, max .* at step 0 /);
  assert.equal(await page.textContent('table.experiments thead a.sub-sort:has-text("max")'), 'max ▲');
  assert.equal(await row.locator('td:last-child .range .sorted').textContent(), String(hi));
  // The sweep panel opens on what the table is sorted by.
  await page.click('#sweep summary');
  await page.waitForFunction(() => document.getElementById('sweep').dataset.state === 'drawn');
  assert.equal(await page.inputValue('#sweep-value'), 'max');
  assert.equal(JSON.parse(await page.getAttribute('#parcoords', 'data-axes')).pop(), 'max(val/loss)');
  await shot(page, 'sweep-min-max');
  assert.deepEqual(errors, []);
});

test('parallel coordinates, importance and scatter over the runs', async () => {
  await sweep();
  await page.goto(`${server.url}/projects/${project}?ccols=lr,batch_size,optimizer,seed`);
  await page.click('#sweep summary');
  await page.waitForFunction(() => document.getElementById('sweep').dataset.state === 'drawn');
  const pc = page.locator('#parcoords');
  assert.deepEqual(JSON.parse(await pc.getAttribute('data-axes')), ['lr', 'batch_size', 'optimizer', 'seed', 'val/loss']);
  assert.equal(await pc.getAttribute('data-lines'), '50');
  const bestLoss = Math.min(...runs.map((r) => r.loss));
  const bestOf = async () => {
    const id = Number(await pc.getAttribute('data-best'));
    return runs.find((r) => r.id === id);
  };
  assert.equal((await bestOf()).loss, bestLoss);  // five runs tie for it
  assert.ok(Number(await pc.getAttribute('data-draw-ms')) <= 500);
  assert.equal(await page.inputValue('#sweep-dir'), 'min');  // a loss: lower is better
  // lr explains most of the loss (a U shape: no rank correlation, a large eta^2); the seed little.
  const order = await page.$$eval('#importance tbody tr', (rows) => rows.map((r) => r.dataset.key));
  assert.equal(order[0], 'lr');
  assert.equal(order[order.length - 1], 'seed');
  assert.equal(await page.getAttribute('#scatter', 'data-points'), '50');
  assert.equal(await page.inputValue('#scatter-x'), 'lr');
  await shot(page, 'sweep-panels');
  // A higher-is-better metric flips the direction and the best run.
  await page.selectOption('#sweep-metric', 'val/acc');
  await page.waitForFunction(() => document.getElementById('sweep-dir').value === 'max');
  assert.equal((await bestOf()).loss, bestLoss);  // acc = 1 - loss / 10
  // Each run's largest loss (loss + 1, at step 0) instead of its last.
  await page.selectOption('#sweep-metric', 'val/loss');
  await page.selectOption('#sweep-value', 'max');
  await page.waitForFunction(() => JSON.parse(document.getElementById('parcoords').dataset.axes).pop() === 'max(val/loss)');
  const drawn = await page.evaluate(() => window.loupeSweep.data.runs);
  for (const r of runs) {
    const d = drawn.find((x) => x.id === r.id);
    assert.ok(Math.abs(d.metric - (r.loss + 1)) < 1e-9, `${r.name}: ${d.metric} vs ${r.loss + 1}`);
  }
  assert.equal((await bestOf()).loss, bestLoss);
  assert.deepEqual(errors, []);
});

test('the table refreshes its rows while a run is running', async () => {
  await sweep();
  const api = (m, u, b) => callApi(server, m, u, b);
  const e = await api('POST', '/api/v1/experiments', { project: 'sweep', name: 'still-running', config: { lr: 0.5 } });
  await api('POST', `/api/v1/experiments/${e.id}/metrics`, { steps: [{ step: 0, values: { 'val/loss': 9 } }] });
  await page.goto(`${server.url}/projects/${project}?q=still-running&cols=val/loss`);
  assert.equal(await page.textContent('#live-table'), '· live');
  assert.equal(await page.textContent(`tr[data-id="${e.id}"] td:last-child .last`), '9');
  assert.equal(await page.textContent(`tr[data-id="${e.id}"] td:last-child .range`), '9 – 9');
  await api('POST', `/api/v1/experiments/${e.id}/metrics`, { steps: [{ step: 1, values: { 'val/loss': 4.5 } }] });
  await page.waitForFunction((id) => document.querySelector(`tr[data-id="${id}"] td:last-child .last`).textContent === '4.5', e.id, { timeout: 8000 });
  assert.equal(await page.textContent(`tr[data-id="${e.id}"] td:last-child .range`), '4.5 – 9');
  assert.deepEqual(errors, []);
});
