/* Kiosk mode, progressive: the pages work without it (the server signs out after inactivity and a
   noscript meta refresh returns to the end page). With it: a countdown before the sign-out that any
   touch or key press resets (and a keep-alive ping so the server agrees), the Print button, and an
   on-screen digit keypad for the focused field. */
(function () {
  "use strict";
  var body = document.body;

  // --- inactivity ------------------------------------------------------------------------------
  var idle = parseInt(body.getAttribute("data-idle") || "0", 10);
  var endUrl = body.getAttribute("data-end-url");
  var pingUrl = body.getAttribute("data-ping-url");
  if (idle > 0 && endUrl) {
    var warnAt = Math.min(20, Math.floor(idle / 3));
    var box = document.querySelector("[data-countdown]");
    var text = box ? box.getAttribute("data-text") || "" : "";
    var last = Date.now();
    var lastPing = Date.now();
    var csrf = (document.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";
    var activity = function () {
      last = Date.now();
      if (box) { box.hidden = true; }
      // Tell the server at most every third of the limit, so its own clock does not end the session.
      if (pingUrl && Date.now() - lastPing > idle * 1000 / 3) {
        lastPing = Date.now();
        var req = new XMLHttpRequest();
        req.open("POST", pingUrl);
        req.setRequestHeader("X-CSRFToken", csrf);
        req.onload = function () { if (req.status !== 204) { window.location.href = endUrl; } };
        req.send();
      }
    };
    ["pointerdown", "keydown", "input", "scroll", "touchstart"].forEach(function (name) {
      document.addEventListener(name, activity, { passive: true, capture: true });
    });
    window.setInterval(function () {
      var left = idle - Math.floor((Date.now() - last) / 1000);
      if (left <= 0) { window.location.href = endUrl; return; }
      if (box && text && left <= warnAt) {
        box.textContent = text.replace("SECONDS", String(left));
        box.hidden = false;
      }
    }, 1000);
  }

  // --- print -----------------------------------------------------------------------------------
  Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  // --- on-screen keypad --------------------------------------------------------------------------
  var panel = document.querySelector("[data-keypad-panel]");
  var fields = document.querySelectorAll("input[data-keypad]");
  if (panel && fields.length) {
    var target = fields[0];
    Array.prototype.forEach.call(fields, function (f) {
      f.addEventListener("focus", function () { target = f; });
    });
    panel.hidden = false;
    panel.addEventListener("click", function (event) {
      var key = event.target.getAttribute && event.target.getAttribute("data-key");
      if (!key || !target) { return; }
      if (key === "back") {
        target.value = target.value.slice(0, -1);
      } else if (key !== "," || target.getAttribute("data-keypad") === "decimal") {
        if (!target.maxLength || target.maxLength < 0 || target.value.length < target.maxLength) {
          target.value += key;
        }
      }
      target.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }
})();
