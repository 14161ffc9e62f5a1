/* "Dukung & ikuti" without leaving the page, "Sudah dilaporkan?" on the report form, and
 * "Laporan saya"'s list of supported reports.
 *
 * A form[data-dukung] (templates/_dukung.html, _sekitar.html) posts to its data-dukung URL
 * (JSON) instead of reloading. In the same tap the report is followed through Web Push:
 * with data-push (the report form's list) this asks for the permission and subscribes
 * here; otherwise the page's own "Kabari saya" button (js/push.js) is pressed. Following
 * is never waited for: the support counts whatever the browser answers. Without this file
 * the form posts as plain HTML.
 *
 * On the report form (#nearby, loaded by js/lapor.js only once it is being filled; on the
 * staff intake form, data-form names the form), the list of open reports of the chosen
 * category near the point is asked for whenever the category or the point changes; offline, or without an answer, nothing shows and nothing
 * waits. A section[data-fragment] is filled with the HTML its URL returns.
 */
(function (global) {
  'use strict';
  if (global.AduanDukung) return;
  global.AduanDukung = true;

  function follow(form) {
    const key = (form.closest('[data-push-key]') || { dataset: {} }).dataset.pushKey;
    if (!form.dataset.push) {
      const button = document.querySelector('button[data-push-subscribe]:not([hidden])');
      if (button) button.click();
      return;
    }
    if (!key || !global.isSecureContext || !('PushManager' in global) || !('Notification' in global)) return;
    Notification.requestPermission().then((permission) => {
      if (permission !== 'granted') return null;
      return navigator.serviceWorker.ready.then(async (registration) => {
        const subscription = await registration.pushManager.getSubscription()
          || await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes(key) });
        return fetch(form.dataset.push, {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(subscription),
        });
      });
    }).catch(() => {});
  }

  function bytes(key) {
    const text = atob(key.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (key.length % 4)) % 4));
    return Uint8Array.from(text, (c) => c.charCodeAt(0));
  }

  async function onSubmit(event) {
    const form = event.target.closest('form[data-dukung]');
    if (!form) return;
    event.preventDefault();
    const scope = form.closest('[data-dukung-scope]') || form.parentNode;
    const status = scope.querySelector('[data-dukung-status]');
    const count = scope.querySelector('[data-support-count]');
    follow(form);
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      const response = await fetch(form.dataset.dukung, {
        method: 'POST', headers: { Accept: 'application/json' }, credentials: 'same-origin',
      });
      const answer = await response.json();
      const done = (form.closest('[data-done]') || { dataset: {} }).dataset.done || '';
      if (status) status.textContent = response.ok ? done : (answer.message || '');
      if (response.ok) {
        if (count) count.textContent = answer.label;
        form.hidden = true;
      } else button.disabled = false;
    } catch (err) {
      form.submit();  // no answer (offline, a portal's page): let the plain form try
    }
  }

  // -- "Sudah dilaporkan?" on the report form ----------------------------------------------
  let asked = '';
  let timer = 0;
  function askNearby() {
    const box = document.getElementById('nearby');
    const form = box && document.getElementById(box.dataset.form || 'lapor-form');
    if (!box || !form) return;
    const value = (name) => ((form.elements.namedItem(name) || {}).value || '').trim();
    const query = new URLSearchParams({ category: value('category'), lat: value('lat'), lon: value('lon') });
    if (!query.get('category') || !query.get('lat') || !query.get('lon') || navigator.onLine === false) {
      box.hidden = true;
      return;
    }
    if (query.toString() === asked) return;
    asked = query.toString();
    const controller = typeof AbortController === 'function' ? new AbortController() : null;
    if (controller) setTimeout(() => controller.abort(), 8000);
    fetch(box.dataset.url + '?' + asked, { credentials: 'same-origin', signal: controller && controller.signal })
      .then((response) => (response.ok ? response.text() : ''))
      .then((html) => {
        if (asked !== query.toString()) return;  // a newer question is on its way
        box.innerHTML = html;
        box.hidden = !html.trim();
      })
      .catch(() => { asked = ''; box.hidden = true; });
  }

  function onChange(event) {
    const box = document.getElementById('nearby');
    const form = box && document.getElementById(box.dataset.form || 'lapor-form');
    if (!form || !form.contains(event.target)) return;
    clearTimeout(timer);
    timer = setTimeout(askNearby, 400);
  }

  async function fill(section) {
    try {
      const response = await fetch(section.dataset.fragment, { credentials: 'same-origin' });
      if (response.ok) section.innerHTML = await response.text();
    } catch (err) { /* offline: the link stays */ }
  }

  function start() {
    document.addEventListener('submit', onSubmit);
    document.addEventListener('change', onChange);
    document.addEventListener('input', onChange);
    for (const section of document.querySelectorAll('section[data-fragment]')) fill(section);
    askNearby();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})(self);
