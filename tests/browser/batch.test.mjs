// Batch tests in a real browser against the stand-in provider (tests/llm/standin_provider.py,
// a test server): a JSONL test set uploaded, a run against two models with live progress,
// the per-model summary, the A/B section, a failed check's reason, cancel and resume,
// 390 px and dark mode.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withServerAndPage, shot, startStandin, pageApi } from './harness.mjs';

let server, page;
const errors = [];
withServerAndPage(errors, (s, p) => { server = s; page = p; });

let standin = null;
after(() => { if (standin) standin.stop(); });

const api = (method, url, body) => pageApi(page, method, url, body);

let runUrl = '';

test('a JSONL test set against two models, with live progress', async () => {
  standin = await startStandin();
  await page.goto(server.url + '/llm/batch');
  assert.match(await page.textContent('.empty'), /Add a model endpoint/);
  await api('POST', '/api/v1/llm/models', { name: 'base', api: 'openai', base_url: standin.url + '/v1', model: 'base-standin', api_key: 'sk-standin', price_input: 1, price_output: 2 });
  await api('POST', '/api/v1/llm/models', { name: 'tuned', api: 'openai', base_url: standin.url + '/v1', model: 'tuned-standin', api_key: 'sk-standin' });
  const lines = [];
  for (let i = 0; i < 30; i++) {
    lines.push(JSON.stringify({ prompt: `question ${i} #slow:40`, expected: 'heard', assertions: [{ type: 'contains', value: i % 3 === 0 ? 'banana' : 'heard' }] }));
  }
  const file = path.join(os.tmpdir(), `loupe-batch-${process.pid}.jsonl`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  await page.goto(server.url + '/llm/batch');
  await page.setInputFiles('#new-batch input[name=file]', file);
  await page.waitForFunction(() => /30 cases/.test(document.querySelector('#test-set-info').textContent));
  await page.check('#new-batch input[name=model_ids] >> nth=0');
  await page.check('#new-batch input[name=model_ids] >> nth=1');
  await page.fill('#new-batch input[name=concurrency]', '4');
  // A judge can be picked here (none by default: this run is judged in the API tests).
  assert.deepEqual(await page.locator('#new-batch select[name=judge_model_id] option').allTextContents(), ['no judge', 'base', 'tuned']);
  await Promise.all([page.waitForNavigation(), page.click('#new-batch button[type=submit]')]);
  runUrl = page.url();
  fs.unlinkSync(file);
  // Live: part of the answers first, then all, without a reload.
  const first = Number(await page.getAttribute('#batch-progress progress', 'value'));
  assert.ok(first < 60, 'answers still coming at first: ' + first);
  assert.equal(await page.isVisible('#batch-cancel'), true);
  await shot(page, 'batch-running');
  await page.waitForFunction(() => document.querySelector('#batch-answered')?.textContent === '60 of 60 answers', null, { timeout: 60000 });
  assert.equal(await page.textContent('#batch-status'), 'done');
  assert.equal(await page.isVisible('#batch-cancel'), false);
  // 10 of 30 cases ask for "banana": 20 pass per model.
  const summary = await page.locator('#batch-summary tbody tr').allTextContents();
  assert.equal(summary.length, 2);
  for (const row of summary) assert.match(row, /30\s*0\s*0\s*20\s*66\.7%/);
  // Two models: the A/B section, pass rates paired by case (both pass the same 20).
  const abRow = await page.locator('#batch-ab tbody tr').first().textContent();
  assert.match(abRow, /pass rate\s*30\s*66\.7%\s*66\.7%\s*\+0\.0 pts/);
  assert.match(abRow, /McNemar exact.*no detectable difference with n = 30/);
  assert.match(await page.textContent('#batch-ab-arms'), /base\s*30\s*20\s*66\.7%\s*48\.8% – 80\.8%/);
  const firstRow = page.locator('#batch-results tbody tr').first();
  assert.match(await firstRow.textContent(), /fail/);
  assert.match(await firstRow.locator('.check-failed').textContent(), /contains/);
  const csv = (await api('GET', runUrl.replace('/llm/batch/', '/api/v1/batches/') + '/export?format=csv')).text.trim().split('\n');
  assert.equal(csv.length, 61);
  await shot(page, 'batch-done');
  assert.deepEqual(errors, []);
});

test('cancel and resume from the page', async () => {
  const cases = Array.from({ length: 12 }, (_, i) => ({ prompt: `slow ${i} #slow:150` }));
  const models = JSON.parse((await api('GET', '/api/v1/llm/models')).text).data.models;
  const run = JSON.parse((await api('POST', '/api/v1/batches', { model_ids: [models[0].id], cases, concurrency: 1, cache: false })).text).data;
  await page.goto(server.url + '/llm/batch/' + run.id);
  await page.click('#batch-cancel');
  await page.waitForFunction(() => document.querySelector('#batch-status')?.textContent === 'cancelled');
  assert.equal(await page.isVisible('#batch-resume'), true);
  await page.click('#batch-resume');
  await page.waitForFunction(() => document.querySelector('#batch-status')?.textContent === 'done', null, { timeout: 60000 });
  assert.equal(await page.textContent('#batch-answered'), '12 of 12 answers');
  assert.deepEqual(errors, []);
});

test('batch pages fit 390 px and dark mode', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: 'dark' });
  for (const url of [runUrl, server.url + '/llm/batch']) {
    await page.goto(url);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, url + ': horizontal overflow ' + overflow);
  }
  await page.goto(runUrl);
  await shot(page, 'batch-390-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 900 });
  assert.deepEqual(errors, []);
});
