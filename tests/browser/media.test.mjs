// Media panels on the experiment page: images by step with a slider and captions, text
// samples as a table, histograms over steps; all after the scalar charts are drawn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { withServerAndPage, shot, root } from './harness.mjs';

let server, page;
const errors = [];
withServerAndPage(errors, (s, p) => { server = s; page = p; });

test('images, text samples and histograms, each by step', async () => {
  const env = { ...process.env, PYTHONPATH: path.join(root, 'sdk', 'python'), LOUPE_QUIET: '1' };
  const id = Number(execFileSync('/usr/bin/python3', [path.join(root, 'tests', 'browser', 'log_media.py'), '--host', server.url],
    { env }).toString().trim());
  await page.goto(`${server.url}/experiments/${id}`);
  const images = page.locator('.chart.media[data-key="samples/digits"]');
  await page.waitForSelector('.chart.media[data-key="samples/digits"][data-state=drawn]');
  assert.equal(await images.getAttribute('data-steps'), '3');
  assert.equal(await images.locator('.meta').textContent(), '6 files at 3 steps');  // two images at steps 0, 5, 10
  assert.equal(await images.getAttribute('data-shown-step'), '10');  // the newest step first
  assert.deepEqual(await images.locator('figcaption').allTextContents(), ['red 10', 'green 10']);
  assert.match(await images.locator('.step-label').textContent(), /^step 10 \(3 of 3\)$/);
  // Every image is a real, loadable file.
  await page.waitForFunction(() => [...document.querySelectorAll('.chart.media[data-key="samples/digits"] img')]
    .every((i) => i.complete && i.naturalWidth === 8));
  await images.locator('input[type=range]').fill('0');
  assert.equal(await images.getAttribute('data-shown-step'), '0');
  assert.deepEqual(await images.locator('figcaption').allTextContents(), ['red 0', 'green 0']);
  await shot(page, 'media-images');

  const text = page.locator('.chart.media[data-key="samples/generated"]');
  await page.waitForSelector('.chart.media[data-key="samples/generated"][data-state=drawn]');
  assert.deepEqual(await text.locator('tbody td.num').allTextContents(), ['0', '5', '10']);
  // Text is shown as text, never as markup.
  assert.equal(await text.locator('tbody tr:last-child td.sample').textContent(), 'step 10: the model says <b>hello</b>');
  assert.equal(await text.locator('tbody b').count(), 0);

  const hist = page.locator('.chart.media[data-key="weights/layer1"]');
  await hist.scrollIntoViewIfNeeded();
  await page.waitForSelector('.chart.media[data-key="weights/layer1"][data-state=drawn]');
  assert.deepEqual(JSON.parse(await hist.getAttribute('data-range')), [0, 19]);  // min of step 0, max of step 10
  assert.equal(await hist.getAttribute('data-shown-total'), '10');
  assert.deepEqual(await hist.locator('.hist-foot span').allTextContents(), ['10', '10 values at step 10', '19']);
  assert.equal(await hist.locator('.hist-bar').count(), 5);
  assert.deepEqual(await hist.locator('.hist-bar').evaluateAll((bars) => bars.map((b) => b.title)),
    ['[10, 11.8): 2', '[11.8, 13.6): 2', '[13.6, 15.4): 2', '[15.4, 17.2): 2', '[17.2, 19): 2']);
  await shot(page, 'media-histogram');

  // Media lists were asked for only after every scalar chart was drawn.
  const timing = await page.evaluate(() => ({
    drawn: window.loupeAllDrawnAt,
    media: performance.getEntriesByType('resource').filter((e) => e.name.includes('/media?key=')).map((e) => e.startTime),
  }));
  assert.equal(timing.media.length, 3);
  for (const t of timing.media) assert.ok(t >= timing.drawn, `a media list at ${t} ms, before the charts were drawn at ${timing.drawn} ms`);
  assert.deepEqual(errors, []);
});

test('compare shows a media key of each run side by side, their steps moving together', async () => {
  const env = { ...process.env, PYTHONPATH: path.join(root, 'sdk', 'python'), LOUPE_QUIET: '1' };
  const ids = [0, 1].map(() => Number(execFileSync('/usr/bin/python3',
    [path.join(root, 'tests', 'browser', 'log_media.py'), '--host', server.url], { env }).toString().trim()));
  await page.goto(`${server.url}/compare?ids=${ids.join(',')}`);
  const group = page.locator('details[data-group="samples/digits"]');
  await page.waitForFunction(() => document.querySelectorAll('details[data-group="samples/digits"] .chart.media[data-state=drawn]').length === 2);
  const panels = group.locator('.chart.media');
  assert.deepEqual(await panels.evaluateAll((ps) => ps.map((p) => p.dataset.shownStep)), ['10', '10']);
  await panels.nth(0).locator('input[type=range]').fill('1');
  assert.deepEqual(await panels.evaluateAll((ps) => ps.map((p) => p.dataset.shownStep)), ['5', '5']);
  assert.deepEqual(await panels.nth(1).locator('figcaption').allTextContents(), ['red 5', 'green 5']);
  await shot(page, 'media-compare');
  assert.deepEqual(errors, []);
});
