// The dataset pages in headless Chromium: upload with the progress bar, an error for
// a malformed file, a type override, a sample import, paging and delete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServerAndPage, shot } from './harness.mjs';

let server, page;
const errors = [];
withServerAndPage(errors, (s, p) => { server = s; page = p; });

test('upload a CSV, override a type, page through the preview', async () => {
  await page.goto(server.url + '/datasets');
  assert.match(await page.textContent('.empty'), /No datasets yet/);
  let csv = 'city,temp,rainy\n';
  for (let i = 0; i < 120; i++) csv += `${['Oslo', 'Lima', 'Pune'][i % 3]},${(i * 0.7).toFixed(1)},${i % 2 ? 'yes' : 'no'}\n`;
  await page.setInputFiles('#upload-file', { name: 'weather.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await Promise.all([page.waitForURL(/\/datasets\/\d+$/), page.click('#upload-form button[type=submit]')]);
  assert.match(await page.textContent('h1'), /weather/);
  assert.match(await page.textContent('main'), /120 rows · 3 columns/);
  assert.equal(await page.inputValue('select.coltype[data-column="temp"]'), 'numeric');
  assert.equal(await page.inputValue('select.coltype[data-column="rainy"]'), 'boolean');
  assert.equal(await page.locator('table.preview tbody tr').count(), 50);
  await shot(page, 'dataset');
  await Promise.all([page.waitForLoadState('load'), page.selectOption('select.coltype[data-column="temp"]', 'text')]);
  await page.waitForFunction(() => document.querySelector('select.coltype[data-column="temp"]').value === 'text');
  // A conversion that cannot work is refused with the row named, and nothing changes.
  await page.selectOption('select.coltype[data-column="city"]', 'numeric');
  await page.waitForFunction(() => /row 1: "Oslo" is not a numeric value/.test(document.getElementById('type-status').textContent));
  await page.click('.pager a[rel=next]');
  assert.match(await page.textContent('.pager'), /Page 2 of 3 \(120 total\)/);
  assert.equal(await page.textContent('table.preview tbody tr:first-child td:first-child'), '51');
  assert.deepEqual(errors.filter((e) => !e.includes('422')), []);
  errors.length = 0;  // the refused PATCH is logged by Chromium as a failed request
});

test('a file over 64 KiB uploads: its body is read once the access checks pass on its headers', async () => {
  await page.goto(server.url + '/datasets');
  let csv = 'id,value,label\n';
  for (let i = 0; i < 6000; i++) csv += `${i},${(i * 0.25).toFixed(2)},${i % 3 ? 'a' : 'b'}\n`;
  assert.ok(csv.length > 64 * 1024);
  await page.setInputFiles('#upload-file', { name: 'large.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await Promise.all([page.waitForURL(/\/datasets\/\d+$/), page.click('#upload-form button[type=submit]')]);
  assert.match(await page.textContent('main'), /6000 rows · 3 columns/);
});

test('a malformed file is refused with its line and column', async () => {
  await page.goto(server.url + '/datasets');
  await page.setInputFiles('#upload-file', { name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b\n1,"2\n') });
  await page.click('#upload-form button[type=submit]');
  await page.waitForFunction(() => /1 bad row: line 2: column 2: unterminated quoted field/.test(document.getElementById('upload-status').textContent));
  await shot(page, 'datasets-upload-error');
  errors.length = 0;  // the 422 response is logged as a failed resource
});

test('import a sample and delete it', async () => {
  await page.goto(server.url + '/datasets');
  await Promise.all([page.waitForURL(/\/datasets\/\d+$/), page.click('button.sample[data-sample="iris"]')]);
  assert.match(await page.textContent('main'), /150 rows · 5 columns/);
  assert.match(await page.textContent('tr[data-column="species"]'), /3 distinct/);
  await shot(page, 'dataset-iris');
  page.once('dialog', (d) => d.accept());
  await Promise.all([page.waitForURL(/\/datasets$/), page.click('#delete-dataset')]);
  assert.doesNotMatch(await page.textContent('main'), />iris</);
  assert.deepEqual(errors, []);
});

test('clean a copy step by step: fill, filter, drop; the copy lists what each step did', async () => {
  const csv = 'name,age,city\nAda,36,London\nAlan,,London\nGrace,85,\nEdsger,72,Austin\nLinus,,Helsinki\n';
  await page.goto(server.url + '/datasets');
  await page.setInputFiles('#upload-file', { name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await Promise.all([page.waitForURL(/\/datasets\/\d+$/), page.click('#upload-form button[type=submit]')]);
  const original = page.url();
  assert.equal(await page.isDisabled('#c-make'), true);
  // Fill missing ages with the median (72), keep ages >= 50, drop rows without a city, drop city.
  await page.selectOption('#c-op', 'fill_missing');
  await page.selectOption('#c-column', 'age');
  await page.selectOption('#c-with', 'median');
  assert.equal(await page.isVisible('#c-value'), false);
  await page.click('#c-add');
  await page.selectOption('#c-op', 'filter_rows');
  await page.selectOption('#c-column', 'age');
  await page.selectOption('#c-test', '>=');
  await page.fill('#c-value', '50');
  await page.click('#c-add');
  await page.selectOption('#c-op', 'drop_missing');
  await page.selectOption('#c-column', 'city');
  await page.click('#c-add');
  await page.selectOption('#c-op', 'drop_columns');
  await page.selectOption('#c-column', 'name');
  await page.click('#c-add');
  assert.deepEqual(await page.$$eval('#c-steps li', (lis) => lis.map((li) => li.firstChild.textContent.trim())),
    ['fill missing age with the median', 'keep rows where age >= 50', 'drop rows missing a value in city', 'drop name']);
  await page.click('#c-steps li:last-child button');  // remove the last step again
  assert.equal(await page.locator('#c-steps li').count(), 3);
  await shot(page, 'dataset-clean-steps');
  await Promise.all([page.waitForURL((u) => /\/datasets\/\d+$/.test(u) && u.toString() !== original), page.click('#c-make')]);
  assert.match(await page.textContent('h1'), /people-cleaned/);
  assert.match(await page.textContent('main'), /3 rows · 3 columns/);
  assert.deepEqual(await page.$$eval('#cleaning-record li', (lis) => lis.map((li) => li.textContent)),
    ['fill missing age with the median (72) — 2 cells filled', 'keep rows where age >= 50 — 1 row removed, 4 left',
      'drop rows missing a value in city — 1 row removed']);
  assert.deepEqual(await page.$$eval('table.preview tbody tr', (trs) => trs.map((tr) => tr.children[1].textContent)), ['Alan', 'Edsger', 'Linus']);
  await shot(page, 'dataset-cleaned-copy');
  // A step that cannot apply is named, and nothing is made.
  await page.selectOption('#c-op', 'fill_missing');
  await page.selectOption('#c-column', 'city');
  await page.selectOption('#c-with', 'mean');
  await page.click('#c-add');
  await page.click('#c-make');
  await page.waitForFunction(() => /step 1: the mean needs numbers: city is text/.test(document.getElementById('clean-status').textContent));
  assert.deepEqual(errors.filter((e) => !e.includes('422')), []);
  errors.length = 0;  // Chromium logs the refused POST as a failed resource
});
