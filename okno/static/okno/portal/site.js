/* Territory page, progressive only: hovering or focusing an office card highlights its pin on the map,
   and a pin's link scrolls to (and highlights) the card. Without this script the links work the same. */
(function () {
  "use strict";
  var pins = {};
  document.querySelectorAll("svg.office-map a.office-pin").forEach(function (a) {
    pins[(a.getAttribute("href") || "").slice(1)] = a;
  });
  document.querySelectorAll(".office-card").forEach(function (card) {
    var pin = pins[card.id];
    if (!pin) { return; }
    var on = function () { pin.classList.add("is-active"); };
    var off = function () { pin.classList.remove("is-active"); };
    card.addEventListener("mouseenter", on);
    card.addEventListener("mouseleave", off);
    card.addEventListener("focusin", on);
    card.addEventListener("focusout", off);
  });
})();
