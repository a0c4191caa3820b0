// The shop counter: scan a voucher's QR code with the camera where the browser has
// BarcodeDetector; typing the code always works (the form posts without this file).
(function () {
  "use strict";
  document.querySelectorAll("form.once").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
    });
  });
  var form = document.querySelector("form.code-form");
  if (!form || !("BarcodeDetector" in window) || !navigator.mediaDevices) { return; }
  var button = form.querySelector(".scan");
  var video = form.querySelector(".scan-view");
  var note = form.querySelector(".scan-note");
  var input = form.querySelector("input[name=code]");
  button.hidden = false;
  button.addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      video.play();
      var stop = function () { stream.getTracks().forEach(function (t) { t.stop(); }); video.hidden = true; };
      var look = function () {
        detector.detect(video).then(function (codes) {
          if (codes.length) { stop(); input.value = codes[0].rawValue; form.submit(); return; }
          window.setTimeout(look, 250);
        }).catch(function () { window.setTimeout(look, 500); });
      };
      look();
    }).catch(function () {
      note.hidden = false;
      note.textContent = button.dataset.denied || "";
      input.focus();
    });
  });
})();
