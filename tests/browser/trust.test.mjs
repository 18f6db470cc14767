// A messy CSV as a newcomer brings it, in headless Chromium: the upload names every bad
// row and one click keeps the rest (the skipped rows downloadable); a retype that
// would fail turns what it cannot convert into missing values; the wizard leaves the
// id out and shows the class balance; one click trains every model into a leaderboard
// with the baseline ranked among them; the prediction form offers drop-downs and warns
// about an unseen city and blank inputs; a file's predictions download as CSV.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { withServerAndPage, shot } from './harness.mjs';

let server, page;
const errors = [];
withServerAndPage(errors, (s, p) => { server = s; page = p; });

// 300 customers: an id, a city, a plan, a spend with one "three" in it, a yes/no target
// that follows the plan and spend; and three rows that cannot be read.
function messyCsv() {
  const cities = ['Lisbon', 'Porto', 'Braga'], plans = ['basic', 'plus', 'pro'];
  let out = 'customer_id,city,plan,monthly_spend,churn\n';
  for (let i = 0; i < 300; i++) {
    const spend = 10 + (i * 7) % 90;
    const churn = (plans[i % 3] === 'basic' && spend > 40) ? 'yes' : 'no';
    out += `C${String(i + 1).padStart(4, '0')},${cities[i % 3]},${plans[i % 3]},${i === 17 ? 'three' : spend},${churn}\n`;
    if (i === 50) out += 'C9999,Porto\n';
    if (i === 120) out += 'C9998,Porto,pro,12,no,extra\n';
    if (i === 200) out += 'C9997,"Porto"x,pro,12,no\n';
  }
  return out;
}

test('messy CSV: skip bad rows, coerce, guess, leaderboard, predict with warnings, CSV download', async () => {
  await page.goto(server.url + '/datasets');
  await page.setInputFiles('#upload-file', { name: 'customers.csv', mimeType: 'text/csv', buffer: Buffer.from(messyCsv()) });
  errors.length = 0;
  await Promise.all([
    page.waitForFunction(() => /3 bad rows: line 53: expected 5 fields, found 2; line 124: expected 5 fields, found 6; line 205: column 2: unexpected character/.test(document.getElementById('upload-status').textContent)),
    page.click('#upload-form button[type=submit]'),
  ]);
  errors.length = 0;  // Chromium logs the refused POST
  assert.equal(await page.isVisible('#upload-skip-retry'), true);
  await Promise.all([page.waitForURL(/\/datasets\/\d+$/), page.click('#upload-skip-retry')]);
  assert.match(await page.textContent('main'), /300 rows/);
  assert.match(await page.textContent('#bad-rows summary'), /3 row\(s\) left out/);
  await page.click('#bad-rows summary');
  assert.deepEqual(await page.$$eval('#bad-rows tbody td.num', (t) => t.map((x) => x.textContent)), ['53', '124', '205']);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#bad-rows a[download]')]);
  const skipped = fs.readFileSync(await download.path(), 'utf8');
  assert.equal(skipped, 'customer_id,city,plan,monthly_spend,churn\nC9999,Porto\nC9998,Porto,pro,12,no,extra\nC9997,"Porto"x,pro,12,no\n');
  await shot(page, 'dataset-bad-rows');

  // "three" keeps monthly_spend from being numeric; converting anyway makes it missing.
  const spendType = 'select.coltype[data-column=monthly_spend]';
  assert.notEqual(await page.inputValue(spendType), 'numeric');
  await Promise.all([page.waitForSelector('#coerce-retry'), page.selectOption(spendType, 'numeric')]);
  errors.length = 0;
  assert.match(await page.textContent('#type-status'), /row 18: "three" is not a numeric value/);
  await Promise.all([page.waitForNavigation(), page.click('#coerce-retry')]);
  assert.equal(await page.inputValue(spendType), 'numeric');
  assert.match(await page.textContent('tr[data-column=monthly_spend]'), /1 value\(s\) did not convert and are missing/);

  // The wizard: the id is left out, the balance shown, the tabular task chosen.
  await Promise.all([page.waitForURL(/\/sessions\?dataset=\d+$/), page.click('a[href^="/sessions?dataset="]')]);
  await page.waitForFunction(() => /Suggested: TabularClassification/.test(document.getElementById('s-guess').textContent));
  assert.equal(await page.inputValue('#s-output'), 'churn');
  assert.deepEqual(await page.$$eval('#s-inputs input:checked', (b) => b.map((x) => x.value)), ['city', 'plan', 'monthly_spend']);
  assert.match(await page.textContent('#s-guess'), /Left out: customer_id — an id \(300 of 300 values distinct\)/);
  const balance = await page.$$eval('#s-guess .balance-row', (rows) => rows.map((r) => r.textContent));
  const churn = messyCsv().split('\n').slice(1).filter((l) => l.split(',').length === 5 && !l.includes('"Porto"x')).map((l) => l.split(',')[4]);
  const yes = churn.filter((c) => c === 'yes').length, no = churn.filter((c) => c === 'no').length;
  assert.deepEqual(balance, [`no${no} (${(100 * no / 300).toFixed(1)}%)`, `yes${yes} (${(100 * yes / 300).toFixed(1)}%)`]);
  await shot(page, 'session-guess');
  await Promise.all([page.waitForURL(/\/sessions\/\d+$/), page.click('#session-form button[type=submit]')]);

  // One click: every tabular model with its defaults, ranked, with the baseline.
  await Promise.all([page.waitForNavigation(), page.click('#train-all')]);
  await page.waitForFunction(() => [...document.querySelectorAll('table.runs .badge')].length === 3 &&
    [...document.querySelectorAll('table.runs .badge')].every((b) => b.dataset.status === 'FINISHED'), null, { timeout: 120000 });
  await page.reload();
  const ranks = await page.$$eval('#leaderboard tbody tr:not(.baseline-row) td:first-child', (t) => t.map((x) => x.textContent));
  assert.equal(ranks.length, 3);
  assert.equal(ranks[0], '1');
  assert.match(await page.textContent('#leaderboard tr.baseline-row'), /Baseline: always the majority class "no"/);
  await shot(page, 'session-leaderboard');

  // The best run: drop-downs, warnings for an unseen city and blank inputs, CSV download.
  await Promise.all([page.waitForURL(/\/runs\/\d+$/), page.click('#leaderboard tbody tr:not(.baseline-row) a')]);
  assert.deepEqual(await page.$$eval('select[data-column=plan] option', (o) => o.map((x) => x.value)), ['', 'basic', 'plus', 'pro']);
  await page.selectOption('select[data-column=plan]', 'basic');
  await page.fill('[data-column=monthly_spend]', '80');
  await page.click('#predict-form button[type=submit]');
  await page.waitForSelector('#predict-warnings');
  assert.match(await page.textContent('#predict-warnings'), /city blank in 1 row\(s\): predicted as missing/);
  await page.click('#predict-form details summary');
  await page.setInputFiles('#predict-file', { name: 'new.csv', mimeType: 'text/csv',
    buffer: Buffer.from('customer_id,city,plan,monthly_spend\nN1,Tokyo,basic,80\nN2,Porto,pro,-5\n') });
  await page.click('#predict-form button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('table.predictions td.prediction').length === 2);
  assert.match(await page.textContent('#predict-warnings'), /city: "Tokyo" not seen in training \(1 row\(s\)\)/);
  const shown = await page.$$eval('table.predictions td.prediction', (t) => t.map((x) => x.textContent));
  const [csvFile] = await Promise.all([page.waitForEvent('download'), page.click('#predict-csv')]);
  const lines = fs.readFileSync(await csvFile.path(), 'utf8').trim().split('\r\n');
  // LinearSVM gives no probabilities; the others one column per class.
  assert.match(lines[0], /^customer_id,city,plan,monthly_spend,predicted_churn,(probability no,probability yes,)?warnings$/);
  assert.deepEqual(lines.slice(1).map((l) => l.split(',')[4]), shown);
  assert.match(lines[1], /^N1,Tokyo,basic,80,/);
  assert.match(lines[2], /^N2,Porto,pro,-5,/);
  await shot(page, 'run-predict-warnings');
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, 'run-predict-warnings-390');
  await page.setViewportSize({ width: 1400, height: 900 });
  assert.deepEqual(errors, []);
});
