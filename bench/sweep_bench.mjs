// Parallel coordinates over RUNS runs (default 1,000): the Sweep panel's draw time, read
// from the canvas it stamps (data-draw-ms), over 5 fresh loads. Target: <= 500 ms.
// Usage: LOUPE_BIN=build/loupe node bench/sweep_bench.mjs [RUNS]
import { startServer, launch, signIn, callApi } from '../tests/browser/harness.mjs';

const runs = Number(process.argv[2] || 1000);
const server = await startServer();
try {
  let project = 0;
  const make = async (i) => {
    const config = { lr: [1e-4, 3e-4, 1e-3, 3e-3, 1e-2][i % 5], batch_size: [32, 64, 128][i % 3],
      optimizer: ['adam', 'sgd', 'adamw'][i % 3], dropout: (i % 7) / 10, seed: i };
    const e = await callApi(server, 'POST', '/api/v1/experiments', { project: 'pc', name: `run-${i}`, config });
    project = e.project_id;
    await callApi(server, 'POST', `/api/v1/experiments/${e.id}/metrics`, { steps: [{ step: 0, values: { 'val/loss': (i % 97) / 97 } }] });
  };
  for (let i = 0; i < runs; i += 20) await Promise.all(Array.from({ length: Math.min(20, runs - i) }, (_, k) => make(i + k)));
  const chrome = await launch();
  const page = await (await chrome.browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  await signIn(page, server);
  const times = [];
  for (let k = 0; k < 5; k++) {
    await page.goto(`${server.url}/projects/${project}?ccols=lr,batch_size,optimizer,dropout,seed&per_page=20`);
    await page.click('#sweep summary');
    await page.waitForFunction(() => document.getElementById('sweep').dataset.state === 'drawn', null, { timeout: 60000 });
    const lines = Number(await page.getAttribute('#parcoords', 'data-lines'));
    if (lines !== runs) throw new Error(`drew ${lines} lines, not ${runs}`);
    times.push(Number(await page.getAttribute('#parcoords', 'data-draw-ms')));
  }
  await chrome.close();
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ runs, draw_ms: times, median_ms: times[2], max_ms: times[4] }));
} finally {
  await server.stop();
}
