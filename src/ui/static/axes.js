// Tick labels and tick spacing for Loupe's charts. uPlot's defaults round to three
// decimals (a learning rate of 3e-4 reads "0 0 0 0") and count relative time in plain
// seconds; these give every label the digits its tick spacing needs, switch to SI or
// scientific notation for very large or small values, and count durations in s/m/h/d.
(function () {
  'use strict';

  const SI = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];

  // Decimal places that write `incr` exactly (0.0025 -> 4, 20 -> 0, 1e-11 -> 11).
  function decimalsOf(incr) {
    incr = Math.abs(incr);
    if (!(incr > 0) || !isFinite(incr)) return 0;
    for (let d = 0; d <= 20; d++) {
      const scaled = incr * Math.pow(10, d);
      if (Math.round(scaled) >= 1 && Math.abs(scaled - Math.round(scaled)) <= 1e-6 * scaled) return d;
    }
    return 20;
  }

  // Labels that tell their ticks apart: when a format gives two different values the
  // same label, the values are written with more significant digits until they differ.
  function distinct(vals, labels) {
    const seen = new Map();
    let clash = false;
    vals.forEach((v, i) => {
      if (v == null || labels[i] === '') return;
      const other = seen.get(labels[i]);
      if (other !== undefined && other !== v) clash = true;
      seen.set(labels[i], v);
    });
    if (!clash) return labels;
    for (let p = 4; p <= 17; p++) {
      const out = vals.map(v => (v == null ? '' : Number(v.toPrecision(p)).toString()));
      const uniq = new Set(out.filter((l, i) => vals[i] != null));
      if (uniq.size === new Set(vals.filter(v => v != null)).size) return out;
    }
    return vals.map(v => (v == null ? '' : String(v)));
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
    return distinct(vals, numberTicksRaw(vals, incr));
  }

  function numberTicksRaw(vals, incr) {
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

  // One value in about `sig` significant digits (log-scale ticks, legends). A value that
  // rounds to 0, 1 or 100 (either sign) without being it gets more digits: a score of
  // 0.99999 never reads as a perfect 1, nor 99.99996 % as 100.
  function compact(v, sig) {
    if (v == null || !isFinite(v)) return String(v);
    if (v === 0) return '0';
    for (let p = sig; p < 17; p++) {
      const r = +v.toPrecision(p);
      if (r === v || (r !== 0 && Math.abs(r) !== 1 && Math.abs(r) !== 100)) { sig = p; break; }
    }
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

  // Durations down to the unit of the tick spacing: 45s, 12m, 12m 30s, 2h, 2h 15m,
  // 1d 1h 0m 10s (zoomed in on a long run); below a second, 0.25s.
  function duration(v, incr) {
    if (v == null) return '';
    const neg = v < 0 ? '-' : '';
    let s = Math.abs(v);
    if (s === 0) return '0s';
    if (incr < 1) {
      const whole = Math.floor(s + 1e-9);
      const frac = (s - whole).toFixed(Math.min(6, decimalsOf(incr))).slice(1);
      const head = whole >= 60 ? duration(whole - whole % 60, 60) + ' ' : '';
      return neg + head + (whole % 60) + frac + 's';
    }
    s = Math.round(s);
    const units = [[86400, 'd'], [3600, 'h'], [60, 'm'], [1, 's']];
    const smallest = incr >= 86400 ? 0 : incr >= 3600 ? 1 : incr >= 60 ? 2 : 3;
    const parts = [];
    let rest = s;
    units.forEach(([size, name], i) => {
      const n = Math.floor(rest / size);
      rest -= n * size;
      if (i <= smallest && (n > 0 || parts.length)) parts.push([n, name]);
    });
    while (parts.length > 1 && parts[parts.length - 1][0] === 0) parts.pop();  // 2h, not 2h 0m
    if (!parts.length) return neg + '0' + units[smallest][1];
    return neg + parts.map(([n, name]) => n + name).join(' ');
  }

  function durationTicks(vals, incr) {
    return distinct(vals, vals.map(v => duration(v, incr)));
  }

  // Tick spacings for durations: sub-second decimals, then whole seconds, minutes,
  // hours and days (uPlot picks the first that leaves room for the labels).
  const durationIncrs = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5,
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
    86400, 172800, 604800, 1209600, 2592000, 7776000, 31536000];

  // Wall-clock labels in UTC, as every time the pages print: time of day, with
  // milliseconds when the ticks are less than a second apart, and the date where it
  // changes. (UTC has no daylight-saving jumps, so ticks stay evenly spaced.)
  function pad(n, w) { return String(n).padStart(w || 2, '0'); }
  function wallTicks(vals, incr) {
    let lastDay = null;
    return vals.map(v => {
      if (v == null) return '';
      const t = new Date(Math.round(v * 1000));
      const day = t.getUTCFullYear() + '-' + pad(t.getUTCMonth() + 1) + '-' + pad(t.getUTCDate());
      let clock = pad(t.getUTCHours()) + ':' + pad(t.getUTCMinutes());
      if (incr < 60) clock += ':' + pad(t.getUTCSeconds());
      if (incr < 1) clock += (t.getUTCMilliseconds() / 1000).toFixed(Math.min(3, decimalsOf(incr))).slice(1);
      if (incr >= 86400) clock = day;
      else if (day !== lastDay) clock += '\n' + day;
      lastDay = day;
      return clock;
    });
  }

  // Spacings for wall-clock ticks: the duration ones, so ticks land on whole seconds,
  // minutes and hours.
  const wallIncrs = durationIncrs;

  // Wall-clock tick positions: whole multiples of `incr` in UTC. Counting multiples (not
  // adding incr up) keeps a sub-second spacing exact at Unix-time magnitudes.
  function wallSplits(u, axisIdx, min, max, incr) {
    const out = [];
    for (let k = Math.ceil(min / incr - 1e-6); k * incr <= max + incr * 1e-6; k++) out.push(k * incr);
    return out;
  }

  // Tick spacings for value axes: 1, 2, 2.5 and 5 times every power of ten from 1e-32 to
  // 1e307. uPlot's own stop at 5e32, so a series of 1e40 (or +-1e300, all finite and
  // stored exactly) got no ticks at all. Written as decimal literals (2.5e-7, not
  // 2.5 * 1e-7) so each spacing is the double closest to its decimal value.
  const numberIncrs = [];
  for (let exp = -32; exp <= 307; exp++) {
    for (const m of [1, 2, 2.5, 5]) {
      const incr = +`${m}e${exp}`;
      if (isFinite(incr)) numberIncrs.push(incr);
    }
  }

  // Width a y axis needs for its labels (uPlot's `size`; its labels are 12px sans-serif,
  // at most about 7.2 px a character, plus the tick and the gap).
  function axisSize(u, values) {
    let longest = 0;
    for (const v of values || []) longest = Math.max(longest, String(v).length);
    return Math.max(40, Math.ceil(longest * 7.2) + 22);
  }

  window.LoupeAxes = { numberTicks, logTicks, durationTicks, wallTicks, durationIncrs, wallIncrs, wallSplits, numberIncrs,
    axisSize, compact, duration, decimalsOf };
})();
