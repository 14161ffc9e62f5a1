// Small improvements to the report form; the form works fully without this file.
(function () {
  "use strict";
  var button = document.getElementById("use-location");
  var status = document.getElementById("location-status");
  if (button && "geolocation" in navigator) {
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = button.dataset.wait || "…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        document.getElementById("lat").value = pos.coords.latitude.toFixed(6);
        document.getElementById("lon").value = pos.coords.longitude.toFixed(6);
        status.textContent = button.dataset.done || "✓";
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
  var summary = document.getElementById("kesalahan");
  if (summary) summary.focus();
})();
