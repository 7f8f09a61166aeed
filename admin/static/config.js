// Condo admin, configuration pages: progressive enhancement only. A
// colour field (<input data-color>) gets a colour picker beside it, kept
// in step with the text both ways; the typed text stays what is posted.
(function () {
  "use strict";
  var hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;
  function long(v) {
    return v.length === 4 ? "#" + v[1] + v[1] + v[2] + v[2] + v[3] + v[3] : v;
  }
  function enhance(root) {
    root.querySelectorAll("input[data-color]").forEach(function (text) {
      if (text.dataset.colorReady) return;
      text.dataset.colorReady = "1";
      var pick = document.createElement("input");
      pick.type = "color";
      pick.className = "color-pick";
      var label = text.labels && text.labels[0] ? text.labels[0].textContent : "colour";
      pick.setAttribute("aria-label", "Pick the " + label.toLowerCase());
      pick.value = hex.test(text.value) ? long(text.value.toLowerCase()) : (text.getAttribute("placeholder") || "#000000");
      pick.addEventListener("input", function () {
        text.value = pick.value;
        text.dispatchEvent(new Event("input", { bubbles: true }));
      });
      text.addEventListener("input", function () {
        if (hex.test(text.value)) pick.value = long(text.value.toLowerCase());
      });
      text.insertAdjacentElement("afterend", pick);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:load", function (e) { enhance(e.target); });
})();
