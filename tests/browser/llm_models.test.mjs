// The LLM endpoints page against the stand-in provider (tests/llm/standin_provider.py, a
// test server): the empty state, adding a model through the form (tested at once: the
// streaming badge is confirmed), a wrong key's precise message, removal, and 390 px.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { withServerAndPage, shot, startStandin as startStandinServer } from './harness.mjs';

let server, page;
const errors = [];
withServerAndPage(errors, (s, p) => { server = s; page = p; });

let standin = null;
let standinUrl = '';
async function startStandin() {
  if (standin) return;
  standin = await startStandinServer('sk-test');
  standinUrl = standin.url;
}
after(() => { if (standin) standin.stop(); });

async function addModel(fields) {
  await page.click('#add-model');
  for (const [k, v] of Object.entries(fields)) {
    if (k === 'api') await page.selectOption('#model-form select[name=api]', v);
    else if (k === 'base') await page.selectOption('#model-form select[name=base_model_id]', { label: v });
    else await page.fill(`#model-form [name=${k}]`, v);
  }
  await Promise.all([page.waitForNavigation(), page.click('#model-form button[type=submit]')]);
}

test('the empty state says how to start', async () => {
  await page.goto(server.url + '/llm/models');
  assert.match(await page.textContent('.empty'), /No models yet/);
  assert.equal(await page.getAttribute('header nav a.active', 'href'), '/llm/chat');
  assert.equal(await page.getAttribute('.llm-tabs a.active', 'href'), '/llm/models');
  assert.deepEqual(errors, []);
});

test('a model added through the form is tested at once and shows what the test found', async () => {
  await startStandin();
  await page.goto(server.url + '/llm/models');
  await addModel({ name: 'local-gpt', base_url: standinUrl + '/v1', model: 'gpt-standin', api_key: 'sk-test',
    price_input: '2.5', price_output: '10' });
  const row = page.locator('table.llm-models tbody tr', { hasText: 'local-gpt' });
  assert.match(await row.locator('.test-cell').textContent(), /ok\s+connected; streaming works/);
  assert.equal((await row.locator('.badge', { hasText: 'streaming' }).textContent()).trim(), 'streaming ✓');
  const cells = await row.locator('td').allTextContents();
  assert.equal(cells[3].trim(), '$2.5');
  assert.equal(cells[4].trim(), '$10');
  assert.equal(cells[2].trim(), 'set');  // a 7-character key: no hint
  assert.ok(!(await page.content()).includes('sk-test'));
  // Anthropic, fine-tuned from the first.
  await addModel({ api: 'anthropic', name: 'claude-ft', base_url: standinUrl, model: 'claude-standin', api_key: 'sk-test',
    base: 'local-gpt' });
  const ft = page.locator('tr', { hasText: 'claude-ft' });
  assert.match(await ft.locator('.test-cell').textContent(), /streaming works/);
  assert.equal((await ft.locator('td').first().textContent()).trim(), 'claude-ftfine-tuned from local-gpt');
  await shot(page, 'llm-models');
  assert.deepEqual(errors, []);
});

test('a wrong key and an unreachable host say what is wrong', async () => {
  await startStandin();
  await page.goto(server.url + '/llm/models');
  await addModel({ name: 'wrong-key', base_url: standinUrl + '/v1', model: 'gpt-standin', api_key: 'sk-wrong-key-1234' });
  const row = page.locator('tr', { hasText: 'wrong-key' });
  assert.match(await row.locator('.test-cell').textContent(), /failed\s+the provider refused the API key \(401\)/);
  assert.equal((await row.locator('td').nth(2).textContent()).trim(), '…1234');
  await addModel({ name: 'nobody', base_url: 'http://127.0.0.1:9/v1', model: 'm' });
  assert.match(await page.locator('tr', { hasText: 'nobody' }).locator('.test-cell').textContent(), /cannot connect to 127\.0\.0\.1:9/);
  // A bad field keeps the form open with the server's message.
  await page.click('#add-model');
  await page.fill('#model-form [name=name]', 'bad');
  await page.fill('#model-form [name=base_url]', 'ftp://x');
  await page.fill('#model-form [name=model]', 'm');
  await page.click('#model-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('model-error').textContent !== '');
  assert.match(await page.textContent('#model-error'), /must start with http:\/\/ or https:\/\//);
  // The browser logs the refused request (422) itself; nothing else may appear.
  assert.deepEqual(errors.filter((e) => !/status of 422/.test(e)), []);
  errors.length = 0;
});

test('editing a model: the form starts from it, a new key fixes it, prices change', async () => {
  await page.goto(server.url + '/llm/models');
  const row = page.locator('tr', { hasText: 'wrong-key' });
  await row.locator('.edit-model').click();
  assert.equal(await page.inputValue('#model-form [name=name]'), 'wrong-key');
  assert.equal(await page.inputValue('#model-form [name=base_url]'), standinUrl + '/v1');
  assert.equal(await page.textContent('#model-submit'), 'Save');
  assert.match(await page.getAttribute('#model-form [name=api_key]', 'placeholder'), /keep the stored key/);
  // A box sits on the line of its own words (it once floated above them).
  const box = await page.locator('#model-form [name=cap_tools]').boundingBox();
  const words = await page.locator('#model-form label', { hasText: 'tools' }).boundingBox();
  assert.ok(box.y >= words.y - 1 && box.y + box.height <= words.y + words.height + 1, JSON.stringify({ box, words }));
  assert.ok(box.x - words.x < 4, 'the box leads its label');
  await page.fill('#model-form [name=api_key]', 'sk-test');
  await page.fill('#model-form [name=price_input]', '3');
  await Promise.all([page.waitForNavigation(), page.click('#model-submit')]);
  const fixed = page.locator('tr', { hasText: 'wrong-key' });
  assert.match(await fixed.locator('.test-cell').textContent(), /ok\s+connected; streaming works/);
  assert.equal((await fixed.locator('td').nth(3).textContent()).trim(), '$3');
  assert.equal((await fixed.locator('td').nth(2).textContent()).trim(), 'set');  // the new, 7-character key
  const model = JSON.parse((await (await fetch(server.url + '/api/v1/llm/models', { headers: { Authorization: 'Bearer ' + server.token } })).text())).data
    .models.find((m) => m.name === 'wrong-key');
  assert.equal(model.price_input, 3);
  assert.equal(model.price_output, null);
  assert.deepEqual(errors, []);
});

test('removing a model, and the page at 390 px', async () => {
  await page.goto(server.url + '/llm/models');
  page.once('dialog', (d) => d.accept());
  await Promise.all([page.waitForNavigation(), page.locator('tr', { hasText: 'nobody' }).locator('.delete-model').click()]);
  assert.equal(await page.locator('tr', { hasText: 'nobody' }).count(), 0);
  const phone = await page.context().browser().newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  const p = await phone.newPage();
  await p.goto(server.url + '/login');
  await p.fill('input[name=token]', server.token);
  await p.click('text=Sign in with the token');
  await p.goto(server.url + '/llm/models');
  const width = await p.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 391, `the page is ${width} px wide`);
  await shot(p, 'llm-models-390');
  await phone.close();
  assert.deepEqual(errors, []);
});
