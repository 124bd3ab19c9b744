/* Revealed personal data (core/_sensitive_revealed.html): masked again on "隐藏", after a while, and
   when the page is hidden (another tab, screen locked), so a full value does not linger on screen. */
(function () {
  "use strict";
  if (window.paSensitive) { return; }
  window.paSensitive = true;

  function hide(el) {
    var value = el.querySelector(".pa-sensitive-value");
    if (value) { value.textContent = el.getAttribute("data-masked") || "—"; value.classList.remove("font-monospace"); }
    el.removeAttribute("data-sensitive-revealed");
    el.classList.remove("pa-sensitive-revealed");
    el.querySelectorAll("[data-sensitive-hide], small").forEach(function (node) { node.remove(); });
  }

  function hideAll() {
    document.querySelectorAll("[data-sensitive-revealed]").forEach(hide);
  }

  function arm() {
    document.querySelectorAll("[data-sensitive-revealed]:not([data-armed])").forEach(function (el) {
      el.setAttribute("data-armed", "");
      var seconds = parseInt(el.getAttribute("data-hide-after") || "60", 10);
      if (seconds > 0) { window.setTimeout(function () { hide(el); }, seconds * 1000); }
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-sensitive-hide]");
    if (button) { hide(button.closest("[data-sensitive-revealed]")); }
  });
  document.addEventListener("htmx:afterSwap", arm);
  document.addEventListener("htmx:afterSettle", function (event) {
    var input = event.target.querySelector && event.target.querySelector(".pa-reveal-form.show input[name=reason]");
    if (input) { input.focus(); }
  });
  document.addEventListener("shown.bs.collapse", function (event) {
    var input = event.target.querySelector && event.target.querySelector("input[name=reason]");
    if (input) { input.focus(); }
  });
  document.addEventListener("visibilitychange", function () { if (document.hidden) { hideAll(); } });
  document.addEventListener("DOMContentLoaded", arm);
})();
