/* Context to orient by, drawn over the basemap (issue 15, point 2): state outlines and names, the
 * neighbouring states and county names on a state page, place names from the GeoNames gazetteer, and
 * Alaska, Hawaii and Puerto Rico as insets on the national map. Data: webmap/context.py.
 *
 * Labels never overlap: at each moveend the labels of the view are laid out greedily, states first,
 * then counties, then places from the most populous down, each dropped when its box (measured with
 * the label font) would touch one already placed. Places are also thinned by population for the zoom
 * (MIN_POPULATION), so the map stays readable when nothing would overlap anyway.
 *
 * Defines csmap.context(map, config) and csmap.insets(map, features, style); csmap-map.js calls them.
 * Names reach the page through textContent only (csmap.el).
 */
(function () {
  "use strict";

  var el = csmap.el, getJSON = csmap.getJSON;
  /* Fewest people a place needs to be labelled at a zoom (GeoNames population); from zoom 11, all. */
  var MIN_POPULATION = [[4, 500000], [5, 150000], [6, 60000], [7, 25000], [8, 10000], [9, 4000], [10, 1500]];
  /* The full gazetteer (18,500 places, ~260 KB) is fetched only from this zoom; before, the ~500
   * places of 50,000 people or more (~19 KB) that the page loads with it are all that can show. */
  var ALL_PLACES_ZOOM = 7;
  var LABEL_FONT = "600 12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  var STATE_FONT = "700 13px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  var PAD = 3;  // pixels kept clear round every label
  var measureContext = document.createElement("canvas").getContext("2d");

  function textWidth(text, font) {
    measureContext.font = font;
    return measureContext.measureText(text).width;
  }

  function minPopulation(zoom) {
    for (var i = 0; i < MIN_POPULATION.length; i++) {
      if (zoom <= MIN_POPULATION[i][0]) { return MIN_POPULATION[i][1]; }
    }
    return 0;
  }

  function overlaps(box, boxes) {
    for (var i = 0; i < boxes.length; i++) {
      var b = boxes[i];
      if (box[0] < b[2] && box[2] > b[0] && box[1] < b[3] && box[3] > b[1]) { return true; }
    }
    return false;
  }

  function context(map, config) {
    var labels = L.layerGroup().addTo(map);
    var places = null, allPlaces = null, allRequested = false;
    var stateLabels = [], countyLabels = null;
    var page = config.page;

    map.createPane("csmap-context").style.zIndex = 430;  // above the choropleths, below the markers
    map.getPane("csmap-context").style.pointerEvents = "none";
    map.createPane("csmap-labels").style.zIndex = 560;  // above every area, below the markers (600)
    map.getPane("csmap-labels").style.pointerEvents = "none";

    function label(latlng, text, className, font, boxes, dot) {
      var point = map.latLngToContainerPoint(latlng);
      var width = Math.ceil(textWidth(text, font)) + 2 * PAD, height = 16 + PAD;
      // With a dot on the place, the name sits just above it; otherwise centred on the place.
      var top = dot ? point.y - height - 2 : point.y - height / 2;
      var box = [point.x - width / 2, top, point.x + width / 2, dot ? point.y + 3 : top + height];
      if (overlaps(box, boxes)) { return false; }
      boxes.push(box);
      var icon = L.divIcon({className: "csmap-label " + className, html: el("span", null, text),
                            iconSize: [width, height], iconAnchor: [width / 2, point.y - top]});
      L.marker(latlng, {icon: icon, pane: "csmap-labels", interactive: false, keyboard: false}).addTo(labels);
      if (dot) {
        L.circleMarker(latlng, {pane: "csmap-labels", radius: 2.5, weight: 1, color: "#1f2933", fillColor: "#ffffff",
                                fillOpacity: 1, interactive: false}).addTo(labels);
      }
      return true;
    }

    // Places from `from` on, most populous first, down to `least` people; returns how many were placed.
    function placeLabels(source, least, boxes, zoom, limit) {
      var size = map.getSize(), placed = 0;
      for (var i = 0; i < source.count && source.pop[i] >= least && placed < limit; i++) {
        if (source.pop[i] < least) { break; }
        var at = L.latLng(source.lat[i], source.lon[i]);
        var point = map.latLngToContainerPoint(at);
        if (point.x < 0 || point.y < 0 || point.x > size.x || point.y > size.y) { continue; }
        if (label(at, source.name[i], "csmap-label-place", LABEL_FONT, boxes, zoom >= 9)) { placed++; }
      }
      return placed;
    }

    /* Past the basemap's deepest zoom its tiles are stretched and blur: fade them as they blur more,
     * so the sharp vector labels and outlines carry the map. */
    function fadeTiles(zoom) {
      map.eachLayer(function (layer) {
        if (!(layer instanceof L.TileLayer)) { return; }
        var native = layer.options.maxNativeZoom;
        var over = native === undefined || native === null ? 0 : Math.max(0, zoom - native);
        layer.setOpacity(over <= 1 ? 1 : Math.max(0.35, 1 - 0.18 * (over - 1)));
      });
    }

    function layout() {
      labels.clearLayers();
      var zoom = map.getZoom(), view = map.getBounds(), boxes = [];
      // Leaflet's own controls are boxes too: no label under the zoom buttons or the legend.
      document.querySelectorAll(".leaflet-control").forEach(function (control) {
        var r = control.getBoundingClientRect(), c = map.getContainer().getBoundingClientRect();
        if (r.width && r.height) { boxes.push([r.left - c.left, r.top - c.top, r.right - c.left, r.bottom - c.top]); }
      });
      var shown = 0;
      if (zoom <= 7.5) {
        stateLabels.forEach(function (s) {
          if (page === "state" && s.code === config.state && zoom >= 6) { return; }  // its counties say more
          if (!view.contains(s.latlng)) { return; }
          var text = zoom < 5 ? s.code : s.name;
          if (label(s.latlng, text, "csmap-label-state", STATE_FONT, boxes, false)) { shown++; }
        });
      }
      var source = zoom >= ALL_PLACES_ZOOM && allPlaces ? allPlaces : places;
      var least = minPopulation(zoom);
      // Cities of 50,000 or more before county names, county names before smaller places.
      if (source) { shown += placeLabels(source, Math.max(least, 50000), boxes, zoom, 250); }
      if (countyLabels && zoom >= 6) {
        for (var c = 0; c < countyLabels.count; c++) {
          var latlng = L.latLng(countyLabels.lat[c], countyLabels.lon[c]);
          if (view.contains(latlng) && label(latlng, countyLabels.name[c], "csmap-label-county", LABEL_FONT, boxes, false)) { shown++; }
        }
      }
      if (source && least < 50000) { shown += placeLabels(source, least, boxes, zoom, 250); }
      fadeTiles(zoom);
      map.getContainer().setAttribute("data-labels", String(shown));
      if (zoom >= ALL_PLACES_ZOOM && !allRequested && config.places_all_url) {
        allRequested = true;
        getJSON(config.places_all_url).then(function (data) { allPlaces = data; layout(); }).catch(function () {});
      }
    }

    function drawOutlines(all) {
      var states = all;
      var own = config.state;
      var outlines = L.geoJSON(states, {
        pane: "csmap-context",
        interactive: false,
        style: function (feature) {
          if (page === "state") {  // the neighbours greyed, the state itself a strong outline
            var mine = feature.properties.stusps === own;
            return {color: mine ? "#222" : "#777", weight: mine ? 2.5 : 1, fill: !mine, fillColor: "#e6e6e6", fillOpacity: 0.55};
          }
          return {color: "#555", weight: 1.2, fill: false, opacity: 0.8};
        }
      }).addTo(map);
      outlines.bringToBack();
      stateLabels = all.features.filter(function (f) { return f.properties.label_lat !== null; }).map(function (f) {
        return {code: f.properties.stusps, name: f.properties.name,
                latlng: L.latLng(f.properties.label_lat, f.properties.label_lon)};
      });
    }

    var loads = [];
    if (config.state_outlines_url) {
      loads.push(getJSON(config.state_outlines_url).then(drawOutlines));
    } else if (config.state_labels_url) {
      loads.push(getJSON(config.state_labels_url).then(function (data) {
        for (var i = 0; i < data.count; i++) {
          stateLabels.push({code: data.code[i], name: data.name[i], latlng: L.latLng(data.lat[i], data.lon[i])});
        }
      }));
    }
    if (config.places_major_url) {
      loads.push(getJSON(config.places_major_url).then(function (data) { places = data; }));
      // GeoNames' licence (CC BY 4.0) asks for credit where its names are shown.
      if (map.attributionControl) {
        map.attributionControl.addAttribution(csmap.t("Places") + ': <a href="https://www.geonames.org/">GeoNames</a> (CC BY 4.0)');
      }
    }
    if (config.county_labels_url) {
      loads.push(getJSON(config.county_labels_url).then(function (data) { countyLabels = data; }));
    }
    Promise.all(loads.map(function (p) { return p.catch(function () { return null; }); })).then(function () {
      layout();
      map.on("moveend", layout);
      document.documentElement.setAttribute("data-context-drawn", "1");
    });
  }

  /* Alaska, Hawaii and Puerto Rico in small maps of their own at the bottom left of the national map;
   * a click takes the main map there. `style(feature)` colours them as the choropleth on show. */
  var INSETS = [
    {code: "AK", name: "Alaska", bounds: [[51.2, -179.9], [71.5, -129.9]]},
    {code: "HI", name: "Hawaii", bounds: [[18.9, -160.3], [22.3, -154.8]]},
    {code: "PR", name: "Puerto Rico", bounds: [[17.88, -67.3], [18.53, -65.58]]}
  ];

  function insets(map, features, style) {
    var tiles = null;
    map.eachLayer(function (layer) { if (layer instanceof L.TileLayer && !tiles) { tiles = layer; } });
    var control = L.control({position: "bottomleft"});
    var drawn = [];
    control.onAdd = function () {
      var box = L.DomUtil.create("div", "csmap-insets");
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    control.addTo(map);
    INSETS.forEach(function (inset) {
      var feature = features.filter(function (f) { return f.properties.stusps === inset.code; })[0];
      if (!feature) { return; }
      var box = el("div", "csmap-inset");
      box.setAttribute("role", "button");
      box.setAttribute("tabindex", "0");
      box.setAttribute("aria-label", csmap.t("Show {name} on the main map", {name: inset.name}));
      box.title = inset.name + ": click to show it on the map";
      control.getContainer().appendChild(box);
      var mini = L.map(box, {zoomControl: false, attributionControl: false, dragging: false, scrollWheelZoom: false,
                             doubleClickZoom: false, boxZoom: false, keyboard: false, touchZoom: false,
                             zoomSnap: 0.25, inertia: false});
      if (tiles) { L.tileLayer(tiles._url, {maxNativeZoom: tiles.options.maxNativeZoom, maxZoom: 18}).addTo(mini); }
      var shape = L.geoJSON(feature, {style: style, interactive: false}).addTo(mini);
      mini.fitBounds(inset.bounds, {animate: false});
      box.appendChild(el("span", "csmap-inset-name", inset.name));
      function go() { map.fitBounds(inset.bounds); }
      box.addEventListener("click", go);
      box.addEventListener("keydown", function (event) { if (event.key === "Enter" || event.key === " ") { go(); } });
      drawn.push(shape);
    });
    return {restyle: function (next) { drawn.forEach(function (shape) { shape.setStyle(next); }); }};
  }

  window.csmap.context = context;
  window.csmap.insets = insets;
}());
