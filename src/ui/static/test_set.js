// LoupeTestSet.attach(input, info, error): a file input whose CSV or JSONL test set the
// server parses (nothing is stored); returns a function giving the cases read (or null),
// whose why() says what to do when there are none.
window.LoupeTestSet = (function () {
  'use strict';
  function attach(input, info, error) {
    let cases = null;
    let refused = false;
    input.addEventListener('change', async () => {
      cases = null;
      refused = false;
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
      } catch (e) {
        refused = true;
        error.textContent = e.message;
      }
    });
    const read = () => cases;
    // Why there are no cases, for the form's own message.
    read.why = () => refused ? 'The test set was not accepted (see above): fix the file and choose it again.'
      : 'Choose a test set (a .csv or .jsonl file) first.';
    return read;
  }
  return { attach };
})();
