/* The records' map pieces (docs/RECORDS.md): the Coalition Communities layer on the national and state
 * maps, and the partner page's map of its schools. Names from the data are set as text, never as HTML. */
(function () {
  "use strict";
  /* The page's words for scripts (webmap/i18n.py script_messages; csmap-common.js has the same t). */
  var MESSAGES = (function () {
    var node = document.getElementById("csmap-i18n");
    try { return node ? JSON.parse(node.textContent) : {}; } catch (error) { return {}; }
  }());
  function t(text, values) {
    var out = Object.prototype.hasOwnProperty.call(MESSAGES, text) ? MESSAGES[text] : text;
    Object.keys(values || {}).forEach(function (key) { out = out.split("{" + key + "}").join(String(values[key])); });
    return out;
  }

  function fetchJson(url) {
    return fetch(url, {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) { throw new Error(url + ": " + r.status); }
      return r.json();
    });
  }

  function tooltipText(props) {
    var parts = [props.name];
    if (props.lead_organization) { parts.push(t("led by {name}", {name: props.lead_organization})); }
    parts.push(t(props.school_count === 1 ? "{n} school" : "{n} schools", {n: props.school_count}));
    return parts.join(" — ");
  }

  /* The communities layer: drawn on the page's Leaflet map, with a checkbox to show or hide it. */
  function communities() {
    var holder = document.getElementById("csmap-communities");
    var configNode = document.getElementById("csmap-config");
    if (!holder || !configNode || typeof L === "undefined") { return; }
    var config = JSON.parse(configNode.textContent);
    var map = window[config.map];
    if (!map) { return; }
    fetchJson(holder.getAttribute("data-url")).then(function (collection) {
      if (!collection.features.length) { return; }
      var layer = L.geoJSON(collection, {
        style: {color: "#b35806", weight: 2, dashArray: "2 4", fillColor: "#fdb863", fillOpacity: 0.25},
        onEachFeature: function (feature, shape) {
          shape.bindTooltip(document.createTextNode(tooltipText(feature.properties)), {sticky: true});
          if (window.csmap && csmap.a11y) { csmap.a11y.focusable(shape, tooltipText(feature.properties)); }
        }
      }).addTo(map);
      var label = document.createElement("label");
      var box = document.createElement("input");
      box.type = "checkbox";
      box.checked = true;
      box.id = "show-communities";
      box.addEventListener("change", function () {
        if (box.checked) { layer.addTo(map); } else { map.removeLayer(layer); }
      });
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + t("Show the Coalition Communities on the map (orange)")));
      holder.appendChild(label);
      holder.setAttribute("data-drawn", String(collection.features.length));
    }).catch(function (error) { holder.textContent = t("The communities layer could not be loaded."); console.error(error); });
  }

  /* The partner page: its schools as dots over the state outlines (works with no tiles). */
  function partnerMap() {
    var node = document.getElementById("partner-map");
    var data = document.getElementById("csmap-partner-schools");
    if (!node || !data || typeof L === "undefined") { return; }
    var schools = JSON.parse(data.textContent);
    var map = L.map(node, {maxZoom: 18, minZoom: 2, zoomSnap: 0.5}).setView([39.5, -98.35], 4);
    if (window.csmap && csmap.a11y) { csmap.a11y.keyboardMap(map, node.getAttribute("aria-label") || "Map of the partner's schools"); }
    fetchJson(node.getAttribute("data-states")).then(function (states) {
      L.geoJSON(states, {interactive: false, style: {color: "#888", weight: 1, fillColor: "#f4f4f0", fillOpacity: 1}})
        .addTo(map).bringToBack();
    }).catch(function () { /* the dots still show */ });
    var points = [];
    schools.forEach(function (s) {
      var lead = s.role === "lead";
      var dot = L.circleMarker([s.lat, s.lon], {
        radius: lead ? 7 : 5, color: "#fff", weight: 1.5, fillColor: lead ? "#1b5e20" : "#4a148c", fillOpacity: 0.9
      }).addTo(map);
      dot.bindTooltip(document.createTextNode(s.name + " (" + s.role + ")"));
      if (window.csmap && csmap.a11y) { csmap.a11y.focusable(dot, s.name + " (" + s.role + ")"); }
      points.push([s.lat, s.lon]);
    });
    if (points.length) { map.fitBounds(L.latLngBounds(points).pad(0.3), {maxZoom: 11, animate: false}); }
    node.setAttribute("data-schools-drawn", String(points.length));
  }

  function start() { communities(); partnerMap(); }
  if (document.readyState === "complete") { start(); } else { window.addEventListener("load", start); }
}());
