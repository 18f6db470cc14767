// Tick labels and tick spacing for Loupe's charts. uPlot's defaults round to three
// decimals (a learning rate of 3e-4 reads "0 0 0 0") and count relative time in plain
// seconds; these give every label the digits its tick spacing needs, switch to SI or
// scientific notation for very large or small values, and count durations in s/m/h/d.
(function () {
  'use strict';

  const SI = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];

  // Decimal places that write `incr` exactly (0.0025 -> 4, 20 -> 0).
  function decimalsOf(incr) {
    incr = Math.abs(incr);
    for (let d = 0; d <= 20; d++) {
      const scaled = incr * Math.pow(10, d);
      if (Math.abs(scaled - Math.round(scaled)) <= 1e-9 * Math.max(1, scaled)) return d;
    }
    return 20;
  }

  function trimExp(s) {
    // "3.00e-4" -> "3e-4", "2.50e+6" -> "2.5e6"
    const [m, e] = s.split('e');
    const mant = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m;
    return mant + 'e' + (e[0] === '+' ? e.slice(1) : e);
  }

  // Labels for ticks `vals` spaced `incr` apart: all with the same number of decimals,
  // enough to tell neighbours apart.
  function numberTicks(vals, incr) {
    let mag = 0;
    for (const v of vals) if (v != null && isFinite(v)) mag = Math.max(mag, Math.abs(v));
    if (!(incr > 0)) incr = mag || 1;
    if (mag === 0) return vals.map(v => v == null ? '' : '0');
    if (mag >= 1e15) {
      const d = Math.min(6, decimalsOf(incr / Math.pow(10, Math.floor(Math.log10(mag)))));
      return vals.map(v => v == null ? '' : v === 0 ? '0' : trimExp(v.toExponential(d)));
    }
    if (mag >= 1e4) {
      const [div, suffix] = SI.find(([d]) => mag >= d) || SI[SI.length - 1];
      const d = Math.min(6, decimalsOf(incr / div));
      return vals.map(v => v == null ? '' : v === 0 ? '0' : (v / div).toFixed(d) + suffix);
    }
    if (mag < 1e-3) {
      const exp = Math.floor(Math.log10(mag));
      const d = Math.min(6, decimalsOf(incr / Math.pow(10, exp)));
      return vals.map(v => v == null ? '' : Math.abs(v) < incr / 2 ? '0' : trimExp(v.toExponential(d)));
    }
    const d = Math.min(12, decimalsOf(incr));
    return vals.map(v => v == null ? '' : fixZero(v.toFixed(d)));
  }

  function fixZero(s) {
    return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
  }

  // One value in about `sig` significant digits (log-scale ticks, legends).
  function compact(v, sig) {
    if (v == null || !isFinite(v)) return String(v);
    if (v === 0) return '0';
    const a = Math.abs(v);
    if (a >= 1e4 && a < 1e15) {
      const [div, suffix] = SI.find(([d]) => a >= d) || SI[SI.length - 1];
      return String(+(v / div).toPrecision(sig)) + suffix;
    }
    if (a < 1e-3 || a >= 1e15) return trimExp(v.toExponential(sig - 1));
    return String(+v.toPrecision(sig));
  }

  function logTicks(vals) {
    return vals.map(v => v == null ? '' : compact(v, 3));
  }

  // Durations: 45s, 12m, 12m 30s, 2h, 2h 15m, 3d 4h; below a second, 0.25s.
  function duration(v, incr) {
    if (v == null) return '';
    const neg = v < 0 ? '-' : '';
    let s = Math.abs(v);
    if (incr < 1) return neg + s.toFixed(Math.min(6, decimalsOf(incr))) + 's';
    s = Math.round(s);
    const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
    const parts = d ? [d + 'd', h && h + 'h'] : h ? [h + 'h', m && m + 'm'] : m ? [m + 'm', sec && sec + 's'] : [sec + 's'];
    return neg + parts.filter(Boolean).join(' ');
  }

  function durationTicks(vals, incr) {
    return vals.map(v => duration(v, incr));
  }

  // Tick spacings for durations: sub-second decimals, then whole seconds, minutes,
  // hours and days (uPlot picks the first that leaves room for the labels).
  const durationIncrs = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5,
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
    86400, 172800, 604800, 1209600, 2592000, 7776000, 31536000];

  // Wall-clock labels in the browser's time zone: time of day, with milliseconds when the
  // ticks are less than a second apart, and the date where it changes.
  function pad(n, w) { return String(n).padStart(w || 2, '0'); }
  function wallTicks(vals, incr) {
    let lastDay = null;
    return vals.map(v => {
      if (v == null) return '';
      const t = new Date(Math.round(v * 1000));
      const day = t.getFullYear() + '-' + pad(t.getMonth() + 1) + '-' + pad(t.getDate());
      let clock = pad(t.getHours()) + ':' + pad(t.getMinutes());
      if (incr < 60) clock += ':' + pad(t.getSeconds());
      if (incr < 1) clock += (t.getMilliseconds() / 1000).toFixed(Math.min(3, decimalsOf(incr))).slice(1);
      if (incr >= 86400) clock = day;
      else if (day !== lastDay) clock += '\n' + day;
      lastDay = day;
      return clock;
    });
  }

  // Spacings for wall-clock ticks: the duration ones, so ticks land on whole seconds,
  // minutes and hours.
  const wallIncrs = durationIncrs;

  // Wall-clock tick positions: whole multiples of `incr` in local time. Counting
  // multiples (not adding incr up) keeps a sub-second spacing exact at Unix-time magnitudes.
  function wallSplits(u, axisIdx, min, max, incr) {
    const off = -new Date(min * 1000).getTimezoneOffset() * 60;
    const out = [];
    for (let k = Math.ceil((min + off) / incr - 1e-6); k * incr - off <= max + incr * 1e-6; k++) out.push(k * incr - off);
    return out;
  }

  // Width a y axis needs for its labels (uPlot's `size`; its labels are 12px sans-serif,
  // at most about 7.2 px a character, plus the tick and the gap).
  function axisSize(u, values) {
    let longest = 0;
    for (const v of values || []) longest = Math.max(longest, String(v).length);
    return Math.max(40, Math.ceil(longest * 7.2) + 22);
  }

  window.LoupeAxes = { numberTicks, logTicks, durationTicks, wallTicks, durationIncrs, wallIncrs, wallSplits,
    axisSize, compact, duration };
})();
