// The comparison lab in a real browser against the stand-in provider (tests/llm/
// standin_provider.py, a test server): a blind comparison of a base and a fine-tuned
// model on 20 prompts with live progress, ratings that survive a reload, a preference in
// every row, position bias, reveal, DPO pairs downloaded and parsed, the leaderboard,
// 390 px and dark mode.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { withServerAndPage, shot, startStandin, pageApi } from './harness.mjs';

let server, page;
const errors = [];
withServerAndPage(errors, (s, p) => { server = s; page = p; });

let standin = null;
after(() => { if (standin) standin.stop(); });

const api = (method, url, body) => pageApi(page, method, url, body);

let comparisonUrl = '';

test('the lab asks for two models first', async () => {
  await page.goto(server.url + '/llm/compare');
  assert.match(await page.textContent('.empty'), /needs at least two models/);
  assert.equal(await page.getAttribute('.llm-tabs a.active', 'href'), '/llm/compare');
  assert.deepEqual(errors, []);
});

test('a blind comparison of 20 prompts: progress, rate, prefer, reveal, export', async () => {
  standin = await startStandin();
  await api('POST', '/api/v1/llm/models', { name: 'base', api: 'openai', base_url: standin.url + '/v1', model: 'base-standin', api_key: 'sk-standin' });
  await api('POST', '/api/v1/llm/models', { name: 'tuned', api: 'openai', base_url: standin.url + '/v1', model: 'tuned-standin', api_key: 'sk-standin' });
  await page.goto(server.url + '/llm/compare');
  await page.check('#new-comparison input[name=model_ids] >> nth=0');
  await page.check('#new-comparison input[name=model_ids] >> nth=1');
  // Answers a token every 60 ms, so the progress is seen moving.
  const prompts = Array.from({ length: 20 }, (_, i) => `Explain **topic ${i}** briefly #slow:60`);
  await page.fill('#new-comparison textarea[name=prompts]', prompts.join('\n'));
  assert.equal(await page.textContent('#prompt-count'), '20 prompts');
  await Promise.all([page.waitForNavigation(), page.click('#new-comparison button[type=submit]')]);
  comparisonUrl = page.url();
  assert.match(comparisonUrl, /\/llm\/compare\/\d+$/);
  // Live progress: part of the answers, then all of them, without reloading.
  const first = await page.getAttribute('#compare-summary progress', 'value');
  assert.ok(Number(first) < 40, 'answers still coming at first: ' + first);
  await page.waitForFunction(() => document.querySelector('#answered-text')?.textContent === '40 of 40 answers', null, { timeout: 30000 });
  assert.equal(await page.getAttribute('#compare-summary progress', 'value'), '40');
  assert.equal(await page.locator('.compare-row').count(), 20);
  // Blind: labels only, markdown rendered, no names or numbers.
  const row = page.locator('.compare-row').first();
  assert.deepEqual(await row.locator('.cell-label').allTextContents(), ['A', 'B']);
  assert.equal(await row.locator('.cell-model').count(), 0);
  assert.equal(await row.locator('.metrics').count(), 0);
  assert.equal(await row.locator('.md strong').first().textContent(), 'topic 0');
  await shot(page, 'compare-blind-grid');

  // A rating is saved and comes back after a reload.
  // Listen before acting: the save and the grid's refresh can finish before a listener
  // added afterwards is in place.
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/grid')),
    row.locator('.compare-cell').first().locator('select[data-criterion=overall]').selectOption('4'),
  ]);
  await page.reload();
  assert.equal(await page.locator('.compare-row').first().locator('.compare-cell').first()
    .locator('select[data-criterion=overall]').inputValue(), '4');

  // Prefer the right-hand answer in every row.
  for (let i = 0; i < 20; i++) {
    const r = page.locator('.compare-row').nth(i);
    await r.locator('button.prefer').nth(1).click();
    await page.waitForFunction((n) => document.querySelectorAll('.compare-row')[n].classList.contains('decided'), i);
  }
  assert.equal(await page.textContent('#decided-text'), '20 of 20 rows decided');
  assert.match(await page.textContent('#bias-text'), /A 0 \(0%\) B 20 \(100%\) of 20; binomial test p < 0\.001/);
  assert.match(await page.locator('.compare-row').first().locator('.decided-text').textContent(), /Preferred answer B/);

  // The DPO pairs: one per decided row, the right-hand answer chosen.
  const id = comparisonUrl.split('/').pop();
  const dpo = (await api('GET', `/api/v1/comparisons/${id}/preferences?format=openai`)).text.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(dpo.length, 20);
  const rightTexts = await page.locator('.compare-row .compare-cell:nth-child(2) .md').allTextContents();
  assert.equal(dpo[0].preferred_output[0].content.replace(/\*\*/g, ''), rightTexts[0].trim());
  assert.match(dpo[0].input.messages[0].content, /topic 0/);

  // Reveal: names and numbers appear.
  page.once('dialog', (d) => d.accept());
  await Promise.all([page.waitForNavigation(), page.click('#reveal')]);
  const names = await page.locator('.compare-row').first().locator('.cell-model').allTextContents();
  assert.deepEqual([...names].sort(), ['base', 'tuned']);
  assert.match(await page.locator('.compare-row').first().locator('.metrics').first().textContent(), /m?s · first token .* tokens/);
  assert.equal(await page.locator('#reveal').count(), 0);
  await shot(page, 'compare-revealed');
  assert.deepEqual(errors, []);
});

test('the leaderboard shows the decisions', async () => {
  await page.goto(server.url + '/llm/compare/leaderboard');
  const rows = await page.locator('#ratings tbody tr').count();
  assert.equal(rows, 2);
  const battles = await page.locator('#battle-counts tbody tr').first().locator('td').allTextContents();
  assert.deepEqual(battles, ['—', '20']);
  await shot(page, 'compare-leaderboard');
  assert.deepEqual(errors, []);
});

test('the lab fits 390 px and dark mode', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: 'dark' });
  for (const url of [comparisonUrl, server.url + '/llm/compare', server.url + '/llm/compare/leaderboard']) {
    await page.goto(url);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, url + ': horizontal overflow ' + overflow);
  }
  await page.goto(comparisonUrl);
  const bg = await page.evaluate(() => getComputedStyle(document.querySelector('.compare-cell')).backgroundColor);
  assert.notEqual(bg, 'rgb(255, 255, 255)');
  await shot(page, 'compare-390-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 900 });
  assert.deepEqual(errors, []);
});
