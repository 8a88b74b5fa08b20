/* Okno staff chat inbox: refresh the lists and the open conversation's transcript every few seconds.
   Without this file the Refresh links do the same. */
(function () {
  "use strict";

  function refresher(id) {
    var box = document.getElementById(id);
    if (!box || !window.fetch) return;
    var url = box.getAttribute("data-refresh-url");
    var ms = Math.max(2, parseInt(box.getAttribute("data-poll-s"), 10) || 4) * 1000;
    var last = box.innerHTML;
    function tick() {
      if (document.hidden) { window.setTimeout(tick, ms); return; }
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          if (html !== last) {
            var before = box.querySelector("[data-status]");
            var was = before && before.getAttribute("data-status");
            box.innerHTML = html;
            last = html;
            var after = box.querySelector("[data-status]");
            // The status changed (taken, closed): the actions under the transcript change too.
            if (was && after && after.getAttribute("data-status") !== was) { window.location.reload(); return; }
            var end = document.getElementById("chat-end");
            if (end && end.scrollIntoView && id === "inbox-transcript") end.scrollIntoView({ block: "end" });
            var badge = document.querySelector("[data-chat-badge]");
            var count = box.querySelector("[data-waiting-count]");
            if (badge && count) {
              var n = count.getAttribute("data-waiting-count");
              badge.textContent = n;
              badge.hidden = n === "0";
            }
          }
        })
        .catch(function () {})
        .then(function () { window.setTimeout(tick, ms); });
    }
    window.setTimeout(tick, ms);
  }

  function init() {
    refresher("inbox-lists");
    refresher("inbox-transcript");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
