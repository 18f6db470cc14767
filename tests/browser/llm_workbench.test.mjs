// The LLM workbench in a real browser against the stand-in provider (tests/llm/
// standin_provider.py, a test server): two models, a conversation with streamed markdown
// answers, a switch of model, the same prompt sent to the other model, stop, thumbs, the
// Evaluate dialog with tags, predictions search, feedback shares, SFT and preference
// exports parsed line by line, 390 px and dark mode.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { withServerAndPage, shot, startStandin as startStandinServer, pageApi } from './harness.mjs';

let server, page;
const errors = [];
withServerAndPage(errors, (s, p) => { server = s; page = p; });

let standin = null;
let standinUrl = '';
async function startStandin() {
  if (standin) return;
  standin = await startStandinServer();
  standinUrl = standin.url;
}
after(() => { if (standin) standin.stop(); });

const api = (method, url, body) => pageApi(page, method, url, body);

let conversationUrl = '';

test('the chat list says to add a model first', async () => {
  await page.goto(server.url + '/llm/chat');
  assert.match(await page.textContent('.empty'), /No models to chat with yet/);
  assert.equal(await page.getAttribute('.llm-tabs a.active', 'href'), '/llm/chat');
  assert.deepEqual(errors, []);
});

test('chat with two models: stream, switch, compare, thumbs, evaluate', async () => {
  await startStandin();
  await page.goto(server.url + '/llm/models');
  const base = JSON.parse((await api('POST', '/api/v1/llm/models', { name: 'base', api: 'openai', base_url: standinUrl + '/v1',
    model: 'base-standin', api_key: 'sk-standin', price_input: 1, price_output: 2, capabilities: { streaming: true } })).text).data;
  await api('POST', '/api/v1/llm/models', { name: 'tuned', api: 'anthropic', base_url: standinUrl, model: 'tuned-standin', api_key: 'sk-standin',
    base_model_id: base.id, defaults: { max_tokens: 64 } });
  await page.goto(server.url + '/llm/chat');
  await page.fill('#new-conversation [name=title]', 'base vs tuned');
  await page.selectOption('#new-conversation [name=model_id]', { label: 'base' });
  await Promise.all([page.waitForNavigation(), page.click('#new-conversation button[type=submit]')]);
  conversationUrl = page.url();
  assert.match(await page.textContent('#thread-empty'), /No messages yet/);
  assert.match(await page.textContent('.chat-badges'), /streaming/);

  // A markdown answer: the stand-in echoes the prompt, so the prompt carries the markdown.
  await page.fill('#composer textarea', 'Show **bold** and `code` #slow:20');
  await page.click('#send');
  await page.waitForSelector('.answer[data-prediction]');
  const answer = page.locator('.answer').first();
  assert.equal(await answer.locator('.md strong').textContent(), 'bold');
  assert.equal(await answer.locator('.md code').textContent(), 'code');
  const metrics = await answer.locator('.metrics').textContent();
  // "Show **bold** and `code`" is 4 words + "Be..." none: the stand-in counts words.
  const pid = await answer.getAttribute('data-prediction');
  const p = JSON.parse((await api('GET', '/api/v1/llm/predictions/' + pid)).text).data;
  assert.match(metrics, new RegExp(`${p.prompt_tokens} in \\+ ${p.completion_tokens} out = ${p.total_tokens} tokens`));
  const cost = (p.prompt_tokens * 1 + p.completion_tokens * 2) / 1e6;
  assert.ok(Math.abs(p.cost_usd - cost) < 1e-15);
  assert.match(metrics, /TTFT [\d.]+ m?s · [\d.]+ m?s total/);
  assert.match(metrics, new RegExp('\\$' + cost.toPrecision(3).replace('.', '\\.')));

  // Switch the conversation's model and send again; then the first prompt to the other model.
  await page.selectOption('#composer-model', { label: 'tuned' });
  await page.fill('#composer textarea', 'second question');
  await page.click('#send');
  await page.waitForFunction(() => document.querySelectorAll('.answer[data-prediction]').length === 2);
  assert.match(await page.locator('.turn').nth(1).locator('.answer header').textContent(), /tuned/);
  const first = page.locator('.turn').first();
  // Under base's answer, the comparison starts at the model that has not answered.
  assert.equal(await first.locator('.resend-model option:checked').textContent(), 'tuned');
  await first.locator('.resend-model').selectOption({ label: 'tuned' });
  await first.locator('.resend-btn').click();
  await page.waitForFunction(() => document.querySelector('.turn').querySelectorAll('.answer[data-prediction]').length === 2);
  const names = await page.locator('.turn').first().locator('.answer header strong').allTextContents();
  assert.deepEqual(names, ['base', 'tuned']);
  assert.match(await page.locator('.turn').first().locator('.answer').nth(1).locator('.md').textContent(), /tuned-standin heard: Show bold and code/);

  // Stop a never-ending answer: what arrived is kept, marked cancelled.
  await page.fill('#composer textarea', 'wait forever #hang');
  await page.click('#send');
  await page.waitForSelector('#stop:not([hidden])');
  await page.waitForTimeout(300);
  await page.click('#stop');
  await page.waitForFunction(() => document.querySelectorAll('.turn').length === 3 &&
    document.querySelectorAll('.turn')[2].querySelector('.answer[data-prediction]'), null, { timeout: 15000 });
  assert.match(await page.locator('.turn').nth(2).locator('.answer header').textContent(), /cancelled/);

  // An error from the provider shows as an error, not as an answer.
  await page.fill('#composer textarea', 'fail please #fail:401x1');
  await page.click('#send');
  await page.waitForFunction(() => document.querySelectorAll('.turn').length === 4 &&
    document.querySelectorAll('.turn')[3].querySelector('.answer[data-prediction]'));
  const failed = page.locator('.turn').nth(3).locator('.answer');
  assert.equal(await failed.getAttribute('class'), 'answer failed');
  assert.match(await failed.locator('.error-box').textContent(), /401/);
  assert.equal(await failed.locator('.md').count(), 0);

  // Thumbs: one click, a second click takes it back.
  const firstAnswer = page.locator('.turn').first().locator('.answer').first();
  await firstAnswer.locator('.thumb[data-up="false"]').click();
  await page.waitForFunction(() => document.querySelector('.answer .thumb[data-up="false"]').getAttribute('aria-pressed') === 'true');
  // Evaluate the tuned answer: stars, tags, expected behaviour, groundedness, a citation.
  await page.locator('.turn').first().locator('.answer').nth(1).locator('.evaluate-btn').click();
  await page.waitForSelector('dialog#evaluate[open]');
  await page.check('#evaluate-form input[name=stars][value="2"]');
  await page.check('#evaluate-form input[name=success][value="false"]');
  await page.check('#evaluate-form input[name=failure_tags][value="hallucination"]');
  await page.check('#evaluate-form input[name=failure_tags][value="format_issues"]');
  await page.fill('#evaluate-form [name=expected]', 'Show **bold** and `code`.');
  await page.check('#evaluate-form [name=rate_groundedness]');
  await page.fill('#evaluate-form [name=groundedness]', '30');
  await page.click('#add-citation');
  await page.fill('#citations input[name=citation_source]', 'https://docs.example/md');
  await page.selectOption('#citations select', 'false');
  await shot(page, 'llm-evaluate');
  await page.click('#evaluate-form button[type=submit]');
  await page.waitForSelector('dialog#evaluate:not([open])', { state: 'attached' });
  const evaluated = page.locator('.turn').first().locator('.answer').nth(1);
  await page.waitForFunction(() => document.querySelector('.turn').querySelectorAll('.answer')[1].querySelector('.stars-given'));
  assert.equal((await evaluated.locator('.stars-given').textContent()).trim(), '2 ★');
  assert.deepEqual(await evaluated.locator('.tag.failure').allTextContents(), ['format_issues', 'hallucination']);
  // Reopening shows what was saved.
  await evaluated.locator('.evaluate-btn').click();
  await page.waitForSelector('dialog#evaluate[open]');
  assert.equal(await page.isChecked('#evaluate-form input[name=failure_tags][value="hallucination"]'), true);
  assert.equal(await page.inputValue('#evaluate-form [name=groundedness]'), '30');
  assert.equal(await page.inputValue('#citations input'), 'https://docs.example/md');
  await page.click('#evaluate-cancel');

  // The latency history: one chart per model, its median from the API's numbers.
  await page.waitForFunction(() => document.querySelectorAll('.latency-chart').length === 2);
  const caption = await page.locator('.latency-chart[data-model="' + base.id + '"] figcaption').textContent();
  const rows = JSON.parse((await api('GET', `/api/v1/llm/predictions?model_id=${base.id}&outcome=ok&limit=50`)).text).data.predictions;
  const lat = rows.map((r) => r.latency_ms).sort((a, b) => a - b);
  const mid = Math.floor(lat.length / 2);
  const median = lat.length % 2 ? lat[mid] : (lat[mid - 1] + lat[mid]) / 2;
  const fmt = median < 10 ? median.toFixed(2) + ' ms' : median < 100 ? median.toFixed(1) + ' ms' : median < 999.5 ? median.toFixed(0) + ' ms' : (median / 1000).toFixed(2) + ' s';
  assert.equal(caption.split(':')[1].split(' total')[0].trim(), 'median ' + fmt);
  assert.match(caption, new RegExp(`last ${rows.length} answered calls`));
  // The legend names both lines.
  const legend = await page.locator('.latency-chart[data-model="' + base.id + '"] .u-legend').textContent();
  assert.match(legend, /total/);
  assert.match(legend, /first token/);
  await shot(page, 'llm-chat');
  assert.deepEqual(errors, []);
});

test('predictions search, feedback shares and the training exports', async () => {
  await page.goto(server.url + '/llm/predictions');
  const total = JSON.parse((await api('GET', '/api/v1/llm/predictions')).text).data.total;
  assert.equal(await page.textContent('#prediction-total'), String(total));
  await page.fill('#prediction-filters [name=q]', 'second');
  await Promise.all([page.waitForNavigation(), page.click('#prediction-filters button[type=submit]')]);
  assert.equal(new URL(page.url()).search, '?q=second');  // empty filters are left out
  assert.equal(await page.textContent('#prediction-total'), '1');
  assert.match(await page.locator('table.predictions tbody tr').first().textContent(), /second question/);
  await page.goto(server.url + '/llm/predictions?tag=hallucination');
  assert.equal(await page.textContent('#prediction-total'), '1');
  await page.goto(server.url + '/llm/predictions?rating=maybe');
  assert.match(await page.textContent('.error-box'), /'rating' must be one of up, down, rated, unrated/);
  errors.length = 0;  // the 422 of that page

  // Open one: everything recorded, and its judgments.
  await page.goto(server.url + '/llm/predictions?tag=hallucination');
  await Promise.all([page.waitForNavigation(), page.locator('table.predictions tbody a').first().click()]);
  assert.match(await page.textContent('main'), /hallucination/);
  assert.match(await page.textContent('main'), /expected: Show \*\*bold\*\* and `code`\./);
  await shot(page, 'llm-prediction');

  // Feedback: tuned has one evaluation, tagged hallucination and format_issues: 100 % each.
  await page.goto(server.url + '/llm/feedback');
  const tuned = page.locator('table.feedback-table tbody tr', { hasText: 'tuned' });
  const shares = await tuned.locator('.tag-bars li').allTextContents();
  assert.deepEqual(shares.map((s) => s.replace(/\s+/g, ' ').trim()), ['hallucination 100% (1)', 'format_issues 100% (1)']);
  const baseRow = page.locator('table.feedback-table tbody tr', { hasText: 'base' });
  const cells = await baseRow.locator('td').allTextContents();
  assert.equal(cells[2].trim(), '0');  // good
  assert.equal(cells[3].trim(), '1');  // bad
  assert.match(cells[4], /0%\s*95% CI 0%–79.3%/);  // Wilson for 0 of 1
  // The counts lead to the predictions behind them.
  const baseId = JSON.parse((await api('GET', '/api/v1/llm/models')).text).data.models.find((m) => m.name === 'base').id;
  assert.equal(await baseRow.locator('td').nth(3).locator('a').getAttribute('href'), `/llm/predictions?model_id=${baseId}&rating=down`);
  assert.match(await tuned.locator('.tag-bars a', { hasText: 'hallucination' }).getAttribute('href'), /tag=hallucination/);
  await page.waitForSelector('.trend-chart[data-ticks]');
  // The trend's days are UTC days, the same in a New York browser.
  const utcTicks = await page.getAttribute('.trend-chart', 'data-ticks');
  const ny = await page.context().browser().newContext({ viewport: { width: 1400, height: 900 }, timezoneId: 'America/New_York' });
  await ny.addCookies(await page.context().cookies());
  const nyPage = await ny.newPage();
  await nyPage.goto(server.url + '/llm/feedback');
  await nyPage.waitForSelector('.trend-chart[data-ticks]');
  assert.equal(await nyPage.getAttribute('.trend-chart', 'data-ticks'), utcTicks);
  const today = new Date().toISOString().slice(0, 10);
  assert.ok(JSON.parse(utcTicks).some((l) => l === today || l.startsWith(today.slice(5))), utcTicks);
  await ny.close();
  const judgmentsCsv = (await api('GET', await page.getAttribute('.toolbar a[href*="format=csv"]', 'href'))).text;
  assert.equal(judgmentsCsv.trim().split('\n').length, 1 + 2);  // the header, base's thumbs down, tuned's evaluation
  await shot(page, 'llm-feedback');

  // Exports from the predictions page's links, parsed line by line.
  await page.goto(server.url + '/llm/predictions');
  const links = Object.fromEntries(await page.$$eval('.exports a', (as) => as.map((a) => [a.textContent, a.getAttribute('href')])));
  const sftText = (await api('GET', links['SFT (OpenAI messages)'])).text;
  const sft = sftText.trim().split('\n').map((l) => JSON.parse(l));
  // Base's answer was rated down without a correction: no example. Tuned's corrected answer
  // and its answer to the second question are.
  assert.equal(sft.length, 2, sftText);
  assert.ok(!sft.some((ex) => ex.messages.at(-1).content === 'base-standin heard: Show **bold** and `code`'), sftText);
  for (const ex of sft) assert.equal(ex.messages.at(-1).role, 'assistant');
  assert.ok(sft.some((ex) => ex.messages.at(-1).content === 'Show **bold** and `code`.'));  // the correction
  const sharegpt = (await api('GET', links['SFT (ShareGPT)'])).text.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(sharegpt.length, sft.length);
  assert.equal(sharegpt[0].conversations.at(-1).from, 'gpt');
  const trl = (await api('GET', links['Preferences (TRL)'])).text.trim().split('\n').map((l) => JSON.parse(l));
  // The base answer was rated down and tuned's has a correction: the correction against each.
  assert.equal(trl.length, 1);
  assert.equal(trl[0].chosen[0].content, 'Show **bold** and `code`.');
  assert.equal(trl[0].rejected[0].content, 'tuned-standin heard: Show **bold** and `code`');
  const dpo = (await api('GET', links['Preferences (OpenAI DPO)'])).text.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(Object.keys(dpo[0]).sort(), ['input', 'non_preferred_output', 'preferred_output']);
  const csv = (await api('GET', links.CSV)).text;
  assert.ok(csv.startsWith('id,time,model_id,model_name,outcome'));

  // Save the preference pairs as a dataset and open it.
  await page.selectOption('#save-dataset [name=kind]', 'preferences');
  await page.fill('#save-dataset [name=name]', 'chat-preferences');
  await page.click('#save-dataset button[type=submit]');
  await page.waitForSelector('#save-dataset-result a');
  assert.equal(await page.textContent('#save-dataset-result a'), 'chat-preferences (1 row)');
  await shot(page, 'llm-save-dataset');
  await Promise.all([page.waitForNavigation(), page.click('#save-dataset-result a')]);
  const datasetPage = await page.textContent('main');
  for (const column of ['prompt', 'chosen', 'rejected']) assert.match(datasetPage, new RegExp(column));
  assert.match(datasetPage, /Show \*\*bold\*\* and `code`\./);
  // A name left empty is the browser's to refuse; a filter that matches nothing is the server's.
  // Nothing matches: nothing to export or save, so no such controls.
  await page.goto(server.url + '/llm/predictions?q=nothingmatchesthis');
  assert.equal(await page.locator('#save-dataset').count(), 0);
  assert.equal(await page.locator('.exports').count(), 0);
  // Only a failed call matches: the server says there is nothing to learn from.
  await page.goto(server.url + '/llm/predictions?q=fail');
  assert.equal(await page.textContent('#prediction-total'), '1');
  await page.fill('#save-dataset [name=name]', 'empty');
  await page.click('#save-dataset button[type=submit]');
  await page.waitForSelector('#save-dataset-result.error-text:not(:empty)');
  assert.match(await page.textContent('#save-dataset-result'), /no answered calls match the filter/);
  errors.length = 0;  // the 422 of that save
  assert.deepEqual(errors, []);
});

test('the chat fits 390 px and dark mode', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(conversationUrl);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, 'horizontal overflow ' + overflow);
  const bg = await page.evaluate(() => getComputedStyle(document.querySelector('.answer')).backgroundColor);
  assert.notEqual(bg, 'rgb(255, 255, 255)');
  await shot(page, 'llm-chat-390-dark');
  await page.goto(server.url + '/llm/predictions');
  await shot(page, 'llm-predictions-390-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 900 });
  assert.deepEqual(errors, []);
});
