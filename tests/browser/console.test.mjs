// The console page shows a log as the terminal did: ANSI colours as colours, progress-bar
// redraws resolved, each line's time, warnings classed as warnings, and the whole log as
// a download without escape codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { withServerAndPage, shot, callApi } from './harness.mjs';

let server, page;
const errors = [];
withServerAndPage(errors, (s, p) => { server = s; page = p; });

test('colours, redraws, times, warnings and the download', async () => {
  const api = (method, url, body) => callApi(server, method, url, body);
  const e = await api('POST', '/api/v1/experiments', { project: 'console-ui', name: 'noisy' });
  const t0 = Date.UTC(2026, 10, 30, 14, 5, 9) / 1000;
  await api('POST', `/api/v1/experiments/${e.id}/console`, { lines: [
    { text: '\x1b[1;32mepoch 1\x1b[0m done', ts: t0 },
    { stream: 'stderr', text: ' 10%|#         |\r 50%|#####     |\r100%|##########|', ts: t0 + 1 },
    { stream: 'stderr', text: '/x/train.py:17: UserWarning: learning rate looks high', ts: t0 + 2 },
    { text: '\x1b[31mred\x1b[39m and \x1b[2Kplain', ts: t0 + 3 },
  ] });
  const context = page.context();
  const tzPage = await (await context.browser().newContext({ timezoneId: 'UTC', acceptDownloads: true })).newPage();
  tzPage.on('pageerror', (err) => errors.push(err.message));
  await tzPage.goto(server.url + '/login');
  await tzPage.fill('input[name=token]', server.token);
  await tzPage.click('text=Sign in with the token');
  await tzPage.goto(`${server.url}/experiments/${e.id}/console`);
  await tzPage.waitForSelector('.line[data-line="4"]');
  const green = tzPage.locator('.line[data-line="1"] span.f2.b');
  assert.equal(await green.textContent(), 'epoch 1');
  assert.equal(await tzPage.locator('.line[data-line="1"] .ts').textContent(), '14:05:09');
  assert.equal((await tzPage.locator('.line[data-line="2"]').textContent()).replace(/^2\d\d:\d\d:\d\d/, ''), '100%|##########|');
  assert.equal(await tzPage.locator('.line[data-line="4"] span.f1').textContent(), 'red');
  assert.match(await tzPage.locator('.line[data-line="4"]').textContent(), /red and plain$/);
  assert.doesNotMatch(await tzPage.textContent('#console'), /\x1b|\[0m|\[1;32m/);
  assert.match(await tzPage.getAttribute('.line[data-line="3"]', 'class'), /\bwarn\b/);
  await tzPage.selectOption('#level', 'warning');
  await tzPage.waitForFunction(() => /1 of 4 lines/.test(document.getElementById('line-count').textContent));
  await shot(tzPage, 'console-colours');
  const [download] = await Promise.all([tzPage.waitForEvent('download'), tzPage.click('#download-log')]);
  assert.equal(download.suggestedFilename(), 'noisy-console.log');
  const text = fs.readFileSync(await download.path(), 'utf8');
  assert.equal(text, 'epoch 1 done\n100%|##########|\n/x/train.py:17: UserWarning: learning rate looks high\nred and plain\n');
  await tzPage.context().close();
  assert.deepEqual(errors, []);
});
