/* Aduan service worker: the shell works with no signal, tracking pages the phone has seen
 * stay readable offline, and queued reports are sent on Background Sync.
 *
 * Source: service_worker/sw.js. web/routes/pwa.py serves it at /sw.js (scope: the whole
 * site) and fills in the five placeholder lines below. Reports themselves never live in a
 * cache: they wait in IndexedDB (outbox-core.js), so a new worker version cannot lose them.
 */
'use strict';

const VERSION = "/*VERSION*/";
const PRECACHE = /*PRECACHE*/[];
const OUTBOX_SCRIPT = "/*OUTBOX*/";
const STRINGS = /*STRINGS*/{};
const TIMEZONE = "/*TIMEZONE*/";

const SHELL_CACHE = 'aduan-shell-' + VERSION;
// Tracking pages outlive worker versions: the last known status must survive an update.
const PAGE_CACHE = 'aduan-pages';
const MAX_PAGES = 40;
const NAV_TIMEOUT_MS = 3500;
const SAVED_AT = 'X-Aduan-Saved-At';
// The public tracking page only; /t/{code}/p/{token} (private) and /struk are not kept.
const TRACKING_PAGE = /^\/t\/[0-9A-Za-z-]{8,12}$/;
const SHELL_PAGES = PRECACHE.filter((url) => !url.startsWith('/static/'));

// The same outbox core as the pages: one definition of "sent" (2xx with our marker).
importScripts(OUTBOX_SCRIPT);

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    // Pages are fetched fresh; a versioned static URL may come from the HTTP cache, where
    // the page that registered us has usually just put it (so installing costs no bytes).
    await cache.addAll(PRECACHE.map((url) =>
      new Request(url, { cache: url.startsWith('/static/') ? 'default' : 'reload' })));
    // Activate at once: queued reports are in IndexedDB, untouched by the cache change.
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('aduan-shell-') && name !== SHELL_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  // Never touch a POST (the outbox owns report uploads) or another site's request.
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // Staff pages and APIs: always the network, never a copy on a shared phone.
  if (url.pathname.startsWith('/staf') || url.pathname.startsWith('/api/')) return;
  if (url.pathname.startsWith('/static/')) {
    event.respondWith(staticFile(request, url));
  } else if (request.mode === 'navigate') {
    event.respondWith(navigate(event, url));
  } else if (SHELL_PAGES.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname).then((hit) => hit || fetch(request)));
  }
});

/* Static files have the content digest in their URL, so a stored copy is never stale. */
async function staticFile(request, url) {
  const cache = await caches.open(SHELL_CACHE);
  const hit = await cache.match(request);
  if (hit) return hit;
  try {
    const response = await fetch(request);
    const immutable = (response.headers.get('Cache-Control') || '').includes('immutable');
    if (response.ok && immutable) cache.put(request, response.clone());
    return response;
  } catch (err) {
    // Offline, a page saved by an older version asks for an older digest of a file we
    // hold in its current version: that is better than an unstyled page.
    const rel = url.pathname.split('/').slice(3).join('/');
    const current = PRECACHE.find((u) => u.startsWith('/static/') && u.endsWith('/' + rel));
    const fallback = current && await cache.match(current);
    if (fallback) return fallback;
    throw err;
  }
}

/* Network first; after NAV_TIMEOUT_MS (or on failure, or a 5xx) the stored copy if there is
 * one, while the network answer keeps coming to refresh the store for next time. For
 * tracking pages this is stale-while-revalidate only when the network is slow or gone: a
 * resident with signal sees today's status at once, not the one from their last visit. */
async function navigate(event, url) {
  const cacheName = storeFor(url);
  let saving = null;
  const network = fetch(event.request).then((response) => {
    // Stored beside the page's own read, so the page still streams in as it arrives.
    if (cacheName && response.ok && response.type === 'basic') {
      saving = keep(cacheName, url, response.clone());
    }
    return response;
  });
  // Called before any await, while the event is still being dispatched.
  event.waitUntil(network.then(() => saving, () => null));
  const stored = await storedPage(url, cacheName);
  if (!stored) {
    return network.catch(async () => (await caches.match('/offline')) || Response.error());
  }
  const fresh = await Promise.race([
    network.then((r) => (r.status >= 500 ? null : r), () => null),
    new Promise((resolve) => setTimeout(resolve, NAV_TIMEOUT_MS, null)),
  ]);
  return fresh || markStale(stored, url);
}

/* Which store keeps a copy of this page: the shell's, the tracking pages', or none. */
function storeFor(url) {
  if (SHELL_PAGES.includes(url.pathname)) return url.search ? null : SHELL_CACHE;
  if (TRACKING_PAGE.test(url.pathname)) return PAGE_CACHE;
  return null;
}

async function storedPage(url, cacheName) {
  // A shell page with a query string still falls back to the stored page without one.
  if (SHELL_PAGES.includes(url.pathname)) {
    return (await caches.open(SHELL_CACHE)).match(url.pathname);
  }
  if (cacheName === PAGE_CACHE) return (await caches.open(PAGE_CACHE)).match(url.pathname);
  return undefined;
}

/* Store a page with the time it was fetched, so an offline copy can say how old it is. */
async function keep(cacheName, url, response) {
  const headers = new Headers(response.headers);
  headers.set(SAVED_AT, new Date().toISOString());
  const body = await response.blob();
  const cache = await caches.open(cacheName);
  await cache.put(url.pathname, new Response(body, { status: response.status, headers }));
  if (cacheName === PAGE_CACHE) {
    const keys = await cache.keys();  // insertion order: drop the oldest beyond the limit
    for (const old of keys.slice(0, Math.max(0, keys.length - MAX_PAGES))) await cache.delete(old);
  }
}

/* A tracking page from the store says so at the top: when it was seen, and that we are
 * offline. Other shell pages have nothing that goes stale and are returned as they are. */
async function markStale(stored, url) {
  const savedAt = stored.headers.get(SAVED_AT);
  if (!TRACKING_PAGE.test(url.pathname) || !savedAt) return stored;
  const html = await stored.text();
  const lang = (/<html[^>]*\slang="([a-z]{2})"/i.exec(html) || [])[1] || 'id';
  const words = STRINGS[lang] || STRINGS.id;
  const time = new Intl.DateTimeFormat(lang === 'id' ? 'id-ID' : 'en-GB', {
    dateStyle: 'medium', timeStyle: 'short', timeZone: TIMEZONE,
  }).format(new Date(savedAt));
  const note = '<p class="notice warn offline-copy" role="status">' +
    escapeHtml(words.stale.replace('{time}', time)) + '</p>';
  const marked = /<main[^>]*>/i.test(html)
    ? html.replace(/<main[^>]*>/i, (tag) => tag + note)
    : html.replace(/<body[^>]*>/i, (tag) => tag + note);
  const headers = new Headers(stored.headers);
  headers.delete('Content-Length');
  return new Response(marked, { status: stored.status, headers });
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/* Background Sync (Chrome on Android): send the outbox even when no page is open. A
 * rejected promise asks the browser to try again later; it gives up after three tries,
 * but every page load and the pages' own timers keep trying after that. */
self.addEventListener('sync', (event) => {
  if (event.tag !== 'outbox') return;
  event.waitUntil(self.AduanOutbox.sendAll(self.AduanOutbox.fetchTransport).then((left) => {
    if (left > 0) throw new Error('reports still waiting for a connection');
  }));
});

/* Web Push: a public step on a report this browser follows (web/push.py `payload()`: code,
 * title, body, url, lang). Browsers allow a push only if it shows a notification
 * (userVisibleOnly), so a push without a payload, or with one we cannot read, still shows
 * a plain one that leads to "Laporan saya". One notification per report (its tag): a newer
 * step replaces the older one and alerts again. */
const REPORT_CODE = /^[0-9A-Z]{8}$/;
const ICON = PRECACHE.find((url) => url.endsWith('/icons/icon-192.png'));
const FALLBACK_PAGE = '/laporan-saya';

self.addEventListener('push', (event) => {
  const { title, options } = notificationFor(event.data);
  event.waitUntil(self.registration.showNotification(title, options));
});

function notificationFor(data) {
  let news = null;
  try {
    news = data ? data.json() : null;
  } catch (err) {
    news = null;  // not JSON: the plain notification below
  }
  const text = (value) => (typeof value === 'string' ? value.trim() : '');
  const lang = news && STRINGS[news.lang] ? news.lang : browserLanguage();
  const code = news && REPORT_CODE.test(text(news.code)) ? text(news.code) : '';
  const options = { lang, icon: ICON, renotify: true };
  if (code && text(news.title)) {
    return {
      title: text(news.title),
      options: {
        // A sender may name its own tag (a staff alert is not the resident's step).
        ...options, body: text(news.body), tag: text(news.tag) || 'aduan-' + code,
        data: { url: sameSitePath(news.url) || '/t/' + code, code },
      },
    };
  }
  const words = STRINGS[lang] || STRINGS.id;
  return {
    title: words.pushTitle,
    options: { ...options, body: words.pushBody, tag: 'aduan', data: { url: FALLBACK_PAGE } },
  };
}

function browserLanguage() {
  const wanted = (self.navigator.language || '').slice(0, 2).toLowerCase();
  return STRINGS[wanted] ? wanted : 'id';
}

/* A path on this site, or '' for anything else (a payload never sends a tap elsewhere). */
function sameSitePath(value) {
  try {
    const url = new URL(value, self.location.origin);
    return url.origin === self.location.origin ? url.pathname + url.search : '';
  } catch (err) {
    return '';
  }
}

/* A tap brings up the report's page: the tab already showing it (reloaded, since it shows an
 * older step), or a new window. With no signal the page comes from PAGE_CACHE, which holds
 * the tracking page of every report followed from this browser (see 'message' below). */
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const data = event.notification.data || {};
  event.waitUntil(openPage(sameSitePath(data.url) || FALLBACK_PAGE));
});

async function openPage(path) {
  const href = new URL(path, self.location.origin).href;
  const tabs = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const tab = tabs.find((client) => new URL(client.url).pathname === new URL(href).pathname);
  if (tab) {
    // navigate() works only on a tab this worker controls; the others are just focused.
    const reloaded = await tab.navigate(href).catch(() => null);
    try {
      return await (reloaded || tab).focus();
    } catch (err) {
      // Not allowed to focus it: a new window below.
    }
  }
  return self.clients.openWindow(href);
}

/* A page tells us when this browser starts following a report (js/push.js): its tracking
 * page is stored now, so a tap on a later notification shows it even with no signal. */
self.addEventListener('message', (event) => {
  const message = event.data || {};
  if (message.type !== 'follow' || typeof message.url !== 'string') return;
  const url = new URL(message.url, self.location.origin);
  if (url.origin !== self.location.origin || !TRACKING_PAGE.test(url.pathname)) return;
  event.waitUntil(fetch(url.pathname, { credentials: 'same-origin' }).then((response) => {
    if (response.ok && response.type === 'basic') return keep(PAGE_CACHE, url, response);
    return null;
  }).catch(() => null));
});
