// Progressive enhancement for the console: copy buttons, and a refresh of
// the page's main area every few seconds while the tab is visible. The
// page reads fine without it.
(function () {
  "use strict";

  function addCopyButtons(root) {
    root.querySelectorAll("code.copyable").forEach(function (code) {
      if (code.dataset.copy) return;
      code.dataset.copy = "1";
      var b = document.createElement("button");
      b.type = "button";
      b.className = "copy";
      b.textContent = "copy";
      b.addEventListener("click", function () {
        navigator.clipboard.writeText(code.textContent).then(function () {
          b.textContent = "copied";
          setTimeout(function () { b.textContent = "copy"; }, 1500);
        });
      });
      code.after(b);
    });
  }

  function editing() {
    var a = document.activeElement;
    return a && a.closest && a.closest("form");
  }

  function refresh() {
    if (document.hidden || editing()) return;
    fetch(location.pathname + location.search, { headers: { "Accept": "text/html" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("main");
        var state = doc.getElementById("router-state");
        if (!fresh) return;
        // Keep the settings form as the user left it.
        var form = document.getElementById("settings");
        var freshForm = fresh.querySelector("#settings");
        if (form && freshForm) freshForm.replaceWith(form);
        document.getElementById("main").replaceWith(fresh);
        if (state) document.getElementById("router-state").replaceWith(state);
        addCopyButtons(fresh);
        document.body.dataset.refreshed = String(Date.now());
      })
      .catch(function () { /* the next tick tries again */ });
  }

  addCopyButtons(document);
  var every = parseInt(document.body.dataset.refresh, 10) || 10;
  setInterval(refresh, every * 1000);
})();
