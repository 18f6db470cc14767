// Image classification in headless Chromium: the digits sample shown as a grid of
// pictures, the wizard choosing ImageClassification with every pixel, a convolutional
// network trained, and a picture uploaded to the run's predict form classified.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
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

// A zip written here with stored (uncompressed) entries: local headers, then the central
// directory (APPNOTE 4.3), CRC-32 from node's zlib.
function zipStored(files) {
  const locals = [], centrals = [];
  let offset = 0;
  for (const { name, data } of files) {
    const n = Buffer.from(name);
    const crc = zlib.crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18); local.writeUInt32LE(data.length, 22); local.writeUInt16LE(n.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16); central.writeUInt32LE(data.length, 20); central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(n.length, 28); central.writeUInt32LE(offset, 42);
    locals.push(local, n, data);
    centrals.push(central, n);
    offset += 30 + n.length + data.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(files.length, 8); end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(dir.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

// A PNG the browser draws: a w x h background with one filled rectangle [x, y, w, h].
async function barPng(width, height, background, bar, rect) {
  const b64 = await page.evaluate(([w, h, bg, fg, r]) => {
    const c = document.createElement('canvas');
    c.width = w; c.height = h;
    const ctx = c.getContext('2d');
    ctx.fillStyle = bg; ctx.fillRect(0, 0, w, h);
    ctx.fillStyle = fg; ctx.fillRect(...r);
    return c.toDataURL('image/png').split(',')[1];
  }, [width, height, background, bar, rect]);
  return b64;
}

test('pictures: a zip of folders uploaded, shown as a grid, trained, and a light picture not inverted', async () => {
  // 8x8 bars, dark on white, vertical or horizontal, drawn by the browser as PNGs.
  const pngs = await page.evaluate(() => {
    const out = [];
    for (let k = 0; k < 24; k++) {
      for (const kind of ['vertical', 'horizontal']) {
        const c = document.createElement('canvas');
        c.width = 8; c.height = 8;
        const ctx = c.getContext('2d');
        ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, 8, 8);
        ctx.fillStyle = '#000';
        const at = 2 + k % 4;
        if (kind === 'vertical') ctx.fillRect(at, 0, 1, 8); else ctx.fillRect(0, at, 8, 1);
        out.push({ name: `bars/${kind}/${String(k).padStart(2, '0')}.png`, b64: c.toDataURL('image/png').split(',')[1] });
      }
    }
    return out;
  });
  const zip = zipStored(pngs.map((p) => ({ name: p.name, data: Buffer.from(p.b64, 'base64') })));
  await page.goto(server.url + '/datasets');
  await page.setInputFiles('#upload-file', { name: 'bars.zip', mimeType: 'application/zip', buffer: zip });
  await Promise.all([page.waitForURL(/\/datasets\/\d+$/, { timeout: 60000 }), page.click('#upload-form button[type=submit]')]);
  assert.match(await page.textContent('main'), /48 rows · 66 columns/);
  await page.waitForFunction(() => document.querySelectorAll('#image-grid canvas').length === 48);
  assert.equal(await page.textContent('#image-grid figure:first-child figcaption'), '#1 · horizontal');
  // bars/horizontal/00.png: its bar is row 2, black; the rest white.
  const grey = await page.$eval('#image-grid canvas', (c) => [c.getContext('2d').getImageData(0, 2, 1, 1).data[0], c.getContext('2d').getImageData(0, 0, 1, 1).data[0]]);
  assert.deepEqual(grey, [0, 255]);
  await shot(page, 'dataset-pictures-zip');

  await Promise.all([page.waitForURL(/\/sessions\?dataset=\d+$/), page.click('a[href^="/sessions?dataset="]')]);
  await page.waitForFunction(() => /Suggested: ImageClassification/.test(document.getElementById('s-guess').textContent));
  assert.equal(await page.inputValue('#s-output'), 'label');
  assert.equal((await page.$$('#s-inputs input:checked')).length, 64);
  await Promise.all([page.waitForURL(/\/sessions\/\d+$/), page.click('#session-form button[type=submit]')]);
  await page.waitForSelector('#r-params tr[data-name=epochs]');
  await page.fill('#p-epochs', '30');
  await page.click('#run-form button[type=submit]');
  await page.waitForFunction(() => [...document.querySelectorAll('table.runs .badge')].some((b) => b.dataset.status === 'FINISHED'), null, { timeout: 120000 });
  await Promise.all([page.waitForURL(/\/runs\/\d+$/), page.click('table.runs a:has-text("ConvNetClassifier")')]);
  // A dark bar on white, like the training pictures: not inverted, and classified.
  await page.setInputFiles('#predict-image', { name: 'v.png', mimeType: 'image/png', buffer: Buffer.from(pngs[0].b64, 'base64') });
  await page.waitForFunction(() => document.getElementById('predict-canvas').getContext('2d').getImageData(0, 0, 1, 1).data[0] > 0);
  assert.equal(await page.isChecked('#predict-invert'), false);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/predict')),
    page.click('#predict-form button[type=submit]'),
  ]);
  assert.equal((await response.json()).data.predictions[0].label, 'vertical');
  // The same bar white on black: the background is the other way round, so it is inverted.
  const inverse = await barPng(8, 8, '#000', '#fff', [2, 0, 1, 8]);
  await page.setInputFiles('#predict-image', { name: 'inverse.png', mimeType: 'image/png', buffer: Buffer.from(inverse, 'base64') });
  await page.waitForFunction(() => document.getElementById('predict-invert').checked);
  assert.equal(await page.textContent('#predict-status'), "inverted: its background is dark, the training pictures' light");
  assert.equal(await page.$eval('#predict-canvas', (c) => c.getContext('2d').getImageData(0, 0, 1, 1).data[0]), 255);
  const [again] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/predict')),
    page.click('#predict-form button[type=submit]'),
  ]);
  assert.equal((await again.json()).data.predictions[0].label, 'vertical');
  await shot(page, 'run-pictures-predict-inverted');
  // A picture that is not square is stretched, and the form says from what size.
  const wide = await barPng(16, 8, '#fff', '#000', [4, 0, 2, 8]);
  await page.setInputFiles('#predict-image', { name: 'wide.png', mimeType: 'image/png', buffer: Buffer.from(wide, 'base64') });
  await page.waitForFunction(() => /stretched/.test(document.getElementById('predict-status').textContent));
  assert.equal(await page.textContent('#predict-status'), 'stretched from 16×8 to a square');
  assert.equal(await page.isChecked('#predict-invert'), false);
  assert.deepEqual(errors, []);
});
