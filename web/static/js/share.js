/* Copy, share and print a tracking code. Without this file the page still works: the code
 * is plain text, "Bagikan lewat WhatsApp" is a plain link and the page names the browser's
 * own print menu. Clicks are handled for the whole page, so buttons that outbox.js draws
 * later (the "Terkirim" box) work too. */
(function () {
  'use strict';

  function say(control, text) {
    const scope = control.closest('[data-share-scope]');
    const status = scope && scope.querySelector('[data-share-status]');
    if (!status) return;
    status.textContent = '';  // the same message twice is announced twice
    setTimeout(() => { status.textContent = text; }, 50);
  }

  /* Older phones and plain-http pages have no Clipboard API: select the code on the page
   * so the phone's own copy menu takes it, and try the old copy command. */
  function selectCode(control) {
    const scope = control.closest('[data-share-scope]');
    const holder = (scope && scope.querySelector('.code')) || document.getElementById('kode-lacak');
    if (!holder) return false;
    const range = document.createRange();
    range.selectNodeContents(holder);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    try { return document.execCommand('copy'); } catch (err) { return false; }
  }

  function copy(control) {
    const code = control.dataset.copy;
    const done = () => say(control, control.dataset.copied || code);
    const manual = () => say(control, selectCode(control) ? (control.dataset.copied || code)
      : (control.dataset.copyManual || code));
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(code).then(done, manual);
    } else {
      manual();
    }
  }

  function share(link, event) {
    if (!navigator.share) return;  // the WhatsApp link it already is
    event.preventDefault();
    navigator.share({ text: link.dataset.shareText, url: link.dataset.shareUrl }).catch((err) => {
      // Closing the share sheet is no failure; anything else falls back to WhatsApp.
      if (!err || err.name !== 'AbortError') window.location.href = link.href;
    });
  }

  function reveal() {
    for (const b of document.querySelectorAll('button[data-copy][hidden]')) b.hidden = false;
    if (typeof window.print === 'function') {
      for (const b of document.querySelectorAll('button[data-print][hidden]')) b.hidden = false;
      for (const hint of document.querySelectorAll('[data-print-hint]')) hint.hidden = true;
    }
    if (navigator.share) {
      for (const link of document.querySelectorAll('a[data-share]')) {
        if (link.dataset.shareLabel) link.textContent = link.dataset.shareLabel;
      }
    }
  }

  document.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const control = target && target.closest('[data-copy], [data-share], [data-print]');
    if (!control) return;
    if (control.matches('[data-copy]')) copy(control);
    else if (control.matches('[data-print]')) window.print();
    else share(control, event);
  });
  window.AduanShare = { reveal };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', reveal);
  else reveal();
})();
