/* Resident pages: the phone's position for check-in/out and for "nearest first".
   Small and optional: every page still works (or says clearly why not) without it. */
(function () {
  "use strict";
  var geo = navigator.geolocation;

  function checkInForm(form) {
    var status = document.getElementById("geo-status");
    var retry = document.getElementById("geo-retry");
    var lat = document.getElementById("lat");
    var lon = document.getElementById("lon");
    if (!status || !lat || !lon) return;
    function find() {
      if (!geo) { status.textContent = status.dataset.failed; return; }
      status.textContent = status.dataset.wait;
      if (retry) retry.hidden = true;
      geo.getCurrentPosition(function (p) {
        lat.value = p.coords.latitude.toFixed(6);
        lon.value = p.coords.longitude.toFixed(6);
        var metres = Math.max(1, Math.round(p.coords.accuracy || 0));
        status.textContent = status.dataset.found.replace("%(m)s", String(metres));
        status.className = "geo-status found";
      }, function (err) {
        status.textContent = err.code === 1 ? status.dataset.denied : status.dataset.failed;
        status.className = "geo-status failed";
        if (retry && err.code !== 1) retry.hidden = false;
      }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
    }
    if (retry) retry.addEventListener("click", find);
    find();
  }

  function nearestFirst(button) {
    if (!geo) return;
    button.hidden = false;
    function go() {
      button.disabled = true;
      geo.getCurrentPosition(function (p) {
        var q = "?lat=" + p.coords.latitude.toFixed(5) + "&lon=" + p.coords.longitude.toFixed(5);
        var c = button.dataset.category;
        window.location.href = "/activities" + q + (c ? "&category=" + encodeURIComponent(c) : "");
      }, function () { button.hidden = true; }, { timeout: 15000, maximumAge: 300000 });
    }
    button.addEventListener("click", go);
    if (navigator.permissions && navigator.permissions.query) {
      navigator.permissions.query({ name: "geolocation" }).then(function (s) {
        if (s.state === "granted") go();
      }, function () {});
    }
  }

  var form = document.querySelector("form[data-geo]");
  if (form) checkInForm(form);
  var button = document.getElementById("use-position");
  if (button) nearestFirst(button);
})();
