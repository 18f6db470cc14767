// LoupeMarkdown.render(root): each [data-md] element under `root` rendered once, its text
// as sanitised markdown: markdown-it without raw HTML, highlight.js for code, DOMPurify
// last. Without those libraries the text stays text.
window.LoupeMarkdown = (function () {
  'use strict';
  const md = window.markdownit ? window.markdownit({ html: false, linkify: true, breaks: true, highlight(code, lang) {
    if (window.hljs && lang && hljs.getLanguage(lang)) {
      try { return hljs.highlight(code, { language: lang, ignoreIllegals: true }).value; } catch (e) { /* plain */ }
    }
    return '';
  } }) : null;
  function render(root) {
    if (!md || !window.DOMPurify || !root) return;
    for (const el of root.querySelectorAll('[data-md]')) {
      el.innerHTML = DOMPurify.sanitize(md.render(el.textContent));
      el.removeAttribute('data-md');
      el.classList.add('rendered');
    }
  }
  return { render };
})();
