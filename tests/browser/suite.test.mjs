// Regression suites in a real browser against the stand-in provider (tests/llm/standin_provider.py,
// a test server): a suite made from an uploaded JSONL test set, a run on the base model
// from the page followed live to its verdict, a new version registered that runs the
// suite by itself, its diff (newly failing first), the tracking chart's points, 390 px
// and dark mode.
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
const data = async (method, url, body) => JSON.parse((await api(method, url, body)).text).data;

let suiteUrl = '';
let v2RunUrl = '';

test('a suite from a test set, run on the base from the page', async () => {
  standin = await startStandin();
  await page.goto(server.url + '/llm/suites');
  assert.match(await page.textContent('.empty'), /Add a model endpoint/);
  await api('POST', '/api/v1/llm/models', { name: 'base', api: 'openai', base_url: standin.url + '/v1', model: 'base-standin', api_key: 'sk-standin' });
  // The stand-in answers "<model>-standin heard: <prompt>": 10 cases pass everywhere,
  // 10 only on the base's answers.
  const lines = [];
  for (let i = 0; i < 20; i++) {
    lines.push(JSON.stringify({ prompt: `case ${i} #slow:30`, assertions: [{ type: 'contains', value: i < 10 ? 'heard' : 'base-standin' }] }));
  }
  const file = path.join(os.tmpdir(), `loupe-suite-${process.pid}.jsonl`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  await page.goto(server.url + '/llm/suites');
  await page.fill('#new-suite input[name=name]', 'support');
  await page.selectOption('#new-suite select[name=base_model_id]', { label: 'base' });
  await page.fill('#new-suite input[name=threshold]', '80');
  await page.setInputFiles('#new-suite input[name=file]', file);
  await page.waitForFunction(() => /20 cases/.test(document.querySelector('#suite-test-set-info').textContent));
  await Promise.all([page.waitForNavigation(), page.click('#new-suite button[type=submit]')]);
  fs.unlinkSync(file);
  suiteUrl = page.url();
  assert.match(await page.textContent('main'), /20 cases; passes when at least 80% pass; on demand; runs by itself on each new version of base/);
  assert.match(await page.textContent('.empty'), /No finished run yet/);
  await page.selectOption('#suite-run select[name=model_id]', { label: 'base' });
  await Promise.all([page.waitForNavigation(), page.click('#suite-run button[type=submit]')]);
  assert.match(page.url(), /\/llm\/suites\/\d+\/runs\/\d+$/);
  await page.waitForFunction(() => document.querySelector('#suite-progress')?.dataset.status === 'done', null, { timeout: 60000 });
  const verdict = await page.textContent('.verdict');
  assert.match(verdict, /20 of 20 cases passed: 100%/);
  assert.match(verdict, /threshold 80%:\s*pass/);
  assert.match(await page.textContent('#suite-run-live'), /No earlier finished run of this suite/);
  assert.deepEqual(errors, []);
});

test('a new version runs the suite by itself; its diff and the chart', async () => {
  await api('POST', '/api/v1/llm/models', { name: 'base-v2', api: 'openai', base_url: standin.url + '/v1', model: 'v2-standin', api_key: 'sk-standin', base_model_id: 1 });
  const suiteId = suiteUrl.split('/').pop();
  let runs = [];
  for (let i = 0; i < 200 && runs.length < 2; i++) {
    runs = (await data('GET', `/api/v1/suites/${suiteId}/runs`)).runs;
    if (runs.length < 2) await page.waitForTimeout(50);
  }
  assert.equal(runs[0].reason, 'new_version');
  v2RunUrl = `${server.url}/llm/suites/${suiteId}/runs/${runs[0].id}`;
  await page.goto(v2RunUrl);
  await page.waitForFunction(() => document.querySelector('#suite-progress')?.dataset.status === 'done', null, { timeout: 60000 });
  const live = await page.textContent('#suite-run-live');
  assert.match(live, /10 of 20 cases passed: 50%/);
  assert.match(live, /under threshold/);
  assert.match(live, /Against base: 20 of 20 passed \(100%\); change −?-?50\.0 pts/);
  const headings = await page.locator('#suite-run-live h2').allTextContents();
  assert.deepEqual(headings.map((h) => h.replace(/\s+/g, ' ')), ['Newly failing (10)', 'A/B: base-v2 against base']);
  // The statistics of the two runs on the same 20 cases: 10 discordant pairs, all for the
  // base (McNemar exact p = 2 x 0.5^10 = 0.002).
  const ab = await page.locator('#suite-ab tbody tr').first().textContent();
  assert.match(ab, /pass rate\s*20\s*100%\s*50%\s*-50\.0 pts/);
  assert.match(ab, /McNemar exact\s*0\.002/);
  assert.match(ab, /base better, significant/);
  assert.match(await page.locator('#suite-run-live tbody tr').first().textContent(), /11\s*case 10 #slow:30\s*contains/);
  await shot(page, 'suite-run-diff');
  await page.goto(suiteUrl);
  const titles = await page.locator('svg.suite-chart circle title').allTextContents();
  assert.deepEqual(titles, ['base: 100% (20 of 20 cases)', 'base-v2: 50% (10 of 20 cases)']);
  assert.equal(await page.locator('svg.suite-chart circle.missed').count(), 1);
  const versions = await page.locator('#suite-versions tbody tr').allTextContents();
  assert.match(versions[1], /base-v2\s*50%\s*10 of 20/);
  await shot(page, 'suite-chart');
  assert.deepEqual(errors, []);
});

test('suite pages fit 390 px and dark mode', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: 'dark' });
  for (const url of [suiteUrl, v2RunUrl, server.url + '/llm/suites']) {
    await page.goto(url);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, url + ': horizontal overflow ' + overflow);
  }
  await page.goto(suiteUrl);
  await shot(page, 'suite-390-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 900 });
  assert.deepEqual(errors, []);
});
