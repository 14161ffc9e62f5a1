// Staff workspace, progressive enhancement only: every form works without this file.
// Canned replies: without JavaScript the officer copies them from the list under the
// actions; with it, a select fills the note (no inline script: the CSP forbids it).
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Delegated, so forms that htmx swaps in later work too.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!(select instanceof HTMLSelectElement) || !select.classList.contains("canned")) return;
    var note = document.getElementById(select.dataset.fills || "");
    if (!note || !select.value) return;
    // Never overwrite what the officer already typed: add the reply below it.
    note.value = note.value.trim() ? note.value.replace(/\s+$/, "") + "\n\n" + select.value : select.value;
    select.selectedIndex = 0;
    note.focus();
  });
})();
