// Shared pieces of the browser tests: a real `loupe serve` on a port it picks (--port 0), the SDK
// logging real runs into it, and headless Debian Chromium driven by playwright-core.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '..', '..');
export const artifacts = process.env.LOUPE_ARTIFACTS || path.join(root, 'build', 'test-artifacts', 'screenshots');
const bin = process.env.LOUPE_BIN || path.join(root, 'build', 'loupe');
// The servers' runtime files (how the SDK finds a local server's token) go to a folder of
// this test run's own, inherited by the servers and the SDK scripts it starts.
if (!process.env.LOUPE_RUNTIME_DIR) process.env.LOUPE_RUNTIME_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-runtime-'));
const python = '/usr/bin/python3';

export async function startServer() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-browser-'));
  execFileSync(python, [path.join(root, 'tests', 'claas', 'claas_fixtures.py'), path.join(dir, 'data')]);
  const log = fs.openSync(path.join(dir, 'server.log'), 'w');
  const proc = spawn(bin, ['serve', '--port', '0', '--data-dir', './data'], { cwd: dir, stdio: ['ignore', 'pipe', log] });
  fs.closeSync(log);
  // stdout: the ready line with the port, then the one-time sign-in link.
  const [port, signInUrl] = await new Promise((resolve, reject) => {
    let out = '';
    const onData = (d) => {
      out += String(d);
      const ready = /serving http:\/\/[^:]+:(\d+)/.exec(out);
      const link = /Sign in: (\S+)/.exec(out);
      if (ready && link) {
        proc.stdout.off('data', onData);
        resolve([Number(ready[1]), link[1]]);
      } else if (out.split('\n').length > 3) {
        reject(new Error(out));
      }
    };
    proc.stdout.on('data', onData);
    proc.once('exit', (code) => reject(new Error('loupe exited ' + code + ': ' + fs.readFileSync(path.join(dir, 'server.log'), 'utf8'))));
  });
  const url = `http://127.0.0.1:${port}`;
  const token = fs.readFileSync(path.join(dir, 'data', 'local.token'), 'utf8').trim();
  return {
    url, dir, proc, signInUrl, token,
    headers: { Authorization: `Bearer ${token}` },
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function logRun(url, args, { wait = true } = {}) {
  const env = { ...process.env, PYTHONPATH: path.join(root, 'sdk', 'python'), PYTHONDONTWRITEBYTECODE: '1' };
  const child = spawn(python, [path.join(here, 'log_run.py'), '--host', url, ...args], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  if (!wait) return child;
  return new Promise((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error('log_run exited ' + code)))));
}

// A JSON API call with the server's token; throws with the server's message on an error.
export async function callApi(server, method, url, body) {
  const resp = await fetch(server.url + url, {
    method, headers: { ...server.headers, 'Content-Type': 'application/json' }, body: body && JSON.stringify(body) });
  const json = await resp.json();
  if (!resp.ok) throw new Error(`${method} ${url}: ${resp.status} ${json.message}`);
  return json.data;
}

// A JSON call made by the page itself (its session cookie, its origin): {status, text}.
export async function pageApi(page, method, url, body) {
  return page.evaluate(async ([m, u, b]) => {
    const r = await fetch(u, { method: m, headers: b ? { 'Content-Type': 'application/json' } : {}, body: b ? JSON.stringify(b) : undefined });
    return { status: r.status, text: await r.text() };
  }, [method, url, body]);
}

// Ids by name: {project, experiments: {name: id}} (the CLaaS importer creates projects too).
export async function idsOf(server, projectName) {
  const { url, headers } = server;
  const projects = (await (await fetch(url + '/api/v1/projects', { headers })).json()).data.projects;
  const project = projects.find((p) => p.name === projectName);
  const exps = (await (await fetch(`${url}/api/v1/projects/${project.id}/experiments`, { headers })).json()).data.experiments;
  return { project: project.id, experiments: Object.fromEntries(exps.map((e) => [e.name, e.id])) };
}

export async function launch() {
  fs.mkdirSync(artifacts, { recursive: true });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],  // playwright gives each launch a fresh, empty profile
  });
  return {
    browser,
    async close() { await browser.close(); },
  };
}

// A page that records console errors and page errors; tests assert the list is empty.
// With `server`, the page is signed in as a user would be: by opening the one-time link
// the server printed at start (a server's link works once; later pages use its token).
export async function newPage(browser, errors, server) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(`${page.url()}: ${msg.text()}`); });
  page.on('pageerror', (err) => errors.push(`${page.url()}: ${err.message}`));
  if (server) await signIn(page, server);
  return page;
}

export async function signIn(page, server) {
  if (server.signInUrl) {
    const link = server.signInUrl;
    server.signInUrl = null;
    await page.goto(link);
  } else {
    await page.goto(server.url + '/login');
    await page.fill('input[name=token]', server.token);
    await page.click('text=Sign in with the token');
  }
  if (new URL(page.url()).pathname === '/login') throw new Error('sign-in failed: ' + (await page.textContent('main')));
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(artifacts, name + '.png'), fullPage: false });
}

// A test file's server and page: started before its tests, closed after them.
// `ready(server, page)` hands them over; `errors` collects the page's console errors.
export function withServerAndPage(errors, ready) {
  let server, chrome;
  before(async () => {
    server = await startServer();
    chrome = await launch();
    ready(server, await newPage(chrome.browser, errors, server));
  });
  after(async () => {
    if (chrome) await chrome.close();
    if (server) await server.stop();
  });
}

// The stand-in model provider (tests/llm/standin_provider.py, a test server) on a free
// port: {url, stop}.
export async function startStandin(key = 'sk-standin') {
  const proc = spawn('/usr/bin/python3', [path.join(root, 'tests', 'llm', 'standin_provider.py'), '--port', '0', '--key', key],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    proc.stdout.once('data', (d) => resolve(Number(/PORT (\d+)/.exec(d.toString())[1])));
    proc.once('exit', (c) => reject(new Error('stand-in exited ' + c)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => proc.kill() };
}
