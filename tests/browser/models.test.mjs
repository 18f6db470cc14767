// The no-code flow in headless Chromium: upload a CSV, explore it, create a session
// with the wizard, train runs from generated parameter forms (one with a search),
// compare them, open a run with its confusion matrix and search plots, and predict.
// Then the same for text: the SpamAssassin sample with fastText, predicting new e-mails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServerAndPage, shot } from './harness.mjs';

let server, page;
const errors = [];
withServerAndPage(errors, (s, p) => { server = s; page = p; });

// Two well separated groups the models must learn: y is "high" when a + b > 10.
function csv() {
  let out = 'a,b,shade,label\n';
  for (let i = 0; i < 240; i++) {
    const a = (i * 37) % 11, b = (i * 53) % 13;
    out += `${a},${b},${['red', 'green', 'blue'][i % 3]},${a + b > 10 ? 'high' : 'low'}\n`;
  }
  return out;
}

async function waitForRunStatus(status, name) {
  await page.waitForFunction(([s, n]) => [...document.querySelectorAll('table.runs tr[data-run]')]
    .some((tr) => tr.textContent.includes(n) && tr.querySelector('.badge').dataset.status === s), [status, name], { timeout: 120000 });
}

test('upload, explore, create a session, train, search, compare and predict', async () => {
  await page.goto(server.url + '/datasets');
  await page.setInputFiles('#upload-file', { name: 'sums.csv', mimeType: 'text/csv', buffer: Buffer.from(csv()) });
  await Promise.all([page.waitForURL(/\/datasets\/\d+$/), page.click('#upload-form button[type=submit]')]);

  // Explore: a scatter of a against b coloured by label, drawn by Plotly.
  await page.waitForFunction(() => document.querySelectorAll('#e-type option').length === 7);
  await page.selectOption('#e-type', 'ScatterPlotExplorer');
  await page.check('#e-columns input[value=a]');
  await page.check('#e-columns input[value=b]');
  await page.selectOption('#e-color', 'label');
  await page.click('#explore-form button[type=submit]');
  await page.waitForSelector('.exploration .plot .main-svg', { timeout: 30000 });
  assert.equal(await page.locator('.exploration .plot .scatterlayer .trace').count(), 2);  // high and low
  await page.selectOption('#e-type', 'DescribeExplorer');
  await page.click('#explore-form button[type=submit]');
  await page.waitForSelector('.exploration .result table', { timeout: 30000 });
  await shot(page, 'dataset-explore');

  // The wizard: the label column is guessed as the output; every other column is an input.
  await Promise.all([page.waitForURL(/\/sessions\?dataset=\d+$/), page.click('a[href^="/sessions?dataset="]')]);
  await page.waitForFunction(() => /Suggested:/.test(document.getElementById('s-guess').textContent));
  assert.equal(await page.inputValue('#s-output'), 'label');
  assert.equal(await page.inputValue('#s-task'), 'TabularClassification');
  assert.deepEqual(await page.$$eval('#s-inputs input:checked', (b) => b.map((x) => x.value)), ['a', 'b', 'shade']);
  // A broken split is refused with the server's message, nothing is created.
  await page.fill('#s-train', '0.5');
  await page.click('#session-form button[type=submit]');
  await page.waitForFunction(() => /splits must add up to 1/.test(document.getElementById('session-status').textContent));
  errors.length = 0;  // Chromium logs the refused POST
  await page.fill('#s-train', '0.7');
  await page.fill('#s-seed', '7');
  await Promise.all([page.waitForURL(/\/sessions\/\d+$/), page.click('#session-form button[type=submit]')]);
  assert.match(await page.textContent('main'), /predicts label from 3 column\(s\)/);

  // A run from the generated XGBoost form.
  await page.waitForSelector('#r-params tr[data-name=max_depth]');
  await page.fill('#p-n_estimators', '30');
  await page.fill('#r-name', 'xgb-30');
  await page.click('#run-form button[type=submit]');
  await waitForRunStatus('FINISHED', 'xgb-30');

  // The generated form carries the schema's range, so the browser refuses a bad C.
  await page.$eval('#new-run', (d) => { d.open = true; });
  await page.selectOption('#r-model', 'LogisticRegression');
  await page.waitForSelector('#r-params tr[data-name=C]');
  await page.fill('#p-C', '-1');
  assert.equal(await page.$eval('#p-C', (e) => e.validity.rangeUnderflow), true);
  await page.fill('#p-C', '1');
  await page.fill('#r-name', 'logreg');
  await page.click('#run-form button[type=submit]');
  await waitForRunStatus('FINISHED', 'logreg');

  // A search: dlib over max_depth and learning_rate, 12 trials. Bounds the wrong way
  // round are refused by the server, by name.
  await page.$eval('#new-run', (d) => { d.open = true; });
  await page.selectOption('#r-model', 'XGBoostClassifier');
  await page.selectOption('#r-optimizer', 'DlibGlobalOptimizer');
  await page.waitForSelector('#o-n_trials');
  await page.fill('#o-n_trials', '12');
  await page.check('tr[data-name=max_depth] input.optimize');
  await page.fill('tr[data-name=max_depth] input.lower', '5');
  await page.fill('tr[data-name=max_depth] input.upper', '2');
  await page.click('#run-form button[type=submit]');
  await page.waitForFunction(() => /max_depth: lower_bound \(5\) must be below upper_bound \(2\)/.test(document.getElementById('run-status').textContent));
  errors.length = 0;  // Chromium logs the refused POST
  await page.fill('tr[data-name=max_depth] input.lower', '1');
  await page.fill('tr[data-name=max_depth] input.upper', '6');
  await page.check('tr[data-name=learning_rate] input.optimize');
  await page.fill('#p-n_estimators', '20');
  await page.fill('#r-name', 'xgb-search');
  await page.click('#run-form button[type=submit]');
  await waitForRunStatus('FINISHED', 'xgb-search');
  await shot(page, 'session-runs');

  // A long search, cancelled from the runs table: it stops (ERROR "cancelled while
  // running") or, if no worker had it yet, goes back to NOT_STARTED.
  await page.$eval('#new-run', (d) => { d.open = true; });
  await page.selectOption('#r-optimizer', 'RandomSearchOptimizer');
  await page.waitForSelector('#o-n_trials');
  await page.fill('#o-n_trials', '1000');
  await page.check('tr[data-name=max_depth] input.optimize');
  await page.fill('#p-n_estimators', '3000');
  await page.fill('#r-name', 'long');
  await page.click('#run-form button[type=submit]');
  await page.waitForSelector('table.runs tr:has-text("long") button.cancel-job');
  await page.click('table.runs tr:has-text("long") button.cancel-job');
  await page.waitForFunction(() => [...document.querySelectorAll('table.runs tr[data-run]')]
    .some((tr) => tr.textContent.includes('long') && /^(ERROR|NOT_STARTED)$/.test(tr.querySelector('.badge').dataset.status)), null, { timeout: 30000 });

  // Sorting by a metric column, then comparing two runs' experiments.
  await page.click('table.runs th:has-text("test Accuracy")');
  await page.check('table.runs tr:has-text("xgb-30") input.pick');
  await page.check('table.runs tr:has-text("logreg") input.pick');
  await Promise.all([page.waitForURL(/\/compare\?ids=/), page.click('#compare-runs')]);
  assert.match(await page.textContent('main'), /xgb-30/);
  await page.goBack();

  // The search run: metrics per split, confusion matrix, four Plotly figures, trials.
  await Promise.all([page.waitForURL(/\/runs\/\d+$/), page.click('table.runs a:has-text("xgb-search")')]);
  assert.match(await page.textContent('table.metrics'), /Accuracy/);
  assert.equal(await page.locator('table.confusion').first().locator('tbody tr').count(), 2);
  for (const kind of ['history', 'slice', 'contour', 'importance']) {
    await page.waitForSelector(`#plot-${kind} .main-svg`, { timeout: 30000 });
  }
  assert.equal(await page.locator('table.trials tbody tr').count(), 12);
  assert.equal(await page.locator('table.trials tr.best').count(), 1);
  // Predict from the generated input fields.
  await page.fill('[data-column=a]', '9');
  await page.fill('[data-column=b]', '9');
  await page.selectOption('select[data-column=shade]', 'red');  // a category: a drop-down
  await page.click('#predict-form button[type=submit]');
  await page.waitForSelector('table.predictions td.prediction');
  assert.equal(await page.textContent('table.predictions td.prediction'), 'high');
  await page.click('#predict-form details summary');
  await page.fill('#predict-json', '[{"a": 0, "b": 1}, {"a": 10, "b": 12}]');
  await page.click('#predict-form button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('table.predictions td.prediction').length === 2);
  assert.deepEqual(await page.$$eval('table.predictions td.prediction', (t) => t.map((x) => x.textContent)), ['low', 'high']);
  // ... and a file of rows.
  await page.fill('#predict-json', '');
  await page.setInputFiles('#predict-file', { name: 'new.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b,shade\n1,1,red\n9,9,blue\n10,10,green\n') });
  await page.click('#predict-form button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('table.predictions td.prediction').length === 3);
  assert.deepEqual(await page.$$eval('table.predictions td.prediction', (t) => t.map((x) => x.textContent)), ['low', 'high', 'high']);
  await shot(page, 'run-search');
  assert.deepEqual(errors, []);
});

test('text: SpamAssassin with fastText predicts a new e-mail', async () => {
  await page.goto(server.url + '/datasets');
  await Promise.all([page.waitForURL(/\/datasets\/\d+$/, { timeout: 60000 }), page.click('button.sample[data-sample="spam_assassin"]')]);
  await page.selectOption('#e-type', 'WordFrequencyExplorer');
  await page.click('#explore-form button[type=submit]');
  await page.waitForSelector('.exploration .plot .main-svg', { timeout: 60000 });
  await Promise.all([page.waitForURL(/\/sessions\?dataset=\d+$/), page.click('a[href^="/sessions?dataset="]')]);
  await page.waitForFunction(() => /Suggested:/.test(document.getElementById('s-guess').textContent));
  assert.equal(await page.inputValue('#s-task'), 'TextClassification');
  assert.equal(await page.inputValue('#s-output'), 'label');
  await page.uncheck('#s-inputs input[value=group]').catch(() => {});
  assert.deepEqual(await page.$$eval('#s-inputs input:checked', (b) => b.map((x) => x.value)), ['text']);
  await Promise.all([page.waitForURL(/\/sessions\/\d+$/), page.click('#session-form button[type=submit]')]);
  await page.waitForSelector('#r-params tr[data-name=epoch]');
  assert.equal(await page.inputValue('#r-model'), 'FastTextClassifier');
  await page.click('#run-form button[type=submit]');
  await waitForRunStatus('FINISHED', 'FastTextClassifier');
  await Promise.all([page.waitForURL(/\/runs\/\d+$/), page.click('table.runs a:has-text("FastTextClassifier")')]);
  await page.fill('textarea[data-column=text]', 'Subject: You WON a FREE cash prize!!! Click here now to claim your money');
  await page.click('#predict-form button[type=submit]');
  await page.waitForSelector('table.predictions td.prediction');
  assert.equal(await page.textContent('table.predictions td.prediction'), 'spam');
  assert.match(await page.textContent('table.predictions'), /spam \d+(\.\d+)?%/);
  await shot(page, 'run-fasttext');
  // Delete the run (after a confirmation): back on its session, with no runs left.
  page.once('dialog', (d) => d.accept());
  await Promise.all([page.waitForURL(/\/sessions\/\d+$/), page.click('button.delete-run')]);
  assert.match(await page.textContent('.empty'), /No runs yet/);
  assert.deepEqual(errors, []);
});
