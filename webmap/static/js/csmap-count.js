/* The census form (/count): "Is this your school?". The "Check the place" button asks /count/locate
 * (the loader's offline geocoder) and shows the point on a small map of the embedded basemap.
 * Without JavaScript the same button posts the form and the server answers with the place. */
(function () {
  "use strict";

  var map = null;
  var marker = null;
  /* The page's words (csmap-common.js reads the csmap-i18n blob; webmap.i18n.SCRIPT_MESSAGES). */
  var t = window.csmap.t;

  function config() {
    var node = document.getElementById("count-config");
    return node ? JSON.parse(node.textContent) : {};
  }

  function show(place, settings) {
    var holder = document.getElementById("count-map");
    if (!holder || typeof L === "undefined") { return; }
    holder.hidden = false;
    var preview = document.getElementById("tile-preview");
    if (preview) { preview.hidden = true; }
    if (!map) {
      map = L.map(holder, {maxZoom: 18, minZoom: 2, zoomSnap: 0.5});
      if (settings.tiles) {
        L.tileLayer(settings.tiles, {
          attribution: settings.attribution, maxZoom: 18, maxNativeZoom: settings.max_native_zoom || 18
        }).addTo(map);
      }
    }
    var zoom = place.precision === "state" ? 6 : (place.precision === "city" || place.precision === "zip" ? 9 : 12);
    map.setView([place.lat, place.lon], zoom, {animate: false});
    if (marker) { map.removeLayer(marker); }
    marker = L.circleMarker([place.lat, place.lon], {radius: 8, color: "#fff", weight: 2, fillColor: "#c62828", fillOpacity: 0.95}).addTo(map);
    holder.setAttribute("data-placed", place.lat.toFixed(4) + "," + place.lon.toFixed(4));
  }

  function locate(event) {
    event.preventDefault();
    var settings = config();
    var form = document.getElementById("count-form");
    var result = document.getElementById("locate-result");
    var query = new URLSearchParams();
    ["name", "address", "city", "state", "zip", "country"].forEach(function (name) {
      var input = form.elements[name];
      query.set(name, input ? input.value.trim().slice(0, 200) : "");
    });
    result.textContent = t("Placing the school…");
    fetch(settings.locate_url + "?" + query.toString(), {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then(function (response) {
        return response.json().then(function (body) { return {ok: response.ok, body: body}; });
      })
      .then(function (answer) {
        if (!answer.ok) { result.textContent = answer.body.description || t("The address could not be placed."); return; }
        var place = answer.body;
        result.textContent = t("Is this your school? We placed it at {lat}, {lon} ({precision} precision{note}). If it is far off, correct the address.", {
          lat: place.lat.toFixed(4), lon: place.lon.toFixed(4), precision: t(place.precision), note: place.note ? "; " + place.note : ""
        });
        show(place, settings);
      })
      .catch(function () { result.textContent = t("The place could not be checked just now; you can still send the form."); });
  }

  function start() {
    var button = document.getElementById("locate-button");
    if (button) { button.addEventListener("click", locate); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
