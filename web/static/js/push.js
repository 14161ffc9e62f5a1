/* "Kabari saya": this browser follows a report (or, on staff pages, anything else with the
 * same contract) through Web Push.
 *
 * Any button with data-push-subscribe="<url>" works: a tap asks for the notification
 * permission (only then, never on load), subscribes this browser's service worker with the
 * server's key (data-push-key on the button, or data-key on #push-strings) and POSTs the
 * PushSubscription JSON to <url>; "Berhenti" DELETEs {"endpoint"} to the same url. Optional:
 * data-push-csrf (sent as X-CSRF-Token), data-push-track (a tracking page the service
 * worker stores for offline taps), data-push-code (names the report to screen readers when
 * a page lists several), data-push-following / data-push-stopped (its own words for those
 * states). The other words come from #push-strings (templates/_push.html, push_script()).
 *
 * Without this file the button stays hidden. Without Push support (an iPhone before the site
 * is added to the home screen, an old browser) the page says so instead of showing it.
 * Which urls this browser follows is kept in localStorage, checked against the browser's
 * own subscription on every visit, so a revisit shows "Berhenti".
 */
(function (global) {
  'use strict';
  if (global.AduanPush) return;
  global.AduanPush = true;

  const STORE = 'aduan-push';      // {"<url path>": endpoint}
  const S = {};                    // words from #push-strings
  const states = new Map();        // url path → {state, detail}: survives a list redrawn
  const supported = global.isSecureContext && 'serviceWorker' in navigator
    && 'PushManager' in global && 'Notification' in global;

  function start() {
    Object.assign(S, (document.getElementById('push-strings') || {}).dataset || {});
    document.addEventListener('click', onClick);
    prepareAll(document.body);
    // "Laporan saya" draws its list after load and redraws it: new buttons get ready too.
    new MutationObserver((records) => {
      for (const record of records) {
        for (const node of record.addedNodes) if (node instanceof Element) prepareAll(node);
      }
    }).observe(document.body, { childList: true, subtree: true });
  }

  function prepareAll(root) {
    if (root instanceof Element) addToMyReports(root);
    const found = root instanceof Element && root.matches('[data-push-subscribe]') ? [root]
      : root.querySelectorAll('[data-push-subscribe]');
    for (const button of found) {
      if (button.dataset.pushReady) continue;
      button.dataset.pushReady = '1';
      prepare(button);
    }
  }

  /* "Laporan saya" (outbox.js draws it from the phone's own storage): a button under each
   * report sent from this phone, made here rather than there, so that the report form,
   * which loads outbox.js too, carries none of these bytes. The private link's token goes
   * along: a confidential report is followed only with it. */
  function addToMyReports(root) {
    const list = root.closest('#outbox[data-show=all]') || root.querySelector('#outbox[data-show=all]');
    if (!list) return;
    for (const item of list.querySelectorAll('li[data-state=sent][data-code]')) {
      const link = item.querySelector('a.code');
      if (!link || item.querySelector('[data-push-scope]')) continue;
      const code = item.dataset.code;
      const token = Array.from(item.querySelectorAll('a[href]'), (a) =>
        /^\/t\/[^/]+\/p\/([^/?#]+)$/.exec(a.getAttribute('href'))).find(Boolean);
      const scope = el('div', { class: 'push', 'data-push-scope': '' });
      scope.append(el('button', {
        type: 'button', class: 'secondary', hidden: '', 'data-push-code': link.textContent,
        'data-push-subscribe': '/api/v1/reports/' + encodeURIComponent(code) + '/push'
          + (token ? '?k=' + encodeURIComponent(token[1]) : ''),
        'data-push-track': link.getAttribute('href'),
      }), el('p', { class: 'push-status', role: 'status', 'data-push-status': '' }));
      const actions = item.querySelector('.outbox-actions');
      if (actions) actions.before(scope);
      else item.append(scope);
    }
  }

  /* The parts around a button: its status line (a live region) and its "Berhenti". A page
   * may render them (data-push-scope, data-push-status); otherwise they are added here. */
  function parts(button) {
    let scope = button.closest('[data-push-scope]');
    if (!scope) {
      scope = document.createElement('div');
      scope.className = 'push';
      scope.setAttribute('data-push-scope', '');
      button.replaceWith(scope);
      scope.append(button);
    }
    let status = scope.querySelector('[data-push-status]');
    if (!status) {
      status = el('p', { class: 'push-status', role: 'status', 'data-push-status': '' });
      scope.append(status);
    }
    let stop = scope.querySelector('button[data-push-stop]');
    if (!stop) {
      const code = button.dataset.pushCode;
      stop = el('button', { type: 'button', class: 'secondary', 'data-push-stop': '', hidden: '' });
      stop.textContent = S.stop || 'Berhenti';
      if (code && S.stopCode) stop.setAttribute('aria-label', fill(S.stopCode, code));
      status.after(stop);
    }
    return { scope, status, stop };
  }

  function prepare(button) {
    if (!button.textContent.trim()) button.textContent = S.follow || 'Kabari saya';
    const code = button.dataset.pushCode;
    if (code && S.followCode) button.setAttribute('aria-label', fill(S.followCode, code));
    const { status } = parts(button);
    if (!supported || !serverKey(button)) {
      button.hidden = true;
      // Said once a page, not under every report of a list.
      if (supported || document.querySelector('.push-unsupported')) return;
      status.classList.add('push-unsupported');
      status.textContent = S.unsupported || '';
      return;
    }
    const path = pathOf(button);
    if (states.has(path)) return draw(button, states.get(path), false);
    if (!followed()[path]) return draw(button, { state: 'idle' }, false);
    // Followed on an earlier visit: still so only while the browser keeps that subscription.
    current().then((subscription) => {
      const endpoint = followed()[path];
      if (subscription && subscription.endpoint === endpoint) {
        set(path, { state: 'following' }, false);
      } else {
        remember(path, null);
        set(path, { state: 'idle' }, false);
      }
    }, () => set(path, { state: 'idle' }, false));
  }

  async function current() {
    const registration = await navigator.serviceWorker.getRegistration('/');
    return registration ? registration.pushManager.getSubscription() : null;
  }

  function onClick(event) {
    const target = event.target instanceof Element ? event.target : null;
    const follow = target && target.closest('button[data-push-subscribe]');
    const stop = target && target.closest('button[data-push-stop]');
    if (follow) subscribe(follow);
    else if (stop) {
      const button = stop.closest('[data-push-scope]').querySelector('[data-push-subscribe]');
      if (button) unsubscribe(button);
    }
  }

  function subscribe(button) {
    const path = pathOf(button);
    if ((states.get(path) || {}).state === 'working') return;
    // Asked here, in the tap itself: the browser shows its prompt only for a user's gesture.
    const asked = Notification.requestPermission();
    set(path, { state: 'working' });
    asked.then(async (permission) => {
      if (permission === 'denied') return set(path, { state: 'denied' });
      if (permission !== 'granted') return set(path, { state: 'failed' });
      const registration = await ready();
      const subscription = await pushSubscription(registration, serverKey(button));
      const response = await send(button, 'POST', JSON.stringify(subscription));
      if (!response.ok) throw new Error(await reason(response));
      remember(path, subscription.endpoint);
      const track = button.dataset.pushTrack;
      if (track && registration.active) registration.active.postMessage({ type: 'follow', url: track });
      set(path, { state: 'following' }, true);
    }).catch((err) => set(path, { state: 'failed', detail: err && err.message }));
  }

  function unsubscribe(button) {
    const path = pathOf(button);
    if ((states.get(path) || {}).state === 'working') return;
    set(path, { state: 'working' });
    (async () => {
      const endpoint = followed()[path] || ((await current()) || {}).endpoint;
      if (endpoint) {
        const response = await send(button, 'DELETE', JSON.stringify({ endpoint }));
        if (!response.ok) throw new Error(await reason(response));
      }
      // The browser's subscription stays: it may follow other reports through it.
      remember(path, null);
      set(path, { state: 'stopped' }, true);
    })().catch((err) => set(path, { state: 'following', detail: S.stopFailed || (err && err.message) }));
  }

  /* The service worker the page registered, or registered now (the receipt page loads no
   * other script that would). */
  async function ready() {
    await navigator.serviceWorker.register('/sw.js', { scope: '/' });
    return navigator.serviceWorker.ready;
  }

  async function pushSubscription(registration, key) {
    const manager = registration.pushManager;
    let subscription = await manager.getSubscription();
    const made = subscription && subscription.options && subscription.options.applicationServerKey;
    if (made && base64url(made) !== key) {
      // Made for another server key (the key was replaced): it can no longer be used.
      await subscription.unsubscribe();
      subscription = null;
    }
    return subscription || manager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes(key) });
  }

  function send(button, method, body) {
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (button.dataset.pushCsrf) headers['X-CSRF-Token'] = button.dataset.pushCsrf;
    return fetch(button.dataset.pushSubscribe, { method, headers, body, credentials: 'same-origin' });
  }

  async function reason(response) {
    try {
      return (await response.json()).message || '';
    } catch (err) {
      return '';
    }
  }

  // -- Drawing a state on every button for the same url ----------------------------------------

  function set(path, state, announce = true) {
    states.set(path, state);
    for (const button of document.querySelectorAll('[data-push-subscribe]')) {
      if (button.dataset.pushReady && pathOf(button) === path) draw(button, state, announce);
    }
  }

  function draw(button, { state, detail }, announce) {
    const { scope, status, stop } = parts(button);
    const working = state === 'working';
    button.disabled = working;
    stop.disabled = working;
    if (!working) {
      button.hidden = state === 'following';
      stop.hidden = state !== 'following';
    }
    status.classList.toggle('push-problem', !!detail || state === 'denied' || state === 'failed');
    // A button may word its own states (data-push-following, data-push-stopped, …).
    const own = button.dataset['push' + state.charAt(0).toUpperCase() + state.slice(1)];
    const words = own || {
      working: S.working, following: S.following, stopped: S.stopped, denied: S.denied,
      failed: S.failed,
    }[state] || '';
    // A failed "Berhenti" stays following and says why; a failed follow adds the server's words.
    const text = state === 'following' && detail ? detail : [words, detail].filter(Boolean).join(' ');
    if (announce) {
      status.textContent = '';  // the same words twice are announced twice
      setTimeout(() => { status.textContent = text; }, 50);
    } else {
      status.textContent = text;
    }
    // The tapped button was disabled, and may now be hidden: keep the keyboard here.
    const active = document.activeElement;
    if (announce && !working && (!active || active === document.body || scope.contains(active))) {
      (button.hidden ? stop : button).focus();
    }
  }

  // -- Small helpers -----------------------------------------------------------------------------

  function pathOf(button) {
    return new URL(button.dataset.pushSubscribe, global.location.href).pathname;
  }

  function serverKey(button) {
    return button.dataset.pushKey || S.key || '';
  }

  function followed() {
    try {
      return JSON.parse(global.localStorage.getItem(STORE) || '{}') || {};
    } catch (err) {
      return {};
    }
  }

  function remember(path, endpoint) {
    const all = followed();
    if (endpoint) all[path] = endpoint;
    else delete all[path];
    try {
      global.localStorage.setItem(STORE, JSON.stringify(all));
    } catch (err) {
      // No storage (a private window): a revisit shows "Kabari saya" again, which is harmless.
    }
  }

  function bytes(key) {
    const text = atob(key.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (key.length % 4)) % 4));
    return Uint8Array.from(text, (c) => c.charCodeAt(0));
  }

  function base64url(buffer) {
    const text = String.fromCharCode(...new Uint8Array(buffer));
    return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function el(tag, attrs) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  }

  function fill(text, code) {
    return String(text).replace('{code}', code);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})(self);
