/* "Dukung & ikuti" without leaving the page, and "Laporan saya"'s list of supported reports.
 *
 * A form[data-dukung] (templates/_dukung.html) posts to its data-dukung URL (JSON) instead
 * of reloading; in the same tap the page's "Kabari saya" button (js/push.js), when shown, is
 * pressed, so the browser asks to follow the report — never waited for: the support counts
 * whatever the answer. Without this file the form posts as plain HTML. A
 * section[data-fragment] is filled with the HTML its URL returns; offline it keeps its link.
 */
(function (global) {
  'use strict';

  async function onSubmit(event) {
    const form = event.target.closest('form[data-dukung]');
    if (!form) return;
    event.preventDefault();
    const scope = form.closest('[data-dukung-scope]');
    const status = scope.querySelector('[data-dukung-status]');
    const follow = document.querySelector('button[data-push-subscribe]:not([hidden])');
    if (follow) follow.click();
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      const response = await fetch(form.dataset.dukung, {
        method: 'POST', headers: { Accept: 'application/json' }, credentials: 'same-origin',
      });
      const answer = await response.json();
      if (response.ok) {
        scope.querySelector('[data-support-count]').textContent = answer.label;
        status.textContent = form.dataset.done || '';
        form.hidden = true;
      } else {
        status.textContent = answer.message || '';
        button.disabled = false;
      }
    } catch (err) {
      form.submit();  // no answer (offline, a portal): let the plain form try
    }
  }

  async function fill(section) {
    try {
      const response = await fetch(section.dataset.fragment, { credentials: 'same-origin' });
      if (response.ok) section.innerHTML = await response.text();
    } catch (err) { /* offline: the link stays */ }
  }

  function start() {
    document.addEventListener('submit', onSubmit);
    for (const section of document.querySelectorAll('section[data-fragment]')) fill(section);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})(self);
