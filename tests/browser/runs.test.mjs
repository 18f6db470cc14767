// Managing runs from the pages: stop a live SDK run, edit its name, notes and tags,
// filter the table by tag and number, see why a run crashed, delete with confirmation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServerAndPage, logRun, idsOf, shot, callApi } from './harness.mjs';

let server, page;
const errors = [];
withServerAndPage(errors, (s, p) => { server = s; page = p; });

const api = (method, url, body) => callApi(server, method, url, body);

async function waitFor(fn, what, ms = 20000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out waiting for ' + what);
}

test('the stop button ends a live SDK run, whose script exits', async () => {
  const child = logRun(server.url, ['--mode', 'live', '--name', 'to-stop', '--seconds', '60'], { wait: false });
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const id = await waitFor(async () => {
    try { return (await idsOf(server, 'browser-demo')).experiments['to-stop']; } catch { return null; }
  }, 'the run to appear');
  await page.goto(`${server.url}/experiments/${id}`);
  page.once('dialog', (d) => d.accept());
  await page.click('#stop-run');
  await page.waitForFunction(() => document.getElementById('run-status').textContent === 'stopped');
  // KeyboardInterrupt ends Python by SIGINT.
  const { code, signal } = await Promise.race([exited, new Promise((_, rej) => setTimeout(() => rej(new Error('the script kept running')), 20000))]);
  assert.ok(code !== 0 || signal === 'SIGINT', `exit ${code} ${signal}`);
  assert.equal((await api('GET', `/api/v1/experiments/${id}`)).status, 'stopped');
  assert.equal(await page.locator('#stop-run').count(), 0);
  await shot(page, 'run-stopped');
});

test('edit sets name, notes and tags; a tag links to the filtered table', async () => {
  const a = await api('POST', '/api/v1/experiments', { project: 'manage-ui', name: 'first', config: { lr: 0.01 } });
  await api('POST', '/api/v1/experiments', { project: 'manage-ui', name: 'second', config: { lr: 0.1 } });
  await page.goto(`${server.url}/experiments/${a.id}`);
  assert.equal(await page.isVisible('#edit-form'), false);
  await page.click('#edit-run');
  await page.fill('#edit-form input[name=name]', 'first-renamed');
  await page.fill('#edit-form textarea[name=description]', 'warmup 500 steps');
  await page.fill('#edit-form input[name=tags]', 'best, resnet ,best');
  await shot(page, 'run-edit');
  await Promise.all([page.waitForEvent('load'), page.click('#edit-form button[type=submit]')]);
  assert.equal(await page.textContent('#run-name'), 'first-renamed');
  assert.equal(await page.textContent('#run-notes'), 'warmup 500 steps');
  assert.deepEqual(await page.locator('#run-tags .tag').allTextContents(), ['best', 'resnet']);
  // A refused edit says why and changes nothing.
  await page.click('#edit-run');
  await page.fill('#edit-form input[name=name]', 'second');
  await page.click('#edit-form button[type=submit]');
  await page.waitForFunction(() => /already named/.test(document.getElementById('edit-error').textContent));
  assert.match(errors.splice(0).join('\n'), /409/);  // the refused PATCH, as the browser logs it
  await page.click('#edit-cancel');
  await page.click('#run-tags .tag:has-text("best")');
  assert.match(decodeURIComponent(page.url()), /q=tag:"best"/);
  assert.deepEqual(await page.locator('table.experiments tbody td:nth-child(2) > a:first-child').allTextContents(), ['first-renamed']);
  await page.fill('input[name=q]', 'lr>0.05');
  await page.click('button:has-text("Apply")');
  assert.deepEqual(await page.locator('table.experiments tbody td:nth-child(2) > a:first-child').allTextContents(), ['second']);
  await page.fill('input[name=q]', 'lr>fast');
  await page.click('button:has-text("Apply")');
  assert.match(await page.textContent('#filter-error'), /'lr>fast': > compares numbers/);
  assert.equal(await page.inputValue('input[name=q]'), 'lr>fast');  // kept, to correct it
  assert.match(errors.splice(0).join('\n'), /422/);
  assert.deepEqual(errors, []);
});

test('a crashed run says where it crashed, on its page and in the table', async () => {
  const e = await api('POST', '/api/v1/experiments', { project: 'manage-ui', name: 'exploded' });
  await api('POST', `/api/v1/experiments/${e.id}/metrics`, { steps: [0, 1, 2, 41].map((s) => ({ step: s, values: { loss: 1 / (s + 1) } })) });
  await api('POST', `/api/v1/experiments/${e.id}/finish`, {
    status: 'crashed', error: 'Traceback (most recent call last):\n  File "train.py", line 9, in <module>\nRuntimeError: CUDA out of memory\n' });
  await page.goto(`${server.url}/experiments/${e.id}`);
  assert.match(await page.textContent('#crash-banner'), /Crashed at step 41\./);
  assert.match(await page.textContent('#run-error summary'), /RuntimeError: CUDA out of memory$/);
  await shot(page, 'run-crashed');
  await page.goto(`${server.url}/projects/${e.project_id}`);
  assert.equal(await page.textContent(`tr[data-id="${e.id}"] .crash-line`), 'RuntimeError: CUDA out of memory');
});

test('delete asks first, then removes the run; a project is renamed from its page', async () => {
  const e = await api('POST', '/api/v1/experiments', { project: 'manage-ui', name: 'doomed' });
  await page.goto(`${server.url}/experiments/${e.id}`);
  let asked = '';
  page.once('dialog', (d) => { asked = d.message(); d.dismiss(); });
  await page.click('#delete-run');
  assert.match(asked, /Delete the run "doomed"/);
  assert.equal((await api('GET', `/api/v1/experiments/${e.id}`)).name, 'doomed');  // dismissed: kept
  page.once('dialog', (d) => d.accept());
  await Promise.all([page.waitForURL(`${server.url}/projects/${e.project_id}`), page.click('#delete-run')]);
  assert.equal(await page.locator(`tr[data-id="${e.id}"]`).count(), 0);
  await page.click('#edit-project');
  await page.fill('#edit-form input[name=name]', 'manage-ui-renamed');
  await page.fill('#edit-form textarea[name=description]', 'runs of the management test');
  await Promise.all([page.waitForEvent('load'), page.click('#edit-form button[type=submit]')]);
  assert.equal(await page.textContent('h1'), 'manage-ui-renamed');
  assert.equal(await page.textContent('#project-notes'), 'runs of the management test');
  assert.deepEqual(errors, []);
});
