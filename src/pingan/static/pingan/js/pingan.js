/* Pingan page behaviour. No inline scripts (CSP): pages describe what they need with data-* attributes. */
(function () {
  "use strict";

  // A search's results replace the candidates ([data-picked="<id of the picked list>"]): a ticked candidate
  // moves to the picked list first, so the next search keeps it; a candidate already picked is not offered
  // twice.
  function pickedList(container) {
    return document.getElementById(container.getAttribute("data-picked"));
  }

  // Enter in a search box that searches as one types (hx-trigger "… search") runs the search; it does not
  // submit the form around it (the report form: a half-filled report would be sent)
  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (event.key !== "Enter" || !box.matches || !box.matches("input[type=search][hx-get]")) return;
    if ((box.getAttribute("hx-trigger") || "").indexOf("search") < 0 || !window.htmx) return;
    event.preventDefault();
    window.htmx.trigger(box, "search");
  });

  document.addEventListener("change", function (event) {
    var box = event.target;
    var from = box.closest ? box.closest("[data-picked]") : null;
    if (!from || box.type !== "checkbox" || !box.checked) { return; }
    var list = pickedList(from);
    var item = box.closest(".form-check");
    if (list && item) { list.appendChild(item); }
  });

  function dropPicked(root) {
    var containers = root.matches && root.matches("[data-picked]")
      ? [root] : Array.prototype.slice.call(root.querySelectorAll("[data-picked]"));
    containers.forEach(function (container) {
      var list = pickedList(container);
      if (!list) { return; }
      container.querySelectorAll("input[type=checkbox]").forEach(function (box) {
        var same = list.querySelector('input[name="' + box.name + '"][value="' + box.value + '"]');
        if (same && box.closest(".form-check")) { box.closest(".form-check").remove(); }
      });
    });
  }

  function onReady(root) {
    dropPicked(root);
    root.querySelectorAll("[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { el.form.submit(); });
    });
    root.querySelectorAll("[data-confirm]").forEach(function (el) {
      el.addEventListener("submit", function (event) {
        if (!window.confirm(el.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
    if (window.echarts) {
      root.querySelectorAll("[data-chart]").forEach(function (el) {
        var option = JSON.parse(document.getElementById(el.getAttribute("data-chart")).textContent);
        var chart = window.echarts.init(el, null, { renderer: "svg" });
        chart.setOption(option);
        window.addEventListener("resize", function () { chart.resize(); });
      });
    }
    if (window.L) {
      root.querySelectorAll("[data-shapes]").forEach(function (el) {
        var shapes = JSON.parse(document.getElementById(el.getAttribute("data-shapes")).textContent);
        var map = window.L.map(el, { attributionControl: false, zoomSnap: 0.25 });
        var layers = window.L.featureGroup().addTo(map);
        shapes.forEach(function (shape, index) {
          var layer = window.L.geoJSON(shape.geometry, {
            style: { color: index === 0 ? "#1f4e8c" : "#d9480f", weight: index === 0 ? 3 : 1.5, fillOpacity: index === 0 ? 0.05 : 0.15 }
          });
          layer.bindTooltip(shape.name + " " + shape.code);
          if (index > 0 && shape.url) { layer.on("click", function () { window.location.href = shape.url; }); }
          layer.addTo(layers);
        });
        if (layers.getLayers().length) { map.fitBounds(layers.getBounds(), { padding: [12, 12] }); }
        else { map.setView([39.1, 117.2], 12); }
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () { onReady(document); });
  document.addEventListener("htmx:afterSwap", function (event) { onReady(event.target); });
  // the answer to an action (done, or not done and why) is brought into sight: on a phone the panel's top,
  // where it shows, is far above the form that was sent
  document.addEventListener("htmx:afterSettle", function (event) {
    var notice = event.target.querySelector ? event.target.querySelector("[data-scroll-into-view]") : null;
    if (notice && notice.scrollIntoView) notice.scrollIntoView({ block: "center" });
  });
})();
