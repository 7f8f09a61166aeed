// Self-service sign-up: progressive enhancement only. The hand-over form
// (the new admin's session, posted to the new site's host) is sent at
// once; without JavaScript the visitor clicks its button.
(function () {
  "use strict";
  function go() {
    var f = document.querySelector("form[data-autosubmit]");
    if (f) f.submit();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", go);
  else go();
})();
