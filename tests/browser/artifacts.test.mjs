// Artifacts and the registry in the browser: the list, a version's facts (counts and
// sizes checked against the files logged), lineage links both ways, adding an alias,
// registering a model and promoting it, the zip download, the run page's artifact card,
// and the pages at 390 px.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import { withServerAndPage, idsOf, shot, root } from './harness.mjs';

let server, page;
const errors = [];
withServerAndPage(errors, (s, p) => { server = s; page = p; });

function logArtifact(url) {
  const env = { ...process.env, PYTHONPATH: path.join(root, 'sdk', 'python'), PYTHONDONTWRITEBYTECODE: '1', LOUPE_QUIET: '1' };
  const child = spawn('/usr/bin/python3', [path.join(root, 'tests', 'browser', 'log_artifact.py'), '--host', url],
    { env, stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((resolve, reject) => child.once('exit', (c) => (c === 0 ? resolve() : reject(new Error('log_artifact exited ' + c)))));
}

const cells = (sel) => page.$$eval(sel, (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent.trim())));

test('empty states explain how to start', async () => {
  await page.goto(server.url + '/artifacts');
  assert.match(await page.textContent('.empty'), /No artifacts yet/);
  assert.match(await page.textContent('#artifact-snippet'), /log_artifact/);
  await page.goto(server.url + '/registry');
  assert.match(await page.textContent('.empty'), /No registered models yet/);
  assert.deepEqual(errors, []);
});

test('a logged artifact: list, version facts, lineage and the run page', async () => {
  await logArtifact(server.url);
  const ids = await idsOf(server, 'artifact-demo');
  await page.goto(server.url + '/artifacts');
  const rows = await cells('table.artifacts tbody tr');
  assert.deepEqual(rows.map((r) => r.slice(0, 5)), [['ckpt', 'model', '1', 'v0', '2.0 KiB']]);
  await page.click('text=ckpt');
  assert.deepEqual((await cells('table.artifact-versions tbody tr')).map((r) => r.slice(0, 4)),
    [['v0', 'latest best', '2', '2.0 KiB']]);
  await page.click('table.artifact-versions >> text=v0');
  assert.equal(await page.textContent('#file-count'), '2');
  assert.equal(await page.textContent('#version-size'), '2.0 KiB');
  assert.equal(await page.getAttribute('#version-size', 'title'), '2048 bytes');
  assert.equal(await page.textContent('#produced-by a'), 'producer');
  assert.equal(await page.getAttribute('#produced-by a', 'href'), `/experiments/${ids.experiments.producer}`);
  assert.equal(await page.textContent('#used-by a'), 'consumer');
  assert.deepEqual(JSON.parse(await page.textContent('#metadata')), { val_acc: 0.875 });
  assert.deepEqual((await cells('table.artifact-files tbody tr')).map((r) => r.slice(0, 2)),
    [['notes.txt', '512 B'], ['weights.bin', '1.5 KiB']]);
  await shot(page, 'artifact-version');
  // The producing run's page lists what it logged; the consumer's what it used.
  await page.goto(`${server.url}/experiments/${ids.experiments.producer}`);
  await page.waitForSelector('#run-artifacts:not([hidden])');
  assert.deepEqual(await cells('table.artifacts-of-run tbody tr'), [['ckpt:v0', 'model', 'latest, best', '2.0 KiB', 'logged']]);
  await page.goto(`${server.url}/experiments/${ids.experiments.consumer}`);
  await page.waitForSelector('#run-artifacts:not([hidden])');
  assert.equal((await cells('table.artifacts-of-run tbody tr'))[0][4], 'used');
  assert.deepEqual(errors, []);
});

test('the zip downloads every file under the version folder', async () => {
  await page.goto(server.url + '/artifacts/ckpt/latest');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-zip')]);
  assert.equal(download.suggestedFilename(), 'ckpt-v0.zip');
  const file = await download.path();
  const bytes = fs.readFileSync(file);
  assert.equal(bytes.subarray(0, 2).toString(), 'PK');
  const names = bytes.toString('latin1').match(/ckpt-v0\/[a-z.]+/g);
  assert.ok(names.includes('ckpt-v0/weights.bin') && names.includes('ckpt-v0/notes.txt'), names.join());
});

test('alias, register, promote: the registry shows where each alias points', async () => {
  await page.goto(server.url + '/artifacts/ckpt/v0');
  await page.fill('#alias-form input[name=alias]', 'golden');
  await Promise.all([page.waitForNavigation(), page.click('#alias-form button')]);
  assert.match(await page.textContent('#version-aliases'), /golden/);
  await page.fill('#alias-form input[name=alias]', 'latest');
  await page.click('#alias-form button');
  await page.waitForFunction(() => document.getElementById('artifact-status').textContent.includes('names a version'));
  // The browser logs the refused request (422) as a console error: that one was asked for.
  assert.deepEqual(errors.splice(0).map((e) => /status of 422/.test(e)), [true]);
  assert.equal(await page.inputValue('#register-form input[name=model]'), 'ckpt');  // a model: its name offered
  await page.fill('#register-form input[name=model]', 'digits');
  await page.fill('#register-form input[name=aliases]', 'staging');
  await Promise.all([page.waitForURL('**/registry/digits'), page.click('#register-form button')]);
  assert.deepEqual((await cells('table.model-versions tbody tr')).map((r) => r.slice(0, 5)),
    [['v0', 'latest staging', 'ckpt:v0 model', 'val_acc 0.875', '2.0 KiB']]);
  await page.fill('form.set-alias input[name=alias]', 'production');
  await Promise.all([page.waitForNavigation(), page.click('form.set-alias button')]);
  assert.equal((await page.textContent('#model-aliases')).replace(/\s+/g, ' ').trim(), 'production → v0 × staging → v0 ×');
  assert.match(await page.textContent('#use-snippet'), /use_model\("digits:production"\)/);
  await shot(page, 'registered-model');
  await page.goto(server.url + '/registry');
  assert.deepEqual((await cells('table.models tbody tr')).map((r) => r.slice(0, 3)),
    [['digits', '1', 'production: v0 staging: v0']]);
  await page.goto(server.url + '/artifacts/ckpt/v0');
  assert.equal(await page.textContent('#registered-as a'), 'digits:v0');
  assert.deepEqual(errors, []);
});

test('artifact and registry pages fit 390 px', async () => {
  const phone = await page.context().browser().newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  const p = await phone.newPage();
  await p.goto(server.url + '/login');
  await p.fill('input[name=token]', server.token);
  await p.click('text=Sign in with the token');
  const overflow = [];
  for (const url of ['/artifacts', '/artifacts/ckpt', '/artifacts/ckpt/v0', '/registry', '/registry/digits', '/artifacts/nope', '/registry/nope']) {
    await p.goto(server.url + url);
    const width = await p.evaluate(() => document.documentElement.scrollWidth);
    if (width > 391) overflow.push(`${url}: ${width}px`);
  }
  await p.goto(server.url + '/artifacts/ckpt/v0');
  await shot(p, 'phone-artifact-version');
  await phone.close();
  assert.deepEqual(overflow, []);
});
