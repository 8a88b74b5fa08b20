/* Okno: small progressive enhancements. Every form also works without this file. */
(function () {
  "use strict";

  // Quick registration: search customers without reloading the page (keeps what was typed).
  function initCustomerSearch() {
    var form = document.getElementById("customer-search");
    var box = document.getElementById("candidates");
    if (!form || !box || !window.fetch) return;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var q = form.querySelector("[name=q]").value;
      var url = form.getAttribute("data-fragment") + "?q=" + encodeURIComponent(q);
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          box.innerHTML = html;
          var hidden = document.querySelector("#register-form [name=q]");
          if (hidden) hidden.value = q;
        })
        .catch(function () { form.submit(); });
    });
  }

  // Complaint fields are always in the form; show them prominently only for complaints.
  function initComplaintFields() {
    var kind = document.querySelector("#register-form [name=kind]");
    var box = document.getElementById("complaint-fields");
    if (!kind || !box) return;
    function sync() { box.classList.toggle("dim", kind.value !== "complaint"); }
    kind.addEventListener("change", sync);
    sync();
  }

  // "Answered during the call": show the answer text only when ticked.
  function initAnsweredNow() {
    var cb = document.querySelector("#register-form [name=answered_now]");
    var box = document.getElementById("answer-now-text");
    if (!cb || !box) return;
    function sync() { box.hidden = !cb.checked; }
    cb.addEventListener("change", sync);
    sync();
  }

  // Appeal card: choosing an answer template fills the answer text (bodies are rendered server-side).
  function initTemplatePicker() {
    var pick = document.getElementById("template-picker");
    var text = document.querySelector("#act-answer textarea[name=text]");
    var hidden = document.querySelector("#act-answer [name=template]");
    if (!pick || !text) return;
    pick.addEventListener("change", function () {
      var opt = pick.options[pick.selectedIndex];
      var body = opt && opt.getAttribute("data-body");
      if (body !== null && body !== undefined) {
        text.value = body;
        if (hidden) hidden.value = pick.value;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    initCustomerSearch();
    initComplaintFields();
    initAnsweredNow();
    initTemplatePicker();
  });
})();
