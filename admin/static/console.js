// Condo platform console: progressive enhancement only. A typed
// confirmation's button starts disabled until the word is typed (admin.js
// follows the typing; the server checks the word whatever the page did).
(function () {
  "use strict";
  function arm(root) {
    root.querySelectorAll("input[data-confirm]").forEach(function (i) {
      var btn = i.form && i.form.querySelector("button[type=submit]");
      if (btn) btn.disabled = i.value !== i.getAttribute("data-confirm");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { arm(document); });
  document.addEventListener("htmx:load", function (e) { arm(e.target); });
})();
