// Training jobs in a real browser: the launch form checks a spec and lists its problems,
// launches it, the job's page follows it, its logs stream on the console page, Stop ends
// it (SIGTERM) and the page shows the stop in its timeline, the job starts again as a
// second segment and is stopped again; the jobs list; 390 px and dark mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withServerAndPage, shot } from './harness.mjs';

let server, page;
const errors = [];
withServerAndPage(errors, (s, p) => { server = s; page = p; });

const code = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-launch-ui-'));
fs.writeFileSync(path.join(code, 'ticks.py'),
  'import time\nfor i in range(600):\n    print("tick", i, flush=True)\n    time.sleep(0.2)\n');
let jobUrl = '';

test('the launch form checks, lists problems and launches', async () => {
  await page.goto(server.url + '/launch');
  assert.match(await page.textContent('.empty'), /No jobs yet/);
  await page.fill('#launch-form textarea[name=spec]', 'command: python3 missing.py\nworkdir: ' + code + '\ncolour: red\n');
  await page.click('#launch-check');
  await page.waitForFunction(() => document.querySelectorAll('#launch-problems li').length === 2);
  const problems = await page.locator('#launch-problems li').allTextContents();
  assert.deepEqual(problems.sort(), ["colour: unknown key (known: name, project, command, workdir, env, config, resources, executor, budget, restart, stop_grace_seconds, checkpoint, mounts, model, total_steps, slurm, runpod)",
    "command: the script 'missing.py' is not in the working directory"]);
  await shot(page, 'launch-problems');
  await page.fill('#launch-form textarea[name=spec]',
    'name: ticker\nproject: launch-ui\ncommand: python3 ticks.py\nworkdir: ' + code + '\nstop_grace_seconds: 3\n');
  await page.click('#launch-check');
  await page.waitForFunction(() => /can launch/.test(document.querySelector('#launch-status').textContent));
  assert.equal(await page.locator('#launch-problems li').count(), 0);
  await Promise.all([page.waitForURL(/\/launch\/\d+$/), page.click('#launch-form button[type=submit]')]);
  jobUrl = page.url();
  assert.match(await page.textContent('h1'), /ticker\s+job 1/);
  assert.equal(await page.textContent('#job-state'), 'running');
  assert.deepEqual(errors, []);
});

test('the logs stream on the console page', async () => {
  await page.click('#job-logs');
  const lines = () => page.evaluate(() => [...document.querySelectorAll('#console .line[data-line]')].map((d) => d.title));
  await page.waitForFunction(() => [...document.querySelectorAll('#console .line[data-line]')].some((d) => d.title === 'tick 3'), null, { timeout: 15000 });
  const first = (await lines()).length;
  // More arrive while the page is open: it follows the job's run.
  await page.waitForFunction((n) => document.querySelectorAll('#console .line[data-line]').length >= n + 5, first, { timeout: 15000 });
  const shown = await lines();
  assert.deepEqual(shown.slice(0, 9), ['tick 0', 'tick 1', 'tick 2', 'tick 3', 'tick 4', 'tick 5', 'tick 6', 'tick 7', 'tick 8']);
  await shot(page, 'launch-console');
  assert.deepEqual(errors, []);
});

test('stop ends the job and the page follows it', async () => {
  await page.goto(jobUrl);
  await page.click('#job-stop');
  await page.waitForFunction(() => document.querySelector('#job-state')?.textContent === 'stopped', null, { timeout: 15000 });
  assert.equal(await page.textContent('#job-exit'), 'killed by SIGTERM');
  const events = await page.textContent('#job-events');
  assert.match(events, /launched\s+launched by/);
  assert.match(events, /stopping\s+stopped by a user: SIGTERM sent, SIGKILL after 3 s/);
  assert.match(events, /exited\s+stopped; killed by SIGTERM/);
  assert.equal(await page.isHidden('#job-stop'), true);
  // The time shown is the job's elapsed time as the API has it.
  const job = await page.evaluate(async () => (await (await fetch('/api/v1/launch/jobs/1')).json()).data);
  const shown = await page.textContent('#job-elapsed');
  const tenths = Math.floor(job.elapsed_seconds * 10);
  assert.equal(shown, `${Math.floor(tenths / 10)}.${tenths % 10}s`);
  await shot(page, 'launch-job-stopped');
  // No checkpoint was saved: the job can start again, as a second segment of the same run.
  assert.match(await page.textContent('#job-live'), /None yet: the script saves them with run\.save_checkpoint/);
  await page.click('button[data-job-action=resume]');
  await page.waitForFunction(() => document.querySelector('#job-state')?.textContent === 'running', null, { timeout: 15000 });
  assert.equal(await page.isHidden('#job-stop'), false);
  await page.waitForFunction(() => document.querySelectorAll('#job-segments tbody tr').length === 2, null, { timeout: 15000 });
  await page.click('#job-stop');
  await page.waitForFunction(() => document.querySelector('#job-state')?.textContent === 'stopped', null, { timeout: 15000 });
  assert.match(await page.textContent('#job-events'), /resumed\s+from the beginning by local/);
  await page.goto(server.url + '/launch');
  const row = await page.textContent('#jobs tbody tr');
  assert.match(row, /ticker/);
  assert.match(row, /stopped/);
  assert.equal(await page.locator('#jobs button[data-stop]').count(), 0);
  assert.deepEqual(errors, []);
});

test('the jobs list follows its active jobs without a reload', async () => {
  await page.goto(server.url + '/launch');
  await page.evaluate(() => LoupeApi.call('POST', '/api/v1/launch/jobs/1/resume', {}));
  await page.reload();
  assert.match(await page.textContent('#jobs tbody tr[data-id="1"] .badge'), /running/);
  const before = await page.evaluate(() => (window.marker = 'same page'));
  await page.evaluate(() => LoupeApi.call('POST', '/api/v1/launch/jobs/1/stop', {}));
  await page.waitForFunction(() => /stopped/.test(document.querySelector('#jobs tbody tr[data-id="1"] .badge').textContent),
    null, { timeout: 15000 });
  assert.equal(await page.evaluate(() => window.marker), before);  // followed, not reloaded
  assert.equal(await page.locator('#jobs tr[data-active]').count(), 0);
  assert.equal(await page.locator('#jobs button[data-stop]').count(), 0);
  assert.deepEqual(errors, []);
});

test('jobs pages fit 390 px and dark mode', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: 'dark' });
  for (const url of [server.url + '/launch', jobUrl]) {
    await page.goto(url);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, url + ': horizontal overflow ' + overflow);
  }
  await shot(page, 'launch-job-390-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 900 });
  fs.rmSync(code, { recursive: true, force: true });
  assert.deepEqual(errors, []);
});
