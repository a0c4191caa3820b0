// Rewards pages, progressive enhancement only: every page works without this file.
// - a confirmation form is sent once (a second tap does nothing while the first is on its way);
// - the voucher page asks the phone to keep the screen on while it is shown at the counter;
// - the points statement gets a Print button.
(function () {
  "use strict";
  document.querySelectorAll("form.once").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
    });
  });
  if (document.querySelector(".voucher-show") && navigator.wakeLock) {
    var keep = function () { navigator.wakeLock.request("screen").catch(function () {}); };
    keep();
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") { keep(); }
    });
  }
  var print = document.querySelector(".print-now");
  if (print && window.print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }
})();
