// Signing in as a new user would, in headless Chromium: a page asks for sign-in, the
// token form signs in and returns to the page asked for, the Access page shows a new token
// once and revokes it, sign-out ends the session, and another origin's form changes nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, launch, newPage, shot } from './harness.mjs';

let server, chrome, page;
const errors = [];

before(async () => {
  server = await startServer();
  chrome = await launch();
  page = await newPage(chrome.browser, errors);  // not signed in
});
after(async () => {
  if (chrome) await chrome.close();
  if (server) await server.stop();
});

test('a page asks for sign-in and returns to itself after it', async () => {
  await page.goto(server.url + '/datasets?page=1');
  assert.equal(new URL(page.url()).pathname, '/login');
  assert.match(await page.textContent('main'), /loupe login-link --data-dir DIR/);
  await shot(page, 'sign-in');
  await page.fill('input[name=token]', 'loupe_wrong');
  await page.click('text=Sign in with the token');
  assert.match(await page.textContent('.error-box'), /API token is not valid/);
  await page.fill('input[name=token]', server.token);
  await page.click('text=Sign in with the token');
  assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, '/datasets?page=1');
  assert.match(await page.textContent('h1'), /Datasets/);
});

test('the Access page shows a new token once and revokes it', async () => {
  await page.goto(server.url + '/access');
  assert.match(await page.textContent('main'), /Signed in as local \(admin\)/);
  assert.equal(await page.locator('table.tokens tbody tr').count(), 1);  // the local token
  await page.fill('input[name=label]', 'laptop');
  await page.click('text=Create a token');
  const token = (await page.textContent('pre.token')).trim();
  assert.match(token, /^loupe_[A-Za-z0-9_-]{43}$/);
  await shot(page, 'access-new-token');
  const me = await fetch(server.url + '/api/v1/auth/me', { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(me.status, 200);
  await page.reload();  // the creation was a redirect: a reload neither shows nor makes another
  assert.equal(await page.locator('pre.token').count(), 0);
  assert.equal(await page.locator('table.tokens tbody tr', { hasText: 'laptop' }).count(), 1);
  assert.ok(!(await page.content()).includes(token));
  const row = page.locator('table.tokens tbody tr', { hasText: 'laptop' });
  assert.match(await row.textContent(), new RegExp('…' + token.slice(-4)));
  await row.locator('button', { hasText: 'Revoke' }).click();
  await page.waitForURL(/\/access$/);
  assert.equal(await page.locator('table.tokens tbody tr', { hasText: 'laptop' }).count(), 0);
  assert.equal((await fetch(server.url + '/api/v1/auth/me', { headers: { Authorization: `Bearer ${token}` } })).status, 401);
  assert.match(await page.textContent('table.audit'), /POST \/access\/tokens/);
});

test('an admin stores, replaces and deletes a secret on the Access page, never seeing it again', async () => {
  await page.goto(server.url + '/access');
  assert.match(await page.textContent('#secrets ~ .empty'), /No secrets stored yet/);
  await page.fill('#secret-form input[name=name]', 'bad name');
  await page.fill('#secret-form input[name=value]', 'x');
  // The browser's own pattern check stops it; the server's check is the API's (name rules).
  assert.equal(await page.locator('#secret-form input[name=name]:invalid').count(), 1);
  await page.fill('#secret-form input[name=name]', 's3-minio');
  await page.fill('#secret-form input[name=value]', 'AKIAEXAMPLE:wJalrXUtnFEMIK7MDENG');
  await page.click('text=Store the secret');
  await page.waitForURL(/\/access#secrets$/);
  const row = page.locator('table.secrets tbody tr', { hasText: 's3-minio' });
  assert.match(await row.textContent(), /…DENG/);  // the last four characters, no more
  assert.ok(!(await page.content()).includes('wJalrXUtnFEMIK7MDENG'));
  await shot(page, 'access-secret');
  // Stored again: replaced, still one row.
  await page.fill('#secret-form input[name=name]', 's3-minio');
  await page.fill('#secret-form input[name=value]', 'AKIAEXAMPLE:anotherSecretValueWXYZ');
  await page.click('text=Store the secret');
  await page.waitForURL(/\/access#secrets$/);
  assert.equal(await page.locator('table.secrets tbody tr').count(), 1);
  assert.match(await row.textContent(), /…WXYZ/);
  const listed = await (await fetch(server.url + '/api/v1/secrets', { headers: { Authorization: `Bearer ${server.token}` } })).json();
  assert.deepEqual(listed.data.secrets.map((s) => s.name), ['s3-minio']);
  await row.locator('button', { hasText: 'Delete' }).click();
  await page.waitForURL(/\/access#secrets$/);
  assert.equal(await page.locator('table.secrets tbody tr').count(), 0);
});

test('a form on another local origin cannot stop or delete a run', async () => {
  const created = await fetch(server.url + '/api/v1/experiments', {
    method: 'POST', headers: { ...server.headers, 'Content-Type': 'application/json' }, body: '{"project": "p"}' });
  const id = (await created.json()).data.id;
  // The attacker's page: another port on the same machine, so the same site.
  const evil = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'text/html');
    res.end(`<img src="${server.url}/api/v1/experiment/${id}/stop">
      <form id=f method=post action="${server.url}/api/v1/experiments" enctype="text/plain">
      <input name='{"project": "injected", "x' value='": 1}'></form><script>document.getElementById('f').submit()</script>`);
  });
  await new Promise((r) => evil.listen(0, '127.0.0.1', r));
  try {
    await page.goto(`http://127.0.0.1:${evil.address().port}/`);
    await page.waitForLoadState('load');
    await page.waitForTimeout(500);
  } finally {
    evil.close();
  }
  const exp = await (await fetch(`${server.url}/api/v1/experiments/${id}`, { headers: server.headers })).json();
  assert.equal(exp.data.status, 'running');
  const projects = await (await fetch(server.url + '/api/v1/projects', { headers: server.headers })).json();
  assert.ok(!projects.data.projects.some((p) => p.name === 'injected'));
  errors.length = 0;  // the refused image and form are logged as failed requests
});

test('sign-out ends the session', async () => {
  await page.goto(server.url + '/projects');
  await page.click('header form.signout button');
  await page.waitForURL(/\/login$/);
  await page.goto(server.url + '/projects');
  assert.equal(new URL(page.url()).pathname, '/login');
  assert.deepEqual(errors, []);
});
