// The simulated line: the computer keyboard presses the keypad (0-9, * and #); Escape hangs up.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    var form = document.getElementById("cc-phone");
    if (!form || event.altKey || event.ctrlKey || event.metaKey) return;
    var target = event.target;
    if (target && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA")) return;
    if (event.key === "Escape") {
      var hang = form.querySelector('button[value="hangup"]');
      if (hang) hang.click();
      return;
    }
    var button = form.querySelector('button.cc-key[data-key="' + event.key + '"]');
    if (button && !button.disabled) {
      event.preventDefault();
      button.classList.add("pressed");
      button.click();
    }
  });
})();
