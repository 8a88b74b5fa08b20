/* Register screen: the assistant's suggestion while the operator types or pastes the text.
   Without this file the "Suggest type and topic" button does the same with a page reload. */
(function () {
  "use strict";

  function init() {
    var form = document.getElementById("register-form");
    var box = document.getElementById("suggestion");
    if (!form || !box || !window.fetch || !window.FormData) return;
    var text = form.querySelector("[name=text]");
    var kind = form.querySelector("[name=kind]");
    var topic = form.querySelector("[name=topic]");
    var addressText = form.querySelector("[name=address_text]");
    var addressId = form.querySelector("[name=address_id]");
    if (!text) return;
    var prefKind = form.querySelector("[name=prefilled_kind]");
    var prefTopic = form.querySelector("[name=prefilled_topic]");
    // A value other than the default and other than what the assistant filled in was chosen by the
    // operator (e.g. the page came back with an error, or after the no-JS button): keep it.
    function chosen(select, byDefault, prefilled) {
      if (!select || !select.value || select.value === byDefault) return false;
      return !(prefilled && prefilled.value && select.value === prefilled.value);
    }
    // What the operator set by hand is never overwritten.
    var touched = {
      kind: chosen(kind, "info_request", prefKind),
      topic: chosen(topic, "other", prefTopic),
      address: false
    };
    if (kind) kind.addEventListener("change", function () { touched.kind = true; });
    if (topic) topic.addEventListener("change", function () { touched.topic = true; });
    if (addressText) addressText.addEventListener("input", function () {
      touched.address = true;
      if (addressId) addressId.value = "";
    });

    var timer = null;
    var last = "";
    var seq = 0;

    function apply(panel) {
      if (!panel) return;
      var k = panel.getAttribute("data-kind");
      var t = panel.getAttribute("data-topic");
      if (k && kind && !touched.kind) {
        kind.value = k;
        if (prefKind) prefKind.value = k;
        kind.dispatchEvent(new Event("change"));
        touched.kind = false;
      }
      if (t && topic && !touched.topic) {
        topic.value = t;
        if (prefTopic) prefTopic.value = t;
      }
      var pick = panel.getAttribute("data-pick");
      if (pick && !form.querySelector("[name=pick]:checked[value^='account:'], [name=pick]:checked[value^='customer:']")) {
        var radio = document.querySelector("[name=pick][value='" + pick + "']");
        if (radio) radio.checked = true;
      }
      var at = panel.getAttribute("data-address-text");
      if (at && addressText && !touched.address && !addressText.value) {
        addressText.value = at;
        if (addressId) addressId.value = panel.getAttribute("data-address-id") || "";
      }
    }

    function ask() {
      var value = text.value.trim();
      if (value === last || value.length < 10) return;
      last = value;
      var body = new FormData();
      body.append("text", value);
      var picked = form.querySelector("[name=pick]:checked") || document.querySelector("[name=pick][form=register-form]:checked");
      if (picked) body.append("pick", picked.value);
      var token = form.querySelector("[name=csrfmiddlewaretoken]");
      var mine = ++seq;
      fetch(box.getAttribute("data-fragment"), {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", "X-CSRFToken": token ? token.value : "" }
      })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          if (mine !== seq) return; // an older answer arriving late
          box.innerHTML = html;
          apply(box.querySelector("#suggestion-panel"));
        })
        .catch(function () { /* the button still works */ });
    }

    text.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 600);
    });
    text.addEventListener("paste", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 50);
    });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
