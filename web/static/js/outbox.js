/* Aduan outbox, the page's view: saves the /lapor form into the outbox (its photos shrunk
 * by photo-shrink.js), lets a refused report be fixed, draws the queue and "Laporan saya",
 * and makes the sender (outbox-core.js) run: at once, on load, when the signal or the page
 * comes back, on a button and on a backoff timer.
 *
 * Needs outbox-core.js first (the _outbox_strings.html partial loads it). Without it, or
 * without IndexedDB, nothing is intercepted and the plain form post works as without JS.
 */
(function (global) {
  'use strict';
  const core = global.AduanOutbox;
  if (!core || global.AduanOutboxPage) return;
  global.AduanOutboxPage = true;
  const {
    listOutbox, listSent, getEntry, saveEntry, updateEntry, deleteEntry, forgetSent,
    sendAll, xhrTransport, refreshSentStatuses, uuid, channel,
  } = core;

  const FIRST_DELAY_MS = 5000;     // retry while a page is open: 5 s, 10 s, 20 s … 5 min
  const MAX_DELAY_MS = 300000;

  const S = {};                    // words from #outbox-strings, rendered by the server
  const progress = new Map();      // entry id → upload percent (this page's uploads)
  const seenHere = new Set();      // entries this page listed: shown as "Terkirim" once sent
  const flagged = [];              // fields marked with the server's messages
  let form = null;
  let box = null;
  let showAll = false;             // "Laporan saya": every report of this phone
  let fixing = null;               // the refused report being corrected in the form
  let justSaved = null;
  let saving = false;
  let timer = null;
  let failures = 0;
  let watched = null;
  let waitingCount = 0;            // entries not yet sent, as last drawn
  let objectUrls = [];

  function startPage() {
    Object.assign(S, (document.getElementById('outbox-strings') || {}).dataset || {});
    form = document.querySelector('form[data-outbox]');
    box = document.getElementById('outbox');
    showAll = !!box && box.dataset.show === 'all';
    if ('serviceWorker' in navigator) {
      navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {});
    }
    if (!('indexedDB' in global)) return;  // the plain form post keeps working
    if (form) form.addEventListener('submit', onSubmit);
    if (form) form.addEventListener('change', onPhotosChosen);
    if (box) box.addEventListener('click', onClick);
    if (channel) channel.addEventListener('message', () => render());
    global.addEventListener('online', () => { failures = 0; kick(); refreshStatuses(); });
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') kick();
      else if (waitingCount) registerSync();  // leaving: the service worker takes over
    });
    const fix = /^#perbaiki-(.+)$/.exec(global.location.hash);
    if (fix && form) startFix(decodeURIComponent(fix[1]));
    render().then(kick);
    refreshStatuses();
  }

  /* Send now; while reports still wait, try again later with a growing delay. */
  function kick() {
    clearTimeout(timer);
    timer = null;
    if (navigator.onLine === false) {  // surely offline: the 'online' event will call again
      registerSync();
      return Promise.resolve(1);
    }
    const run = sendAll(xhrTransport, showProgress);
    if (run !== watched) {  // one follow-up per run, however many triggers joined it
      watched = run;
      run.then(afterRun, () => afterRun(1));
    }
    return run;
  }

  function afterRun(left) {
    progress.clear();
    clearTimeout(timer);
    if (left > 0) {
      failures += 1;
      timer = setTimeout(kick, Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (failures - 1)));
      if (navigator.onLine === false) registerSync();
    } else {
      failures = 0;
    }
    return render();
  }

  /* Background Sync fires as soon as the browser sees a connection, so it is asked for
   * when the phone is offline or the page is being left; while a page is open and online,
   * the page's own timer retries (with backoff, and with upload progress). */
  function registerSync() {
    if (!('serviceWorker' in navigator)) return;
    navigator.serviceWorker.ready
      .then((reg) => reg.sync && reg.sync.register('outbox'))
      .catch(() => {});  // no Background Sync: the page's own triggers remain
  }

  function showProgress(id, percent) {
    progress.set(id, percent);
    const item = box && box.querySelector('li[data-id="' + CSS.escape(id) + '"] .outbox-state');
    if (item) item.textContent = S.sending + ' ' + percent + ' %';
  }

  // -- Saving a report ---------------------------------------------------------------------

  async function onSubmit(event) {
    event.preventDefault();
    if (saving) return;
    // A report missing a required field would only come back refused once a signal is
    // found; say so now, while the resident is still here.
    if (!form.checkValidity()) {
      form.reportValidity();
      return;
    }
    saving = true;
    setBusy(true);
    let entry;
    try {
      entry = await entryFromForm(event.submitter || null);
      await saveEntry(entry);
    } catch (err) {
      // No usable IndexedDB (private window, full disk): the plain form post still works.
      saving = false;
      setBusy(false);
      form.submit();
      return;
    }
    justSaved = entry.id;
    stopFix();
    form.reset();
    const held = form.elements.namedItem('held_photos');  // those photos are in the entry now
    if (held && 'value' in held) held.value = '';
    for (const list of form.querySelectorAll('[data-held-photos]')) list.remove();
    for (const input of form.querySelectorAll('input[type=file]')) {
      input.dispatchEvent(new Event('change', { bubbles: true }));  // clears the page's previews
    }
    saving = false;
    setBusy(false);
    await render();
    box.scrollIntoView({ block: 'start' });
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
    failures = 0;
    toReceiptOnceSent(entry.id, kick());
  }

  /* A report that went out at once takes the resident to its receipt, as the form without
   * JavaScript does. One only queued (no signal) stays here with the queued message; so does
   * the page once the resident has started typing the next report meanwhile. */
  function toReceiptOnceSent(id, run) {
    let typing = false;
    const typed = () => { typing = true; };
    form.addEventListener('input', typed, { once: true });
    run.then(async () => {
      form.removeEventListener('input', typed);
      const record = (await listSent()).find((r) => r.entry_id === id);
      if (record && record.receipt_url && !typing && justSaved === id && !fixing) {
        global.location.assign(record.receipt_url);
      }
    }, () => form.removeEventListener('input', typed));
  }

  function setBusy(busy) {
    for (const b of form.querySelectorAll('button:not([type=button]), input[type=submit]')) b.disabled = busy;
    if (busy && box) {
      box.hidden = false;
      box.prepend(h('p', { class: 'notice' }, S.saving));
    }
  }

  async function entryFromForm(submitter) {
    let data;
    try { data = new FormData(form, submitter); } catch (err) { data = new FormData(form); }
    const fields = [];
    const files = [];
    for (const [name, value] of data) {
      if (typeof value === 'string') {
        if (name !== 'written_at') fields.push([name, value]);
      } else if (value && value.size > 0) {
        files.push(value);
      }
    }
    const written = fixing ? fixing.written_at : new Date().toISOString();
    fields.push(['written_at', written]);
    const summary = {
      category: optionText('category'), area: optionText('area'),
      description: (fields.find(([n]) => n === 'description') || ['', ''])[1].slice(0, 140),
    };
    const photos = fixing ? fixing.photos.slice() : [];
    for (const file of files) photos.push(await shrunk(file));  // one at a time: memory
    return {
      id: fixing ? fixing.id : uuid(),
      // Always a new key: a refused attempt made no report, and the server refuses a key
      // that comes back with different content.
      key: uuid(),
      fields, photos, summary, written_at: written,
      created_at: fixing ? fixing.created_at : written,
      confidential: fields.some(([n]) => n === 'confidential'),
      state: 'waiting', attempts: 0,
    };
  }

  /* The photo shrunk on the phone by photo-shrink.js, which the form names (data-shrink)
   * and which is fetched when a photo is first chosen (the service worker holds it for
   * offline use); without it, the original, which the server shrinks. */
  let shrinker = null;
  async function shrunk(file) {
    shrinker = shrinker || new Promise((resolve) => {
      if (global.AduanPhotoShrink || !form.dataset.shrink) return resolve();
      const script = document.createElement('script');
      script.onload = resolve;
      script.onerror = () => { shrinker = null; resolve(); };
      script.src = form.dataset.shrink;
      document.head.append(script);
    });
    await shrinker;
    const shrink = global.AduanPhotoShrink;
    return shrink ? shrink.shrink(file) : { blob: file, name: file.name || 'foto' };
  }

  // Shrinking begins when a photo is chosen, while the resident still types.
  function onPhotosChosen(event) {
    const input = event.target;
    if (input.type !== 'file' || input.name !== 'photos') return;
    for (const file of input.files) shrunk(file).catch(() => {});
  }

  function optionText(name) {
    const el = form.elements.namedItem(name);
    return el && el.options && el.selectedIndex > -1 ? el.options[el.selectedIndex].text.trim() : '';
  }

  // -- Fixing a report the server refused ----------------------------------------------------

  async function startFix(id) {
    const entry = await getEntry(id);
    if (!entry || !form) return;
    fixing = { id: entry.id, photos: entry.photos.slice(), written_at: entry.written_at, created_at: entry.created_at };
    fillForm(entry.fields);
    clearFieldErrors();
    markFieldErrors(entry.errors || {});
    await render();
    const first = form.querySelector('[aria-invalid="true"]') || form.querySelector('select, textarea');
    if (first) first.focus();
  }

  function stopFix() {
    fixing = null;
    clearFieldErrors();
  }

  function fillForm(fields) {
    const values = new Map();
    for (const [name, value] of fields) values.set(name, (values.get(name) || []).concat(value));
    for (const el of form.elements) {
      if (!el.name || ['file', 'submit', 'button', 'reset'].includes(el.type)) continue;
      const got = values.get(el.name) || [];
      if (el.type === 'checkbox' || el.type === 'radio') el.checked = got.includes(el.value);
      else if (el.type === 'select-multiple') for (const o of el.options) o.selected = got.includes(o.value);
      else el.value = got.length ? got[got.length - 1] : '';
      el.dispatchEvent(new Event('change', { bubbles: true }));  // let the page's own scripts follow
    }
  }

  function markFieldErrors(errors) {
    for (const [name, message] of Object.entries(errors)) {
      const found = form.elements.namedItem(name);
      if (!found) continue;
      const fields = found instanceof Element ? [found] : Array.from(found);  // photos: two
      for (const el of fields) {
        el.setAttribute('aria-invalid', 'true');
        flagged.push(el);
      }
      (fields[0].closest('.photo-choices, .check') || fields[0])
        .before(h('p', { class: 'field-error', 'data-outbox-error': '' }, [].concat(message).join(' ')));
    }
  }

  function clearFieldErrors() {
    for (const el of flagged.splice(0)) el.removeAttribute('aria-invalid');
    if (form) for (const note of form.querySelectorAll('[data-outbox-error]')) note.remove();
  }

  // -- Showing the queue and "Laporan saya" -------------------------------------------------

  async function onClick(event) {
    const b = event.target.closest('button[data-action]');
    if (!b) return;
    const id = b.dataset.id;
    const action = b.dataset.action;
    if (action === 'send') {
      failures = 0;
      kick();
    } else if (action === 'retry') {
      await updateEntry(id, { state: 'waiting' });
      failures = 0;
      kick();
    } else if (action === 'fix') {
      startFix(id);
    } else if (action === 'delete' && global.confirm(S.confirmDelete)) {
      if (fixing && fixing.id === id) stopFix();
      await deleteEntry(id);
    } else if (action === 'forget' && global.confirm(S.confirmForget)) {
      await forgetSent(id);
    } else if (action === 'detach' && fixing) {
      fixing.photos.splice(Number(id), 1);
    } else if (action === 'cancel-fix') {
      stopFix();
    }
    render();
  }

  /* js/share.js (copy and share a sent report's code), which the form page names
   * (data-share) and loads only once its outbox holds something: a first visit carries
   * none of its bytes. Fetched while a report waits, so its buttons work once it is sent. */
  let shareLoaded = false;
  function loadShare() {
    if (shareLoaded || !box.dataset.share) return;
    shareLoaded = true;
    const script = document.createElement('script');
    script.src = box.dataset.share;
    document.head.append(script);
  }

  async function render() {
    if (form) form.dataset.keptPhotos = fixing ? String(fixing.photos.length) : '0';
    if (!box) return;
    const [entries, sent] = await Promise.all([listOutbox(), listSent()]);
    entries.sort((a, b) => (a.created_at < b.created_at ? -1 : 1));
    entries.forEach((e) => seenHere.add(e.id));
    waitingCount = entries.filter((e) => e.state !== 'needs_fix').length;
    const done = sent.filter((r) => showAll || seenHere.has(r.entry_id))
      .sort((a, b) => (a.sent_at < b.sent_at ? 1 : -1));
    for (const url of objectUrls.splice(0)) URL.revokeObjectURL(url);
    const parts = [];
    if (fixing) parts.push(fixPanel());
    // "Saved, it goes out by itself" only while that is true: not once it needs fixing.
    if (justSaved && entries.some((e) => e.id === justSaved && e.state !== 'needs_fix')) {
      parts.push(h('p', { class: 'notice ok' }, h('strong', {}, S.saved), ' ', S.savedNote));
    }
    if (entries.length) {
      parts.push(h('h2', {}, S.queueTitle), h('ul', { class: 'outbox-list' }, entries.map(entryItem)));
      if (entries.some((e) => e.state !== 'needs_fix')) {
        parts.push(h('p', {}, button('send', '', S.sendNow, 'secondary')));
      }
    }
    if (entries.length || done.length) loadShare();
    if (done.length) parts.push(h('h2', {}, S.sentTitle), h('ul', { class: 'outbox-list' }, done.map(sentItem)));
    if (showAll && !entries.length && !done.length) parts.push(h('p', {}, S.empty));
    box.replaceChildren(...parts);
    box.hidden = parts.length === 0;
  }

  function entryItem(e) {
    const s = e.summary || {};
    const state = progress.has(e.id) ? S.sending + ' ' + progress.get(e.id) + ' %'
      : e.state === 'needs_fix' ? S.needsFix : e.state === 'sending' ? S.sending : S.waiting;
    const times = [fill(S.written, { time: when(e.written_at) })];
    if (e.last_try && e.state !== 'needs_fix') times.push(fill(S.tried, { time: when(e.last_try) }));
    const li = h('li', { class: 'outbox-item', 'data-id': e.id, 'data-state': e.state },
      h('p', { class: 'outbox-state' }, state),
      h('p', { class: 'outbox-what' }, what(s, e.photos.length)),
      h('p', { class: 'hint' }, times.join(' · ')));
    if (e.state === 'needs_fix') {
      const reason = e.message || (e.last_status === 413 ? S.tooLarge : S.rejected);
      const details = [].concat(...Object.values(e.errors || {})).filter((m) => typeof m === 'string');
      li.append(h('p', { class: 'field-error' }, reason));
      if (details.length) li.append(h('ul', {}, details.map((m) => h('li', {}, m))));
    }
    const actions = [];
    if (e.state === 'needs_fix') {
      actions.push(form ? button('fix', e.id, S.fix, 'primary')
        : h('a', { class: 'button primary', href: '/lapor#perbaiki-' + encodeURIComponent(e.id) }, S.fix));
      if (e.last_status !== 422 && e.last_status !== 413) actions.push(button('retry', e.id, S.retry, 'secondary'));
    }
    actions.push(button('delete', e.id, S.delete, 'danger'));
    li.append(h('p', { class: 'outbox-actions' }, actions));
    return li;
  }

  function sentItem(r) {
    const li = h('li', { class: 'outbox-item', 'data-state': 'sent', 'data-code': r.code, 'data-share-scope': '' },
      h('p', { class: 'outbox-state' }, S.sent),
      h('p', {}, S.code + ' ', h('a', { class: 'code', href: r.tracking_url }, r.display_code)),
      h('p', { class: 'outbox-what' }, what(r.summary || {}, 0)));
    if (showAll) {
      if (r.confidential) li.append(h('p', { class: 'hint' }, S.confidential));
      else if (r.status) {
        li.append(h('p', {}, h('span', { class: 'status ' + r.status }, r.status_label), ' ',
          h('span', { class: 'hint' }, fill(S.checked, { time: when(r.checked_at) }))));
      } else li.append(h('p', { class: 'hint' }, S.statusUnknown));
    }
    if (!showAll) li.append(...shareControls(r));
    const links = [];
    if (r.receipt_url) links.push(h('a', { href: r.receipt_url }, S.receipt));
    if (r.private_url) links.push(h('a', { href: r.private_url }, S.private));
    if (showAll) links.push(button('forget', r.code, S.delete, 'danger'));
    if (links.length) li.append(h('p', { class: 'outbox-actions' }, links));
    return li;
  }

  /* "Salin kode" and "Bagikan" for a report just sent from this page (js/share.js handles
   * the clicks; without it the link is WhatsApp's). */
  function shareControls(r) {
    const url = global.location.origin + r.tracking_url;
    const text = fill(S.shareText, { code: r.display_code, url });
    const canShare = !!navigator.share;
    return [
      h('div', { class: 'share-row' },
        h('button', {
          type: 'button', class: 'secondary', 'data-copy': r.display_code,
          'data-copied': fill(S.copied, { code: r.display_code }), 'data-copy-manual': S.copyManual,
        }, S.copyLabel),
        h('a', {
          class: 'button', rel: 'noopener', href: 'https://wa.me/?text=' + encodeURIComponent(text),
          'data-share': '', 'data-share-text': text, 'data-share-url': url,
        }, canShare ? S.shareLabel : S.shareWhatsapp)),
      h('p', { class: 'share-status', role: 'status', 'data-share-status': '' }),
    ];
  }

  function fixPanel() {
    const thumbs = fixing.photos.map((p, i) => {
      const url = URL.createObjectURL(p.blob);
      objectUrls.push(url);
      return h('li', {}, h('img', { src: url, alt: fill(S.photoAlt, { n: i + 1 }) }),
        button('detach', String(i), S.detach, 'secondary'));
    });
    return h('div', { class: 'notice warn outbox-fixing' },
      h('p', {}, h('strong', {}, S.fixing)),
      thumbs.length ? [h('p', {}, S.keptPhotos), h('ul', { class: 'thumbs' }, thumbs)] : [],
      h('p', {}, button('cancel-fix', '', S.cancel, 'secondary')));
  }

  /* "Laporan saya": the last known status of every report this phone sent. */
  async function refreshStatuses() {
    if (!showAll || navigator.onLine === false) return;
    if (await refreshSentStatuses()) render();
  }

  // -- Small helpers ---------------------------------------------------------------------------

  /* Build an element; text goes in as text nodes, so nothing typed can become markup. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
    for (const c of children.flat()) if (c !== '' && c != null) el.append(c);
    return el;
  }

  function button(action, id, label, kind) {
    return h('button', { type: 'button', class: kind, 'data-action': action, 'data-id': id }, label);
  }

  function what(s, photoCount) {
    return [[s.category, s.area].filter(Boolean).join(', '), s.description,
      photoCount ? fill(S.photos, { n: photoCount }) : ''].filter(Boolean).join(' — ');
  }

  function fill(text, values) {
    return String(text || '').replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
  }

  function when(iso) {
    if (!iso) return '';
    const locale = document.documentElement.lang === 'en' ? 'en-GB' : 'id-ID';
    return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', startPage);
  else startPage();
})(self);
