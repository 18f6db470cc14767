// First run and layout: the home page's snippet (left-aligned, with this server's
// address, copyable), every page at 390 px without sideways scrolling of the page
// itself, and the dark theme following the system setting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServerAndPage, logRun, idsOf, shot, signIn } from './harness.mjs';

let server, page;
const errors = [];
withServerAndPage(errors, (s, p) => { server = s; page = p; });

test('the home snippet names this server, reads left-aligned and copies', async () => {
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  await page.goto(server.url + '/');
  const snippet = page.locator('#snippet');
  if (!(await snippet.isVisible())) await page.click('details.quickstart summary');
  assert.match(await snippet.textContent(), new RegExp(`host="${server.url.replace(/[.:/]/g, '\\$&')}"`));
  assert.equal(await snippet.evaluate((el) => getComputedStyle(el).textAlign), 'left');
  await page.click('button[data-copy=snippet]');
  await page.waitForFunction(() => document.querySelector('button[data-copy=snippet]').textContent === 'Copied');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), await snippet.textContent());
  assert.deepEqual(errors, []);
});

test('every page fits 390 px: wide tables scroll inside their box', async () => {
  await logRun(server.url, ['--mode', 'finished', '--name', 'narrow', '--lr', '0.01']);
  const ids = await idsOf(server, 'browser-demo');
  const id = ids.experiments.narrow;
  const phone = await page.context().browser().newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const p = await phone.newPage();
  p.on('pageerror', (err) => errors.push(err.message));
  await signIn(p, server);
  const overflow = [];
  for (const path of ['/', '/projects', `/projects/${ids.project}`, `/experiments/${id}`, `/experiments/${id}/console`,
    `/compare?ids=${id}`, '/datasets', '/sessions', '/access', '/v1/dashboard', '/v1/eval',
    '/experiments/99999', '/projects/99999', '/experiments/99999/console']) {
    await p.goto(server.url + path);
    await p.waitForLoadState('networkidle');
    const width = await p.evaluate(() => document.documentElement.scrollWidth);
    if (width > 391) overflow.push(`${path}: ${width}px`);
    if (path === `/experiments/${id}`) await shot(p, 'phone-experiment');
    if (path === `/projects/${ids.project}`) await shot(p, 'phone-runs-table');
  }
  await phone.close();
  assert.deepEqual(overflow, []);
  assert.deepEqual(errors, []);
});

test('the dark theme follows the system setting, charts included', async () => {
  const ids = await idsOf(server, 'browser-demo');
  const dark = await page.context().browser().newContext({ colorScheme: 'dark', viewport: { width: 1200, height: 800 } });
  const p = await dark.newPage();
  p.on('pageerror', (err) => errors.push(err.message));
  await signIn(p, server);
  await p.goto(`${server.url}/experiments/${ids.experiments.narrow}`);
  await p.waitForFunction(() => [...document.querySelectorAll('.chart')].every((c) => c.dataset.state === 'drawn'));
  const colours = await p.evaluate(() => ({
    body: getComputedStyle(document.body).backgroundColor,
    card: getComputedStyle(document.querySelector('.card')).backgroundColor,
    axis: (() => {
      const plot = [...window.loupeExperiment.charts.values()][0].chart.plot;
      const stroke = plot.axes[1].stroke;
      return typeof stroke === 'function' ? stroke(plot, 1) : stroke;
    })(),
  }));
  assert.equal(colours.body, 'rgb(15, 18, 24)');
  assert.equal(colours.card, 'rgb(23, 27, 35)');
  assert.equal(colours.axis, '#b5bdcc');  // the labels are light on the dark card
  await shot(p, 'dark-experiment');
  await dark.close();
  assert.deepEqual(errors, []);
});
