// LoupeApi.call(method, url, body): a JSON call to Loupe's API from a page; resolves to the
// envelope's data, or throws with the server's message (or the HTTP status when the
// answer is not Loupe's JSON, as a proxy's error page is not).
window.LoupeApi = (function () {
  'use strict';
  async function call(method, url, body) {
    const resp = await fetch(url, {
      method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    let json = null;
    try { json = await resp.json(); } catch (e) { /* a proxy's HTML error page */ }
    if (!resp.ok) throw new Error((json && json.message) || ('HTTP ' + resp.status));
    return json && json.data;
  }
  return { call };
})();
