// "Copy" buttons: <button data-copy="ID"> copies the text of the element with that id.
(function () {
  'use strict';
  document.addEventListener('click', async ev => {
    const button = ev.target.closest('button[data-copy]');
    if (!button) return;
    const source = document.getElementById(button.dataset.copy);
    if (!source) return;
    try {
      await navigator.clipboard.writeText(source.textContent);
      button.textContent = 'Copied';
    } catch (err) {
      // No clipboard (plain HTTP from another machine): select the text instead.
      const range = document.createRange();
      range.selectNodeContents(source);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      button.textContent = 'Selected: press Ctrl+C';
    }
    setTimeout(() => { button.textContent = 'Copy'; }, 2000);
  });
})();
