// Image classification in headless Chromium: the digits sample shown as a grid of
// pictures, the wizard choosing ImageClassification with every pixel, a convolutional
// network trained, and a picture uploaded to the run's predict form classified.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServerAndPage, shot, pageApi } from './harness.mjs';

let server, page;
const errors = [];
withServerAndPage(errors, (s, p) => { server = s; page = p; });

test('digits: image grid, ImageClassification session, ConvNet run, predict an uploaded picture', async () => {
  await page.goto(server.url + '/datasets');
  await Promise.all([page.waitForURL(/\/datasets\/\d+$/, { timeout: 60000 }), page.click('button.sample[data-sample="digits"]')]);
  await page.waitForFunction(() => document.querySelectorAll('#image-grid canvas').length === 50);
  assert.equal(await page.textContent('#image-grid figure:first-child figcaption'), '#1 · 0');
  const id = page.url().split('/').pop();
  const first = JSON.parse((await pageApi(page, 'GET', `/api/v1/dataset/${id}/images?offset=0&limit=1`)).text).data.images[0];
  // The grid draws the pixels themselves: the first image's third pixel is 5 of the page's 16.
  const drawn = await page.$eval('#image-grid canvas', (c) => c.getContext('2d').getImageData(2, 0, 1, 1).data[0]);
  assert.equal(drawn, Math.round(first.pixels[2] * 255 / 16));
  await shot(page, 'dataset-digits-images');

  await Promise.all([page.waitForURL(/\/sessions\?dataset=\d+$/), page.click('a[href^="/sessions?dataset="]')]);
  await page.waitForFunction(() => /Suggested: ImageClassification/.test(document.getElementById('s-guess').textContent));
  assert.equal(await page.inputValue('#s-output'), 'digit');
  assert.equal((await page.$$('#s-inputs input:checked')).length, 64);
  await Promise.all([page.waitForURL(/\/sessions\/\d+$/), page.click('#session-form button[type=submit]')]);
  await page.waitForSelector('#r-params tr[data-name=epochs]');
  assert.equal(await page.inputValue('#r-model'), 'ConvNetClassifier');
  await page.fill('#p-epochs', '6');
  await page.click('#run-form button[type=submit]');
  await page.waitForFunction(() => [...document.querySelectorAll('table.runs .badge')].some((b) => b.dataset.status === 'FINISHED'), null, { timeout: 120000 });
  await Promise.all([page.waitForURL(/\/runs\/\d+$/), page.click('table.runs a:has-text("ConvNetClassifier")')]);
  assert.match(await page.textContent('table.metrics'), /Accuracy/);
  assert.equal(await page.locator('table.confusion').first().locator('tbody tr').count(), 10);

  // The first digit as a PNG the browser makes, uploaded; the form reads its greys back
  // onto the training scale (0-16) and the prediction shown is the model's for them.
  const png = await page.evaluate((pixels) => {
    const c = document.createElement('canvas');
    c.width = 8; c.height = 8;
    const ctx = c.getContext('2d');
    const img = ctx.createImageData(8, 8);
    pixels.forEach((v, i) => { img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = Math.round(v * 255 / 16); img.data[4 * i + 3] = 255; });
    ctx.putImageData(img, 0, 0);
    return c.toDataURL('image/png').split(',')[1];
  }, first.pixels);
  await page.setInputFiles('#predict-image', { name: 'zero.png', mimeType: 'image/png', buffer: Buffer.from(png, 'base64') });
  await page.waitForFunction(() => document.getElementById('predict-canvas').getContext('2d').getImageData(2, 0, 1, 1).data[0] > 0);
  const [request, response] = await Promise.all([
    page.waitForRequest((r) => r.url().endsWith('/predict') && r.method() === 'POST'),
    page.waitForResponse((r) => r.url().endsWith('/predict')),
    page.click('#predict-form button[type=submit]'),
  ]);
  const row = JSON.parse(request.postData()).rows[0];
  first.pixels.forEach((v, i) => assert.ok(Math.abs(row['pixel_' + i] - v) <= 16 / 255 / 2 + 1e-9, `pixel ${i}: ${row['pixel_' + i]} vs ${v}`));
  const predicted = (await response.json()).data.predictions[0].label;
  await page.waitForSelector('table.predictions td.prediction');
  assert.equal(await page.textContent('table.predictions td.prediction'), predicted);
  await shot(page, 'run-image-predict');
  assert.deepEqual(errors, []);
});
