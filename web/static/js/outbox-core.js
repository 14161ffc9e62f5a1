/* Aduan outbox, core: a report is stored on the phone (IndexedDB) before anything is sent,
 * and leaves the phone's queue only when our server confirms it with its own marker header.
 *
 * The sender: the stores, the two transports (a page's XMLHttpRequest, which reports upload
 * progress; the service worker's fetch), what an answer means, one sender at a time, and the
 * statuses "Laporan saya" shows. Shared by the pages (<script defer>, before outbox.js, the
 * view) and the service worker (importScripts, to send on Background Sync), so "sent" has
 * one definition. Plain ES2017, no framework, no build step; no inline scripts or styles
 * (strict CSP).
 */
(function (global) {
  'use strict';
  if (global.AduanOutbox) return;  // included twice: one sender per page is enough

  const DB_NAME = 'aduan';
  const DB_VERSION = 2;
  const OUTBOX = 'outbox';  // reports not yet confirmed by the server (never expire)
  const SENT = 'sent';      // confirmed reports: code, links, last known status
  const META = 'meta';      // this phone's own random secret (the "device" key)
  const API_URL = '/api/v1/reports';
  const STATUS_URL = '/api/v1/reports/status';
  const MARKER = 'X-Aduan-Code';  // only our server sets it: a captive portal's 200 has none
  const CODE_RE = /^[0-9A-Z]{8}$/;
  // Sent with every report, so that a replay of one of its keys from elsewhere is never
  // given its private link (the server keeps only a hash of it).
  const DEVICE_HEADER = 'X-Aduan-Device';
  // A Retry-After longer than this is not believed: a wrong header must not park a report.
  const MAX_RETRY_AFTER_S = 3600;
  const STALL_MS = 60000;  // a page's upload with no progress for this long is given up
  // Worth trying again later as they are: proxy login, timeout, same key still in
  // progress on the server, too early, rate limited. Any other 4xx needs the resident.
  const RETRY_STATUSES = [407, 408, 409, 425, 429];
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('aduan-outbox') : null;

  let dbPromise = null;
  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const req = indexedDB.open(DB_NAME, DB_VERSION);
        req.onupgradeneeded = () => {
          const stores = req.result.objectStoreNames;  // version 1 had the first two
          if (!stores.contains(OUTBOX)) req.result.createObjectStore(OUTBOX, { keyPath: 'id' });
          if (!stores.contains(SENT)) req.result.createObjectStore(SENT, { keyPath: 'code' });
          if (!stores.contains(META)) req.result.createObjectStore(META);
        };
        req.onsuccess = () => {
          // Let a newer version of this script upgrade the database instead of blocking it.
          req.result.onversionchange = () => { req.result.close(); dbPromise = null; };
          resolve(req.result);
        };
        req.onerror = () => { dbPromise = null; reject(req.error); };
      });
    }
    return dbPromise;
  }

  /* Run fn(store, ...) in one transaction; resolve once it is committed to disk. */
  async function inTx(names, mode, fn) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(names, mode);
      const value = fn(...names.map((name) => tx.objectStore(name)));
      tx.oncomplete = () => resolve(value instanceof IDBRequest ? value.result : value);
      tx.onerror = tx.onabort = () => reject(tx.error);
    });
  }

  /* Tell other tabs and the pages of a syncing service worker to redraw. */
  function changed(value) {
    if (channel) channel.postMessage('changed');
    return value;
  }

  const listOutbox = () => inTx([OUTBOX], 'readonly', (s) => s.getAll());
  const listSent = () => inTx([SENT], 'readonly', (s) => s.getAll());
  const getEntry = (id) => inTx([OUTBOX], 'readonly', (s) => s.get(id));
  const saveEntry = (entry) => inTx([OUTBOX], 'readwrite', (s) => { s.put(entry); }).then(changed);
  const deleteEntry = (id) => inTx([OUTBOX], 'readwrite', (s) => { s.delete(id); }).then(changed);
  const forgetSent = (code) => inTx([SENT], 'readwrite', (s) => { s.delete(code); }).then(changed);

  /* Change an entry only if it still exists: a report deleted meanwhile stays deleted. */
  function updateEntry(id, patch) {
    return inTx([OUTBOX], 'readwrite', (s) => {
      const req = s.get(id);
      req.onsuccess = () => { if (req.result) s.put(Object.assign(req.result, patch)); };
    }).then(changed);
  }

  /* This phone's secret: made once, kept in IndexedDB; the same in every tab and in the
   * service worker (one read-write transaction, so two tabs cannot make two). */
  let devicePromise = null;
  function deviceSecret() {
    if (!devicePromise) {
      const found = {};
      devicePromise = inTx([META], 'readwrite', (s) => {
        const req = s.get('device');
        req.onsuccess = () => {
          found.secret = typeof req.result === 'string' ? req.result : '';
          if (!found.secret) {
            const bytes = global.crypto.getRandomValues(new Uint8Array(32));
            found.secret = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
            s.put(found.secret, 'device');
          }
        };
      }).then(() => found.secret);
      devicePromise.catch(() => { devicePromise = null; });
    }
    return devicePromise;
  }

  async function requestHeaders(entry) {
    const headers = { 'Idempotency-Key': entry.key, Accept: 'application/json' };
    try {
      headers[DEVICE_HEADER] = await deviceSecret();
    } catch (err) { /* no device secret: the report still goes, its replays get no link */ }
    return headers;
  }

  /* When the server said to come back (429, 503 with Retry-After: seconds or a date). */
  function retryAt(value) {
    const text = String(value || '').trim();
    if (!text) return '';
    const seconds = /^\d+$/.test(text) ? Number(text) : (Date.parse(text) - Date.now()) / 1000;
    if (!isFinite(seconds) || seconds <= 0) return '';
    return new Date(Date.now() + Math.min(seconds, MAX_RETRY_AFTER_S) * 1000).toISOString();
  }

  function safePath(value) {
    return typeof value === 'string' && /^\/[^/\\]/.test(value) ? value : '';
  }

  /* Confirmed: out of the queue and into "Laporan saya", in one transaction. */
  function markSent(entry, answer) {
    const data = answer.data || {};
    const code = answer.code;
    const record = {
      code,
      display_code: code.slice(0, 4) + '-' + code.slice(4),
      tracking_url: safePath(data.tracking_url) || '/t/' + code,
      receipt_url: safePath(data.receipt_url),
      private_url: safePath(data.private_url),
      entry_id: entry.id,
      summary: entry.summary || {},
      confidential: !!entry.confidential,
      written_at: entry.written_at,
      sent_at: new Date().toISOString(),
      status: '', status_label: '', checked_at: '',
    };
    return inTx([OUTBOX, SENT], 'readwrite', (outbox, sent) => {
      outbox.delete(entry.id);
      sent.put(record);
    }).then(changed);
  }

  /* The one rule for what an answer means. */
  function judge(answer) {
    const status = answer.status;
    if (status >= 200 && status < 300) return CODE_RE.test(answer.code || '') ? 'sent' : 'retry';
    if (status >= 400 && status < 500 && !RETRY_STATUSES.includes(status)) return 'fix';
    return 'retry';  // network error (0), 5xx, odd proxies
  }

  function buildForm(entry) {
    const form = new FormData();
    for (const [name, value] of entry.fields) form.append(name, value);
    entry.photos.forEach((p, i) => form.append('photos', p.blob, p.name || 'foto-' + (i + 1) + '.jpg'));
    // The shrunk photos carry no EXIF: the position read from the first original goes along.
    const located = entry.photos.find((p) => p.gps);
    if (located) {
      form.append('photo_lat', String(located.gps[0]));
      form.append('photo_lon', String(located.gps[1]));
    }
    return form;
  }

  function parseJson(text) {
    try { return JSON.parse(text); } catch (err) { return null; }
  }

  /* The page's transport: XMLHttpRequest, because fetch() reports no upload progress. */
  function xhrTransport(entry, onProgress, headers) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      let last = Date.now();
      const watchdog = setInterval(() => { if (Date.now() - last > STALL_MS) xhr.abort(); }, 5000);
      const done = (answer) => { clearInterval(watchdog); resolve(answer); };
      xhr.open('POST', API_URL);
      for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
      xhr.upload.onprogress = (e) => {
        last = Date.now();
        if (e.lengthComputable && e.total) onProgress(Math.min(100, Math.floor((100 * e.loaded) / e.total)));
      };
      xhr.upload.onload = () => { last = Date.now(); };
      xhr.onload = () => done({
        status: xhr.status, code: xhr.getResponseHeader(MARKER),
        retryAfter: xhr.getResponseHeader('Retry-After'), data: parseJson(xhr.responseText),
      });
      xhr.onerror = xhr.onabort = xhr.ontimeout = () => done({ status: 0 });
      onProgress(0);
      xhr.send(buildForm(entry));
    });
  }

  /* The service worker's transport (XMLHttpRequest does not exist there). */
  async function fetchTransport(entry, onProgress, headers) {
    const response = await fetch(API_URL, {
      method: 'POST', body: buildForm(entry), credentials: 'same-origin', cache: 'no-store',
      headers: headers || { 'Idempotency-Key': entry.key, Accept: 'application/json' },
    });
    return {
      status: response.status, code: response.headers.get(MARKER),
      retryAfter: response.headers.get('Retry-After'), data: parseJson(await response.text()),
    };
  }

  async function sendOne(entry, transport, onProgress) {
    let answer;
    try {
      const headers = await requestHeaders(entry);
      answer = await transport(entry, (percent) => onProgress && onProgress(entry.id, percent), headers);
    } catch (err) {
      answer = { status: 0 };
    }
    const outcome = judge(answer);
    if (outcome === 'sent') {
      await markSent(entry, answer);
    } else if (outcome === 'fix') {
      const data = answer.data && typeof answer.data === 'object' ? answer.data : {};
      await updateEntry(entry.id, {
        state: 'needs_fix', last_status: answer.status,
        message: typeof data.message === 'string' ? data.message : '',
        errors: data.errors && typeof data.errors === 'object' ? data.errors : {},
      });
    } else {
      await updateEntry(entry.id, {
        state: 'waiting', last_status: answer.status, attempts: (entry.attempts || 0) + 1,
        not_before: retryAt(answer.retryAfter),
      });
    }
    return outcome;
  }

  /* Under the lock: send waiting entries oldest first; stop at the first failure (the
   * connection is likely gone) and at an entry the server asked to hold back until later
   * (its limit is per phone, so the others would be refused as well). Resolves with how
   * many are still waiting. */
  async function sendWaiting(transport, onProgress) {
    const entries = (await listOutbox())
      .filter((e) => e.state !== 'needs_fix')
      .sort((a, b) => (a.created_at < b.created_at ? -1 : 1));
    const now = new Date().toISOString();
    for (let i = 0; i < entries.length; i++) {
      if (!(await getEntry(entries[i].id))) continue;  // deleted by the resident meanwhile
      if (entries[i].not_before && entries[i].not_before > now) return entries.length - i;
      await updateEntry(entries[i].id, { state: 'sending', last_try: new Date().toISOString() });
      if ((await sendOne(entries[i], transport, onProgress)) === 'retry') return entries.length - i;
    }
    return 0;
  }

  let running = null;
  let again = false;
  /* One sender at a time across tabs and the service worker (Web Locks); inside one page
   * a call during a run asks for one more run, so a report saved meanwhile is not missed. */
  function sendAll(transport, onProgress) {
    if (running) { again = true; return running; }
    const locks = global.navigator && global.navigator.locks;
    const once = () => (locks
      ? locks.request('aduan-outbox', () => sendWaiting(transport, onProgress))
      : sendWaiting(transport, onProgress));
    running = (async () => {
      let left;
      do { again = false; left = await once(); } while (again);
      return left;
    })();
    const clear = () => { running = null; };
    running.then(clear, clear);
    return running;
  }

  /* Keep the statuses "Laporan saya" fetched for the reports this phone sent. */
  const putSent = (records) => inTx([SENT], 'readwrite', (s) => { records.forEach((r) => s.put(r)); });

  /* One small request for the statuses of every report this phone sent (≤ 50 a request),
   * kept with them; false when the answer did not come, and what was known stays. */
  async function refreshSentStatuses() {
    const sent = (await listSent()).filter((r) => !r.confidential);
    for (let i = 0; i < sent.length; i += 50) {
      const chunk = sent.slice(i, i + 50);
      let found = null;
      try {
        const response = await fetch(STATUS_URL + '?codes=' + chunk.map((r) => r.code).join(','),
          { headers: { Accept: 'application/json' }, cache: 'no-store' });
        if (response.ok) found = await response.json();
      } catch (err) {
        found = null;  // offline, or a captive portal's page: keep what we knew
      }
      if (!found || typeof found !== 'object') return false;
      const now = new Date().toISOString();
      await putSent(chunk.filter((r) => found[r.code] && typeof found[r.code].status === 'string')
        .map((r) => Object.assign(r, {
          status: found[r.code].status, status_label: String(found[r.code].status_label || ''), checked_at: now,
        })));
    }
    return true;
  }

  /* An entry's id and each attempt's idempotency key. */
  function uuid() {
    if (global.crypto.randomUUID) return global.crypto.randomUUID();
    const b = global.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const x = Array.from(b, (n) => n.toString(16).padStart(2, '0')).join('');
    return [x.slice(0, 8), x.slice(8, 12), x.slice(12, 16), x.slice(16, 20), x.slice(20)].join('-');
  }

  global.AduanOutbox = {
    listOutbox, listSent, getEntry, saveEntry, updateEntry, deleteEntry, forgetSent, putSent,
    sendAll, fetchTransport, xhrTransport, buildForm, parseJson, channel, API_URL, MARKER,
    deviceSecret, refreshSentStatuses, uuid,
  };
})(self);

