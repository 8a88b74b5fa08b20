/* Okno chat: sends through fetch, appends the answers, polls while an operator is involved.
   The page works without this file (the forms post and the server renders the transcript). */
(function () {
  "use strict";

  var LIVE = { waiting: true, operator: true };

  function init() {
    var box = document.querySelector("[data-chat]");
    if (!box || !window.fetch || !box.getAttribute("data-send-url")) return;
    var log = document.getElementById("chat-log");
    var form = document.getElementById("chat-form");
    var choices = document.getElementById("chat-choices");
    var text = document.getElementById("chat-text");
    var statusLine = document.getElementById("chat-status");
    var errorLine = document.getElementById("chat-error");
    var sendUrl = box.getAttribute("data-send-url");
    var pollUrl = box.getAttribute("data-poll-url");
    var pollMs = Math.max(2, parseInt(box.getAttribute("data-poll-s"), 10) || 4) * 1000;
    var status = box.getAttribute("data-status") || "bot";
    var timer = null;
    var busy = false;
    var csrf = form && form.querySelector("[name=csrfmiddlewaretoken]");

    function lastId() {
      var items = log.querySelectorAll("li[data-id]");
      return items.length ? parseInt(items[items.length - 1].getAttribute("data-id"), 10) : 0;
    }

    function showError(message) {
      if (!errorLine) return;
      errorLine.textContent = message || "";
      errorLine.hidden = !message;
    }

    function setStatus(value) {
      if (!value) return;
      status = value;
      box.setAttribute("data-status", value);
      var key = "data-text-" + value;
      statusLine.textContent = box.getAttribute(key) || "";
      if (value === "closed") {
        // The conversation ended (an operator closed it): reload to offer a new one.
        window.location.reload();
        return;
      }
      schedule();
    }

    function renderChoices(items) {
      if (!choices) return;
      Array.prototype.slice.call(choices.querySelectorAll(".chat-choice")).forEach(function (b) { b.remove(); });
      (items || []).forEach(function (c) {
        var b = document.createElement("button");
        b.type = "submit";
        b.name = "text";
        b.value = c.value;
        b.className = "secondary chat-choice";
        b.textContent = c.label;
        choices.appendChild(b);
      });
      choices.hidden = !(items && items.length);
    }

    function append(messages) {
      var known = {};
      Array.prototype.forEach.call(log.querySelectorAll("li[data-id]"), function (li) {
        known[li.getAttribute("data-id")] = true;
      });
      var last = null;
      (messages || []).forEach(function (m) {
        last = m;
        if (known[String(m.id)]) return;
        var li = document.createElement("li");
        li.className = "chat-msg chat-" + m.author;
        li.setAttribute("data-id", String(m.id));
        var who = document.createElement("span");
        who.className = "chat-author";
        who.textContent = m.author_label;
        var body = document.createElement("div");
        body.className = "chat-text";
        body.textContent = m.display || m.text; // plain text, never HTML
        var when = document.createElement("time");
        when.className = "chat-time";
        when.setAttribute("datetime", m.created_at);
        var d = new Date(m.created_at);
        when.textContent = isNaN(d) ? "" : ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
        li.appendChild(who);
        li.appendChild(body);
        li.appendChild(when);
        log.appendChild(li);
      });
      if (last) {
        renderChoices(last.author === "customer" ? [] : last.choices);
        var end = document.getElementById("chat-end");
        if (end && end.scrollIntoView) end.scrollIntoView({ block: "end" });
      }
    }

    function request(method, url, body) {
      var headers = { Accept: "application/json" };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      if (csrf) headers["X-CSRFToken"] = csrf.value;
      return fetch(url, {
        method: method,
        credentials: "same-origin",
        headers: headers,
        body: body === undefined ? undefined : JSON.stringify(body)
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) { return { status: r.status, data: data }; });
      });
    }

    function send(value) {
      if (busy) return;
      busy = true;
      showError("");
      request("POST", sendUrl, { text: value })
        .then(function (res) {
          if (res.status === 201) {
            append(res.data.messages);
            setStatus(res.data.status);
            if (text) { text.value = ""; text.focus(); }
          } else if (res.status === 409) {
            window.location.reload();
          } else {
            var d = res.data || {};
            var msg = d.detail || (d.errors && d.errors.text && d.errors.text[0]) || box.getAttribute("data-text-error");
            showError(msg);
          }
        })
        .catch(function () { showError(box.getAttribute("data-text-error")); })
        .then(function () { busy = false; });
    }

    function poll() {
      timer = null;
      if (!LIVE[status] || !pollUrl) return;
      request("GET", pollUrl + "?after=" + lastId())
        .then(function (res) {
          if (res.status === 200) {
            append(res.data.messages);
            if (res.data.status !== status) { setStatus(res.data.status); return; }
          }
          schedule();
        })
        .catch(schedule);
    }

    function schedule() {
      if (timer || !LIVE[status]) return;
      timer = window.setTimeout(poll, pollMs);
    }

    if (form) {
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        send(text ? text.value : "");
      });
    }
    if (text && form) {
      text.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
          ev.preventDefault();
          send(text.value);
        }
      });
    }
    if (choices) {
      choices.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var b = ev.submitter || document.activeElement;
        if (b && b.value) send(b.value);
      });
    }
    schedule();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
