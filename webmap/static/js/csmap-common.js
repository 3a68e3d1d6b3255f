/* Helpers shared by the map pages' own scripts (csmap-map.js for the overview, state and find maps;
 * plan.js for the planner). This file ends the map script bundle (webmap/assets.py MAP_SCRIPTS), so it
 * runs after Leaflet and before either page script, at no extra request. It defines window.csmap.
 *
 * Text from the data reaches the page only through textContent (el), never as HTML.
 */
(function () {
  "use strict";

  /* The page's <script type="application/json" id="..."> config. */
  function readConfig(id) {
    return JSON.parse(document.getElementById(id).textContent);
  }

  /* A function from a layer role ("schools", "picks", ...) to the folium layer the config names for it. */
  function layerGetter(config) {
    return function (role) { return window[config.layers[role]]; };
  }

  /* The page's language and its words for the scripts (webmap/i18n.py script_messages: an empty
   * object in English). t("Open the {name} page →", {name: "Ohio"}) fills the {name} slots. */
  var LANG = document.documentElement.lang || "en";
  var MESSAGES = (function () {
    var node = document.getElementById("csmap-i18n");
    try { return node ? JSON.parse(node.textContent) : {}; } catch (error) { return {}; }
  }());
  function t(text, values) {
    var out = Object.prototype.hasOwnProperty.call(MESSAGES, text) ? MESSAGES[text] : text;
    Object.keys(values || {}).forEach(function (key) { out = out.split("{" + key + "}").join(String(values[key])); });
    return out;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  /* A figure as the pages show it: counts rounded with thousands separators, shares as percentages,
   * rates with two decimals; a missing or infinite value is a dash. */
  function fmt(value, kind) {
    if (value === null || value === undefined || (typeof value === "number" && !isFinite(value))) { return "—"; }
    if (kind === "text") { return t(String(value)); }
    if (LANG !== "en") {  // the page's language's separators (Intl), as the server's Babel formats them
      var digits = kind === "share" || kind === "rate" || kind === "ratio" ? (kind === "share" ? 1 : 2) : 0;
      return value.toLocaleString(LANG, {style: kind === "share" ? "percent" : "decimal",
        minimumFractionDigits: digits, maximumFractionDigits: digits});
    }
    if (kind === "share") { return (value * 100).toFixed(1) + "%"; }
    if (kind === "rate" || kind === "ratio") {
      return value.toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
    }
    return Math.round(value).toLocaleString("en-US");
  }

  function getJSON(url) {
    return fetch(url, {credentials: "same-origin"}).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    });
  }

  /* A two-column table of [label, value] rows, for popups and tooltips. */
  function figureTable(rows) {
    var table = el("table", "csmap-figures");
    rows.forEach(function (row) {
      var tr = el("tr");
      tr.appendChild(el("th", null, row[0]));
      tr.appendChild(el("td", null, row[1]));
      table.appendChild(tr);
    });
    return table;
  }

  /* Print (issue 16): the print stylesheet gives each map a paper-sized box; Leaflet must
   * recompute its size to draw into it, and again when the page is back on screen.
   * folium names a map's variable after its div's id. */
  function eachMap(callback) {
    Array.prototype.forEach.call(document.querySelectorAll(".folium-map"), function (div) {
      var map = window[div.id];
      if (map && map.invalidateSize) { callback(map); }
    });
  }
  // On paper, show the area that was on screen; back on screen, the view it had.
  window.addEventListener("beforeprint", function () {
    eachMap(function (map) {
      map.csmapScreenView = {center: map.getCenter(), zoom: map.getZoom(), bounds: map.getBounds()};
      map.invalidateSize({animate: false});
      map.fitBounds(map.csmapScreenView.bounds, {animate: false});
    });
  });
  window.addEventListener("afterprint", function () {
    eachMap(function (map) {
      map.invalidateSize({animate: false});
      if (map.csmapScreenView) { map.setView(map.csmapScreenView.center, map.csmapScreenView.zoom, {animate: false}); }
    });
  });

  window.csmap = {
    readConfig: readConfig,
    layerGetter: layerGetter,
    el: el,
    fmt: fmt,
    t: t,
    lang: LANG,
    getJSON: getJSON,
    figureTable: figureTable
  };
}());
