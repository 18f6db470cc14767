// Expand/collapse buttons of the dashboard tables: each toggles the row it controls.
document.addEventListener('click', (ev) => {
  const btn = ev.target.closest('button.expand');
  if (!btn) return;
  const row = document.getElementById(btn.getAttribute('aria-controls'));
  if (!row) return;
  const open = row.hidden;
  row.hidden = !open;
  btn.setAttribute('aria-expanded', String(open));
  btn.textContent = open ? 'Collapse' : 'Expand';
});
