// LoupeTestSet.attach(input, info, error): a file input whose CSV or JSONL test set the
// server parses (nothing is stored); returns a function giving the cases read (or null).
window.LoupeTestSet = (function () {
  'use strict';
  function attach(input, info, error) {
    let cases = null;
    input.addEventListener('change', async () => {
      cases = null;
      info.textContent = '';
      error.textContent = '';
      const file = input.files[0];
      if (!file) return;
      try {
        const resp = await fetch('/api/v1/batches/test-set?name=' + encodeURIComponent(file.name), { method: 'POST', body: file });
        const json = await resp.json();
        if (!resp.ok) throw new Error(json.message || ('HTTP ' + resp.status));
        cases = json.data.cases;
        info.textContent = json.data.count + (json.data.count === 1 ? ' case' : ' cases') + ' in ' + file.name;
      } catch (e) { error.textContent = e.message; }
    });
    return () => cases;
  }
  return { attach };
})();
