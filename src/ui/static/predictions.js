// Predictions: answers rendered as sanitised markdown on a prediction's page, and the
// filter form sends only the filters that are set.
(function () {
  'use strict';
  if (window.markdownit && window.DOMPurify) {
    const md = window.markdownit({ html: false, linkify: true, breaks: true, highlight(code, lang) {
      if (window.hljs && lang && hljs.getLanguage(lang)) {
        try { return hljs.highlight(code, { language: lang, ignoreIllegals: true }).value; } catch (e) { /* plain */ }
      }
      return '';
    } });
    for (const el of document.querySelectorAll('[data-md]')) {
      el.innerHTML = DOMPurify.sanitize(md.render(el.textContent));
      el.classList.add('rendered');
    }
  }
  const form = document.getElementById('prediction-filters');
  if (form) {
    form.addEventListener('submit', () => {
      for (const el of form.elements) if (el.name && el.value === '') el.disabled = true;
    });
  }
})();
