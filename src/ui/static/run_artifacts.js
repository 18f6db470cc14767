// A run's artifacts on its page: the versions it logged and the ones it used, each
// linked to its page; the card stays hidden when there are none.
(function () {
  'use strict';
  const card = document.getElementById('run-artifacts');
  if (!card) return;

  function bytes(n) {
    if (n < 1024) return n + ' B';
    const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    let v = n / 1024, u = 0;
    while (u + 1 < units.length && Math.round(v) >= 1024) { v /= 1024; u++; }
    return (v < 9.95 ? v.toFixed(1) : v.toFixed(0)) + ' ' + units[u];
  }

  function row(v, role) {
    const tr = document.createElement('tr');
    const link = document.createElement('a');
    link.href = '/artifacts/' + encodeURIComponent(v.name) + '/v' + v.version;
    link.textContent = v.ref;
    const cells = [link, v.type, v.aliases.join(', '), bytes(v.size), role];
    cells.forEach((c, i) => {
      const td = document.createElement('td');
      if (i === 3) { td.className = 'num'; td.title = v.size + ' bytes'; }
      if (c instanceof Node) td.appendChild(c); else td.textContent = c;
      tr.appendChild(td);
    });
    return tr;
  }

  fetch('/api/v1/experiments/' + card.dataset.experiment + '/artifacts')
    .then(r => r.ok ? r.json() : null)
    .then(j => {
      if (!j || !j.data) return;
      const { produced, used } = j.data;
      if (!produced.length && !used.length) return;
      const body = card.querySelector('tbody');
      produced.forEach(v => body.appendChild(row(v, 'logged')));
      used.forEach(v => body.appendChild(row(v, 'used')));
      document.getElementById('artifact-counts').textContent =
        produced.length + ' logged · ' + used.length + ' used';
      card.hidden = false;
    })
    .catch(() => { /* the page works without this card */ });
})();
