// Small improvements to the report form; the form works fully without this file.
(function () {
  "use strict";
  var form = document.getElementById("lapor-form");
  var button = document.getElementById("use-location");
  var status = document.getElementById("location-status");
  if (button && "geolocation" in navigator) {
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = button.dataset.wait || "…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        var lat = pos.coords.latitude.toFixed(6), lon = pos.coords.longitude.toFixed(6);
        document.getElementById("lat").value = lat;
        document.getElementById("lon").value = lon;
        if (form) form.dispatchEvent(new Event("change", { bubbles: true }));
        status.textContent = button.dataset.done || "✓";
        // The kelurahan (and kecamatan) there, which the resident can still change; offline
        // or on an error the form stays as it is.
        fetch(button.dataset.where + "?lat=" + lat + "&lon=" + lon).then(function (r) {
          return r.status < 500 ? r.json() : {};
        }).then(function (p) {
          if (p.error) status.textContent += " " + p.error;
          if (!p.kode) return;
          var area = document.getElementById("area");
          var kec = document.getElementById("kecamatan");
          if (kec) kec.value = p.kecamatan.kode;
          if (area && area.tagName === "SELECT") {
            if (!area.querySelector('option[value="' + p.kode + '"]')) area.add(new Option(p.nama, p.kode));
            area.value = p.kode;
          }
          status.textContent += " " + p.nama + ", " + p.kecamatan.nama;
        }).catch(function () {});
      }, function () {
        status.textContent = button.dataset.failed || "✗";
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }
  // Previews of chosen photos, from object URLs (no upload happens here).
  var previews = document.getElementById("photo-previews");
  function showPreviews() {
    if (!previews) return;
    previews.textContent = "";
    document.querySelectorAll("input[type=file][name=photos]").forEach(function (input) {
      Array.prototype.forEach.call(input.files || [], function (file) {
        var item = document.createElement("li");
        var img = document.createElement("img");
        img.src = URL.createObjectURL(file);
        img.alt = file.name;
        img.width = 96; img.height = 96;
        item.appendChild(img);
        previews.appendChild(item);
      });
    });
  }
  document.querySelectorAll("input[type=file][name=photos]").forEach(function (input) {
    input.addEventListener("change", showPreviews);
  });
  // "Sudah dilaporkan?" (js/dukung.js): loaded only once the form is being filled.
  var nearby = document.getElementById("nearby");
  if (form && nearby) form.addEventListener("change", function load() {
    form.removeEventListener("change", load);
    var script = document.createElement("script");
    script.src = nearby.dataset.script;
    document.head.appendChild(script);
  });
  var summary = document.getElementById("kesalahan");
  if (summary) summary.focus();
  if (!form) return;

  // -- Filing for someone else ---------------------------------------------------------------
  // Typing a name for someone else is the consent (the server reads it so too): tick the
  // box as it happens, so the resident sees what the report will say.
  var checks = document.getElementById("form-checks");
  var rules = checks ? JSON.parse(checks.dataset.rules) : null;
  var words = checks ? JSON.parse(checks.dataset.messages) : null;
  var onBehalf = form.elements.namedItem("on_behalf");
  if (rules && onBehalf) {
    rules.on_behalf_fields.forEach(function (name) {
      var field = form.elements.namedItem(name);
      if (field) field.addEventListener("input", function () {
        if (field.value.trim()) onBehalf.checked = true;
      });
    });
  }

  // -- The server's checks, before anything is queued ----------------------------------------
  // Run first (capture phase): a form with mistakes never reaches the outbox (outbox.js),
  // keeps everything typed and chosen, and shows each message by its field as the page
  // without JavaScript does.
  if (!rules || !words) return;
  // Invisible characters do not count as words (zero-width spaces, direction marks, controls).
  var INVISIBLE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;
  var phone = new RegExp(rules.phone);
  var email = new RegExp(rules.email);

  function value(name) {
    var field = form.elements.namedItem(name);
    return field && "value" in field ? String(field.value).trim() : "";
  }
  function ticked(name) {
    var field = form.elements.namedItem(name);
    return !!(field && field.checked);
  }
  function visibleLength(text) {
    return Array.from(text.replace(INVISIBLE, "").trim()).length;
  }
  function number(text) {
    if (!text) return null;
    var parsed = Number(text.replace(",", "."));
    return isNaN(parsed) ? NaN : parsed;
  }
  function within(x, range) { return range[0] <= x && x <= range[1]; }
  function photoCount() {
    var count = form.querySelectorAll("[data-held-photos] li").length
      + Number(form.dataset.keptPhotos || 0);
    form.querySelectorAll("input[type=file][name=photos]").forEach(function (input) {
      count += (input.files || []).length;
    });
    return count;
  }

  /* The same rules, in the same order, with the same words as web/forms.py. */
  function mistakes() {
    var found = {};
    if (!value("category")) found.category = words.category;
    var area = form.elements.namedItem("area");
    // no kelurahan but a point: the server picks the kelurahan there
    if ((!area || !area.value) && !(value("lat") && value("lon"))) found.area = words.area;
    if (visibleLength(value("description")) < rules.min_description) {
      found.description = words.description;
    }
    Object.keys(rules.field_limits).forEach(function (name) {
      if (Array.from(value(name)).length > rules.field_limits[name]) {
        found[name] = words.too_long[name];
      }
    });
    var lat = number(value("lat"));
    var lon = number(value("lon"));
    if (isNaN(lat) || isNaN(lon)) found.lat = words.lat_number;
    else if ((lat === null) !== (lon === null)) found.lat = words.lat_both;
    else if (lat !== null && !(within(lat, rules.lat_range) && within(lon, rules.lon_range))) {
      found.lat = words.lat_outside;
    }
    var own = value("reporter_phone").replace(/[\s\-().]/g, "");
    if (own && !phone.test(own)) found.reporter_phone = words.phone;
    if (value("reporter_email") && !email.test(value("reporter_email"))) {
      found.reporter_email = words.email;
    }
    // A channel ticked to hear back on needs its contact (web/forms.py: _check_contacts).
    var chosen = Array.prototype.map.call(
      form.querySelectorAll("input[name=notify_by]:checked"), function (box) { return box.value; });
    if (!own && (chosen.indexOf("whatsapp") > -1 || chosen.indexOf("sms") > -1)) {
      found.reporter_phone = words.notify_phone;
    }
    if (!value("reporter_email") && chosen.indexOf("email") > -1) {
      found.reporter_email = words.notify_email;
    }
    var behalf = ticked("on_behalf") || rules.on_behalf_fields.some(function (name) {
      return value(name);
    });
    if (behalf) {
      var theirs = value("on_behalf_phone").replace(/[\s\-().]/g, "");
      if (!value("on_behalf_name")) found.on_behalf_name = words.on_behalf_name;
      if (theirs && !phone.test(theirs)) found.on_behalf_phone = words.phone;
      else if (!theirs && !ticked("on_behalf_no_phone")) found.on_behalf_phone = words.on_behalf_phone;
    }
    if (photoCount() > rules.max_photos) found.photos = words.photos;
    return found;
  }

  function control(name) {
    if (name === "photos") return document.getElementById("photo-gallery");
    var field = form.elements.namedItem(name);
    return field && !(field instanceof Element) ? field[0] : field;
  }

  function clearMistakes() {
    form.querySelectorAll(".field-error[id$='-error']").forEach(function (note) { note.remove(); });
    form.querySelectorAll("[aria-invalid=true]").forEach(function (field) {
      field.removeAttribute("aria-invalid");
      var ids = (field.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
        return id && !/-error$/.test(id);
      });
      if (ids.length) field.setAttribute("aria-describedby", ids.join(" "));
      else field.removeAttribute("aria-describedby");
    });
    var old = document.getElementById("kesalahan");
    if (old) old.remove();
  }

  function element(tag, attrs, text) {
    var el = document.createElement(tag);
    Object.keys(attrs).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    if (text) el.textContent = text;
    return el;
  }

  function showMistakes(found) {
    var list = element("ul", {});
    var first = null;
    Object.keys(found).forEach(function (name) {
      var field = control(name);
      if (!field) return;
      var id = name + "-error";
      var note = element("p", { class: "field-error", id: id }, found[name]);
      // Where the server puts it: above the control, below its label and hint.
      (name === "photos" ? field.closest(".photo-choices") : field).before(note);
      var targets = name === "photos"
        ? Array.from(form.querySelectorAll("input[type=file][name=photos]")) : [field];
      targets.forEach(function (target) {
        target.setAttribute("aria-invalid", "true");
        var ids = (target.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
        target.setAttribute("aria-describedby", ids.concat(id).join(" "));
      });
      var link = element("a", { href: "#" + field.id }, found[name]);
      list.appendChild(element("li", {})).appendChild(link);
      if (!first || (first.compareDocumentPosition(field) & Node.DOCUMENT_POSITION_PRECEDING)) {
        first = field;
      }
    });
    var box = element("div", { class: "error-summary", id: "kesalahan", tabindex: "-1" });
    box.append(element("h2", {}, words.summary_title), element("p", {}, words.summary_text), list);
    var queue = document.getElementById("outbox");  // where the page without JS puts it
    if (queue) queue.after(box); else form.before(box);
    if (first) {
      var details = first.closest("details");
      if (details) details.open = true;
      first.focus();
    }
  }

  form.addEventListener("submit", function (event) {
    clearMistakes();
    var found = mistakes();
    if (!Object.keys(found).length) return;  // on to the outbox, or the plain post
    event.preventDefault();
    event.stopImmediatePropagation();
    showMistakes(found);
  }, true);
})();
