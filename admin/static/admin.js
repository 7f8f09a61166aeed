// Condo admin: progressive enhancement only. Every page works without
// this file; with it, htmx requests carry the CSRF token, copy buttons
// copy, and confirmation fields enable their buttons.
(function () {
  "use strict";
  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }
  document.addEventListener("htmx:configRequest", function (e) {
    var t = csrf();
    if (t) e.detail.headers["X-CSRF-Token"] = t;
  });
  // <button data-copy="#id"> copies the text of #id.
  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-copy]");
    if (!b) return;
    var el = document.querySelector(b.getAttribute("data-copy"));
    if (!el || !navigator.clipboard) return;
    navigator.clipboard.writeText(el.textContent.trim()).then(function () {
      var old = b.textContent;
      b.textContent = "Copied";
      setTimeout(function () { b.textContent = old; }, 1500);
    });
  });
  // <button data-confirm-click="Question?"> asks before its form goes
  // (the server does not ask: without JavaScript the button acts).
  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-confirm-click]");
    if (b && !window.confirm(b.getAttribute("data-confirm-click"))) e.preventDefault();
  });
  // <input data-confirm="word"> enables the form's submit button only
  // once "word" is typed (the server checks it too).
  document.addEventListener("input", function (e) {
    var i = e.target;
    if (!i.matches || !i.matches("[data-confirm]")) return;
    var btn = i.form && i.form.querySelector("button[type=submit]");
    if (btn) btn.disabled = i.value !== i.getAttribute("data-confirm");
  });
})();
