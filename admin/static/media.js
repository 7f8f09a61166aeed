// Condo admin, media library: drag-and-drop upload with a progress bar.
// Without this file the upload form posts the file itself; with it, files
// dropped on the drop zone (or chosen in the form) go one by one through
// XMLHttpRequest to the same form's action, with the CSRF token in the
// X-CSRF-Token header, and the grid is reloaded when they are in.
(function () {
  "use strict";
  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  function setup() {
    var zone = document.getElementById("drop-zone");
    var form = document.getElementById("upload-form");
    if (!zone || !form || zone.dataset.ready) return;
    zone.dataset.ready = "1";
    var input = form.querySelector('input[type="file"]');
    var bar = document.getElementById("upload-bar");
    var box = document.getElementById("upload-progress");
    var status = document.getElementById("upload-status");
    input.multiple = true;
    zone.classList.add("droppable");

    function say(msg, failed) {
      status.textContent = msg;
      status.classList.toggle("failed", !!failed);
    }

    function uploadOne(file, i, n) {
      return new Promise(function (resolve, reject) {
        var data = new FormData();
        ["alt", "folder"].forEach(function (name) {
          var f = form.elements[name];
          if (f && f.value) data.append(name, f.value);
        });
        data.append("file", file, file.name);
        var xhr = new XMLHttpRequest();
        xhr.open("POST", form.getAttribute("action"));
        xhr.setRequestHeader("X-CSRF-Token", csrf());
        xhr.setRequestHeader("Accept", "application/json");
        xhr.upload.addEventListener("progress", function (e) {
          if (!e.lengthComputable) return;
          var pct = Math.round(((i + e.loaded / e.total) / n) * 100);
          bar.value = pct;
          bar.textContent = pct + "%";
        });
        xhr.addEventListener("load", function () {
          if (xhr.status === 201) return resolve();
          var msg = "The upload of " + file.name + " failed (" + xhr.status + ").";
          if (xhr.responseURL && xhr.responseURL.indexOf("/admin/login") >= 0) {
            return reject(new Error("Your session has ended: reload the page and sign in again."));
          }
          try {
            var body = JSON.parse(xhr.responseText);
            if (body.error && body.error.message) msg = file.name + ": " + body.error.message;
          } catch (err) { /* not JSON: keep the status */ }
          reject(new Error(msg));
        });
        xhr.addEventListener("error", function () { reject(new Error("The upload of " + file.name + " was cut off.")); });
        xhr.send(data);
      });
    }

    function refresh() {
      var results = document.getElementById("media-results");
      if (window.htmx && results) {
        return window.htmx.ajax("GET", location.pathname + location.search, { target: "#media-results", swap: "outerHTML" });
      }
      location.reload();
    }

    function uploadAll(files) {
      if (!files || !files.length) return;
      files = Array.prototype.slice.call(files);
      box.hidden = false;
      bar.value = 0;
      var done = 0;
      var chain = Promise.resolve();
      files.forEach(function (file, i) {
        chain = chain.then(function () {
          say("Uploading " + file.name + " (" + (i + 1) + " of " + files.length + ")…");
          return uploadOne(file, i, files.length).then(function () { done++; });
        });
      });
      chain.then(function () {
        bar.value = 100;
        say(done === 1 ? "Uploaded " + files[0].name + "." : "Uploaded " + done + " files.");
        form.reset();
      }, function (err) {
        say(err.message, true);
      }).then(function () { if (done) refresh(); });
    }

    ["dragenter", "dragover"].forEach(function (t) {
      zone.addEventListener(t, function (e) {
        if (!e.dataTransfer || Array.prototype.indexOf.call(e.dataTransfer.types, "Files") < 0) return;
        e.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (t) {
      zone.addEventListener(t, function () { zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (e) {
      if (!e.dataTransfer || !e.dataTransfer.files.length) return;
      e.preventDefault();
      uploadAll(e.dataTransfer.files);
    });
    form.addEventListener("submit", function (e) {
      if (!input.files.length) return; // the browser says the file is required
      e.preventDefault();
      uploadAll(input.files);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
  // hx-boost swaps pages in without loading them: set up again.
  document.addEventListener("htmx:afterSettle", setup);
})();
