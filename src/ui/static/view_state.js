// The chart controls' state (smoothing, x axis, log scale), the zoomed step range and
// the chart filter, kept in the page's URL (so a link shows what you saw) and, for the
// controls, remembered per project (a page opened without them gets the last ones).
(function () {
  'use strict';
  const storeKey = id => 'loupe:view:' + id;

  function apply(settings, get) {
    const smooth = Number(get('smooth'));
    if (get('smooth') !== null && smooth >= 0 && smooth <= 0.99) settings.smoothing = smooth;
    if (['step', 'relative', 'wall'].includes(get('x'))) settings.xmode = get('x');
    if (get('log') !== null) settings.log = get('log') === '1';
  }

  // Reads the URL (or, without chart settings in it, what this project last used) into
  // `settings`; returns {range, q} from the URL.
  function restore(settings, projectId) {
    const params = new URL(location.href).searchParams;
    if (['smooth', 'x', 'log'].some(p => params.has(p))) {
      apply(settings, p => params.get(p));
    } else if (projectId) {
      try {
        const saved = JSON.parse(localStorage.getItem(storeKey(projectId)) || 'null');
        if (saved) apply(settings, p => (saved[p] === undefined ? null : String(saved[p])));
      } catch (err) { /* storage off or unreadable: the defaults */ }
    }
    const from = Number(params.get('from')), to = Number(params.get('to'));
    const range = params.has('from') && params.has('to') && Number.isFinite(from) && Number.isFinite(to) && from < to
      ? { from, to } : null;
    return { range, q: params.get('q') || '' };
  }

  function save(settings, projectId, state) {
    const url = new URL(location.href);
    const set = (k, v, keep) => (keep ? url.searchParams.set(k, v) : url.searchParams.delete(k));
    set('smooth', String(settings.smoothing), settings.smoothing > 0);
    set('x', settings.xmode, settings.xmode !== 'step');
    set('log', '1', settings.log);
    const range = state && state.range;
    set('from', range ? String(Math.floor(range.from)) : '', !!range);
    set('to', range ? String(Math.ceil(range.to)) : '', !!range);
    set('q', state && state.q ? state.q : '', !!(state && state.q));
    history.replaceState(history.state, '', url);
    if (projectId) {
      try {
        localStorage.setItem(storeKey(projectId), JSON.stringify(
          { smooth: settings.smoothing, x: settings.xmode, log: settings.log ? '1' : '0' }));
      } catch (err) { /* storage full or off: the URL still has it */ }
    }
  }

  // Shows `settings` in the page's controls.
  function showControls(settings) {
    const sm = document.getElementById('smoothing');
    if (sm) { sm.value = String(settings.smoothing); document.getElementById('smoothing-value').textContent = sm.value; }
    const x = document.getElementById('xaxis');
    if (x) x.value = settings.xmode;
    const lg = document.getElementById('logscale');
    if (lg) lg.checked = settings.log;
  }

  window.LoupeView = { restore, save, showControls };
})();
