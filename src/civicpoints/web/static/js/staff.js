// Staff console: small conveniences only; every page works without this file.
// A "Print" button on slip pages (printing works from the browser's menu without it).
(function () {
  "use strict";
  document.querySelectorAll(".slip").length && document.querySelectorAll("[data-print]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });
})();
