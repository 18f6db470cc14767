// The experiments table: pick rows to compare (up to 20) and send the chosen metric
// columns as one comma-separated `cols` parameter.
(function () {
  'use strict';
  const btn = document.getElementById('compare-btn');
  const picks = () => [...document.querySelectorAll('input.pick:checked')].map(i => i.value);
  const update = () => {
    const n = picks().length;
    btn.disabled = n === 0 || n > 20;
    btn.textContent = n > 20 ? 'Compare (max 20)' : n ? 'Compare ' + n : 'Compare selected';
  };
  document.addEventListener('change', ev => {
    if (ev.target.id === 'select-all') {
      document.querySelectorAll('input.pick').forEach(i => { i.checked = ev.target.checked; });
    }
    update();
  });
  btn.addEventListener('click', () => { location.href = '/compare?ids=' + picks().join(','); });
  const form = btn.closest('form');
  form.addEventListener('submit', ev => {
    const sel = form.querySelector('select.cols');
    const chosen = [...sel.selectedOptions].map(o => o.value);
    sel.disabled = true;  // not sent as repeated params
    const hidden = document.createElement('input');
    hidden.type = 'hidden';
    hidden.name = 'cols';
    hidden.value = chosen.join(',');
    form.appendChild(hidden);
  });
  update();
})();
