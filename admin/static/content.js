// Collections and content: progressive enhancement of pages that work
// without it. The schema form shows the settings of the type chosen; a
// rich text field gets a small editor (bold, italic, link, lists) whose
// HTML is kept in the field's textarea, which is what the form posts.
(function () {
  "use strict";

  // Schema form: show the groups whose data-types include the row's type.
  function applyType(select) {
    var row = select.closest("fieldset.fieldrow");
    if (!row) return;
    var type = select.value;
    row.querySelectorAll("[data-types]").forEach(function (el) {
      if (el.closest("fieldset.fieldrow") !== row) return; // a nested row's own
      el.hidden = el.getAttribute("data-types").split(" ").indexOf(type) < 0;
    });
  }
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("select[data-type-select]")) applyType(e.target);
  });

  // Rich text: a contenteditable view of the textarea.
  var commands = [
    { cmd: "bold", label: "Bold", text: "B" },
    { cmd: "italic", label: "Italic", text: "I" },
    { cmd: "createLink", label: "Link", text: "Link" },
    { cmd: "insertUnorderedList", label: "Bulleted list", text: "• List" },
    { cmd: "insertOrderedList", label: "Numbered list", text: "1. List" }
  ];
  function richtext(area) {
    if (area.dataset.enhanced) return;
    area.dataset.enhanced = "1";
    var label = document.querySelector('label[for="' + area.id + '"]');
    var bar = document.createElement("div");
    bar.className = "rt-toolbar";
    bar.setAttribute("role", "toolbar");
    bar.setAttribute("aria-label", "Formatting" + (label ? " of " + label.textContent.trim() : ""));
    var ed = document.createElement("div");
    ed.className = "rt-editor";
    ed.contentEditable = "true";
    ed.setAttribute("role", "textbox");
    ed.setAttribute("aria-multiline", "true");
    ed.id = area.id + "-editor";
    if (label) {
      if (!label.id) label.id = area.id + "-label";
      ed.setAttribute("aria-labelledby", label.id);
      // A label names a div through aria-labelledby; a click on it still
      // goes to the editor.
      label.addEventListener("click", function (e) { e.preventDefault(); ed.focus(); });
    }
    ["aria-describedby", "aria-invalid", "aria-required"].forEach(function (a) {
      if (area.hasAttribute(a)) ed.setAttribute(a, area.getAttribute(a));
    });
    ed.innerHTML = area.value;
    commands.forEach(function (c) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "button small";
      b.textContent = c.text;
      b.setAttribute("aria-label", c.label);
      b.setAttribute("data-cmd", c.cmd);
      b.addEventListener("mousedown", function (e) { e.preventDefault(); }); // keep the selection
      b.addEventListener("click", function () {
        ed.focus();
        if (c.cmd === "createLink") {
          var url = window.prompt("Link to (https://…)");
          if (!url) return;
          document.execCommand("createLink", false, url);
        } else {
          document.execCommand(c.cmd, false, null);
        }
        sync();
        state();
      });
      bar.appendChild(b);
    });
    function sync() { area.value = ed.innerHTML; }
    // Bold and italic say whether the selection is (aria-pressed).
    function state() {
      bar.querySelectorAll("button[data-cmd]").forEach(function (b) {
        var c = b.getAttribute("data-cmd");
        if (c === "createLink") return;
        b.setAttribute("aria-pressed", document.queryCommandState(c) ? "true" : "false");
      });
    }
    document.addEventListener("selectionchange", function () {
      if (document.activeElement === ed) state();
    });
    ed.addEventListener("input", sync);
    ed.addEventListener("blur", sync);
    if (area.form) area.form.addEventListener("submit", sync);
    area.hidden = true;
    area.parentNode.insertBefore(bar, area);
    area.parentNode.insertBefore(ed, area);
  }
  // Content list: a "select all" box in the selection column.
  function selectAll(th) {
    if (th.dataset.enhanced) return;
    th.dataset.enhanced = "1";
    var table = th.closest("table");
    var box = document.createElement("input");
    box.type = "checkbox";
    box.id = "select-all";
    box.setAttribute("aria-label", "Select all items on this page");
    box.addEventListener("change", function () {
      table.querySelectorAll('tbody input[name="id"]').forEach(function (b) { b.checked = box.checked; });
    });
    th.appendChild(box);
  }
  function enhance(root) {
    root.querySelectorAll("table.items th.select").forEach(selectAll);
    // Buttons only a page without this script needs.
    root.querySelectorAll("[data-nojs]").forEach(function (el) { el.hidden = true; });
    root.querySelectorAll("textarea[data-richtext]").forEach(richtext);
    root.querySelectorAll("select[data-type-select]").forEach(applyType);
  }
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:load", function (e) { enhance(e.target); });
})();
