/* Grid events: GPS on the report form, and the event map (grid polygons, server-side clusters).
   No inline scripts (CSP): everything is wired through data-* attributes. */
(function () {
  "use strict";

  // --- report form: fill the hidden latitude/longitude from the phone's GPS ------------------------
  function setupGeolocation(form) {
    var lat = form.querySelector("input[name=latitude]");
    var lon = form.querySelector("input[name=longitude]");
    var text = form.querySelector("[data-geo-text]");
    var button = form.querySelector("[data-geo-locate]");
    if (!lat || !lon || !text) { return; }
    function locate() {
      if (!navigator.geolocation) { text.textContent = text.getAttribute("data-failed"); return; }
      text.textContent = text.getAttribute("data-waiting");
      navigator.geolocation.getCurrentPosition(function (position) {
        lat.value = position.coords.latitude.toFixed(6);
        lon.value = position.coords.longitude.toFixed(6);
        text.textContent = text.getAttribute("data-found") + " " + lat.value + ", " + lon.value +
          " (±" + Math.round(position.coords.accuracy) + " m)";
        // the duplicate suggestion (htmx) listens for this
        document.body.dispatchEvent(new CustomEvent("pa:located", { bubbles: true }));
      }, function () {
        text.textContent = text.getAttribute("data-failed");
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    }
    if (button) { button.addEventListener("click", locate); }
    if (!lat.value) { locate(); }
  }

  // --- the event map --------------------------------------------------------------------------------
  var STATUS_COLOURS = { reported: "#b58100", accepted: "#0b7285", dispatched: "#1f4e8c", handling: "#1f4e8c",
    handled: "#6f42c1", closed: "#198754", refused: "#6c757d" };

  function setupMap(el) {
    if (!window.L) { return; }
    var L = window.L;
    var shapes = JSON.parse(document.getElementById(el.getAttribute("data-shapes-id")).textContent);
    var map = L.map(el, { attributionControl: false, zoomSnap: 0.5, preferCanvas: true });
    var grids = L.featureGroup().addTo(map);
    var markers = L.layerGroup().addTo(map);
    var max = shapes.reduce(function (m, s) { return Math.max(m, s.count); }, 0) || 1;
    shapes.forEach(function (shape) {
      var share = shape.count / max;
      var layer = L.geoJSON(shape.geometry, { style: {
        color: "#1f4e8c", weight: 1, fillColor: "#d9480f", fillOpacity: shape.count ? 0.1 + 0.5 * share : 0.03 } });
      layer.bindTooltip(shape.name + " · " + shape.count + " " + el.getAttribute("data-label-events"));
      layer.on("click", function () { window.location.href = shape.url; });
      layer.addTo(grids);
    });
    if (grids.getLayers().length) { map.fitBounds(grids.getBounds(), { padding: [12, 12] }); }
    else { map.setView([39.09, 117.25], 13); }

    var total = document.querySelector("[data-map-total]");
    var pending = null;
    function load() {
      var b = map.getBounds();
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); });
      var url = el.getAttribute("data-url") + "&bbox=" + bbox.join(",") + "&zoom=" + Math.round(map.getZoom());
      if (pending) { pending.abort(); }
      pending = new AbortController();
      fetch(url, { credentials: "same-origin", signal: pending.signal, headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) { draw(data); } })
        .catch(function () { /* aborted or offline: keep what is drawn */ });
    }
    function draw(data) {
      markers.clearLayers();
      if (total) { total.textContent = "（" + data.total + "）"; }
      data.clusters.forEach(function (c) {
        var size = Math.round(26 + Math.min(34, Math.sqrt(c.count) * 4));
        var box = document.createElement("div");
        box.className = "pa-cluster";
        box.style.width = box.style.height = size + "px";
        var label = document.createElement("span");
        label.style.lineHeight = (size - 4) + "px";
        label.textContent = String(c.count);
        box.appendChild(label);
        var marker = L.marker([c.lat, c.lon], { icon: L.divIcon({ html: box, className: "", iconSize: [size, size] }) });
        marker.on("click", function () { map.setView([c.lat, c.lon], Math.min(map.getZoom() + 2, 18)); });
        marker.addTo(markers);
      });
      data.points.forEach(function (p) {
        var marker = L.circleMarker([p.lat, p.lon], { radius: 7, weight: 2, color: p.late ? "#dc3545" : "#fff",
          fillColor: STATUS_COLOURS[p.status] || "#1f4e8c", fillOpacity: 0.9 });
        var box = document.createElement("div");
        var link = document.createElement("a");
        link.href = p.url;
        link.textContent = p.number + " " + p.title;
        var state = document.createElement("div");
        state.className = "small text-muted";
        state.textContent = p.status_label;
        box.appendChild(link);
        box.appendChild(state);
        marker.bindPopup(box);
        marker.addTo(markers);
      });
    }
    map.on("moveend", load);
    load();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-report-form]").forEach(setupGeolocation);
    document.querySelectorAll("[data-event-map]").forEach(setupMap);
  });
})();
