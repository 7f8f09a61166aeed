// Self-service sign-up: progressive enhancement only. The hand-over form
// (the new admin's session, posted to the new site's host) is sent at
// once; without JavaScript the visitor clicks its button. A form marked
// data-once sends once: a double click must not spend the mailed link on
// a second request that can only say it was used.
(function () {
  "use strict";
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (!f.matches || !f.matches("form[data-once]")) return;
    if (f.getAttribute("data-sent")) { e.preventDefault(); return; }
    f.setAttribute("data-sent", "1");
  });
  function go() {
    var f = document.querySelector("form[data-autosubmit]");
    if (f) f.submit();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", go);
  else go();
})();
