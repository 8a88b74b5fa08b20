/* Agent desktop and wallboard: refresh without reloading by hand. Both pages work without this file
   (Refresh buttons; the wallboard also refreshes itself through <noscript><meta refresh>). */
(function () {
  "use strict";

  // The desktop: poll state.json every 2 s; when the agent's state or call changes, reload the page,
  // unless the agent is typing an appeal: then say so and let them reload when ready.
  function initDesktop() {
    var root = document.getElementById("cc-desktop");
    if (!root || !window.fetch) return;
    var url = root.getAttribute("data-state-url");
    var shown = {
      state: root.getAttribute("data-state") || null,
      call: root.getAttribute("data-call") || null,
      phase: root.getAttribute("data-phase") || null
    };
    var dirty = false;
    document.addEventListener("input", function (ev) {
      if (ev.target && ev.target.form && ev.target.form.id === "register-form") dirty = true;
    });
    var banner = document.getElementById("cc-changed");
    var timer = null;
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (data) {
          var changed = (data.state || null) !== shown.state || (data.call || null) !== shown.call ||
            (data.call_phase || null) !== shown.phase;
          if (!changed) return;
          if (dirty && data.call && data.call === shown.call) {
            if (banner) banner.hidden = false;  // keep what the agent typed; they reload when ready
            clearInterval(timer);
          } else {
            window.location.reload();
          }
        })
        .catch(function () { /* the next tick tries again */ });
    }
    timer = setInterval(tick, 2000);
  }

  // The wallboard: fetch the board fragment every 3 s and swap it in.
  function initWallboard() {
    var box = document.getElementById("cc-wallboard");
    if (!box || !window.fetch) return;
    var url = box.getAttribute("data-fragment");
    setInterval(function () {
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" }, cache: "no-store" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) { box.innerHTML = html; })
        .catch(function () { /* keep the last board; try again */ });
    }, 3000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    initDesktop();
    initWallboard();
  });
})();
