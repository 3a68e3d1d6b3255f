/* Fills the layers of a folium map skeleton (webmap/maps.py) with the data the app serves.
 *
 * The page holds <script type="application/json" id="csmap-config"> naming the map and its
 * empty layers, the legends and the data URLs. Every string from the data reaches the page
 * through textContent or createTextNode, never as HTML, so names such as
 * "<img src=x onerror=alert(1)>" show as text. Schools arrive as one compact columnar array,
 * clustered in the browser for the zoom on show: only the clusters and lone schools in view
 * become Leaflet layers. A school's popup fetches its details when it opens.
 *
 * The helpers shared with plan.js (window.csmap) are in csmap-common.js; the school clusters
 * (csmap.SchoolIndex, csmap.clusterIcon) in csmap-clusters.js.
 *
 * Timing marks (performance.mark) "csmap:states-drawn" and "csmap:schools-drawn" let
 * scripts/bench/bench_pages.py say where the national page's time goes.
 */
(function () {
  "use strict";

  var config = csmap.readConfig("csmap-config");
  var el = csmap.el, fmt = csmap.fmt, getJSON = csmap.getJSON, t = csmap.t;
  var clusterIcon = csmap.clusterIcon, SchoolIndex = csmap.SchoolIndex;  // csmap-clusters.js
  var map = window[config.map];
  var root = document.documentElement;
  // Keyboard access (csmap-a11y.js): the controls first in the tab order, every shape named.
  var wrap = map.getContainer().closest("[aria-label]");
  var keys = csmap.a11y.keyboardMap(map, wrap ? wrap.getAttribute("aria-label") : "Map");
  var PRECISION_WORDS = {
    given: "coordinates given in the school list",
    street: "street address",
    zip: "ZIP code centre (approximate)",
    city: "city centre (approximate)",
    state: "state centre (very approximate)"
  };
  var SCHOOL_STYLE = {radius: 6, color: "#ffffff", weight: 1.5, fillColor: "#b5176e", fillOpacity: 0.9};
  var APPROX_STYLE = {radius: 6, color: "#b5176e", weight: 2, dashArray: "2 2", fillColor: "#ffffff", fillOpacity: 0.85};
  var METRIC_KINDS = {};
  (config.legends || []).forEach(function (legend) { METRIC_KINDS[legend.key] = legend.kind; });

  var layer = csmap.layerGetter(config);

  function colorFor(legend, value) {
    if (value === null || value === undefined || !isFinite(value)) { return legend.no_data_color; }
    for (var i = 0; i < legend.bins.length; i++) {
      if (value <= legend.bins[i]) { return legend.colors[i]; }
    }
    return legend.colors[legend.colors.length - 1];
  }

  function figureRows(box, rows) { box.appendChild(csmap.figureTable(rows)); }

  function showError(message) {
    var box = el("div", "csmap-map-error", message);
    box.setAttribute("role", "alert");
    map.getContainer().appendChild(box);
  }

  /* ---------------------------------------------------------------- legend */

  function legendControl() {
    var control = L.control({position: "bottomright"});
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "csmap-legend");
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    control.addTo(map);
    if (PHONE) { control.getContainer().classList.add("csmap-legend-folded"); }
    control.show = function (legend, extras) {
      var div = control.getContainer();
      div.textContent = "";
      // The title is a button that folds the legend away when it hides part of the map.
      var title = el("button", "csmap-legend-title", legend.label);
      title.type = "button";
      title.setAttribute("aria-expanded", String(!div.classList.contains("csmap-legend-folded")));
      title.title = t("Show or hide the legend");
      title.addEventListener("click", function () {
        var folded = div.classList.toggle("csmap-legend-folded");
        title.setAttribute("aria-expanded", String(!folded));
      });
      div.appendChild(title);
      legend.colors.forEach(function (color, i) {
        var row = el("div", "csmap-legend-row");
        var swatch = el("span", "csmap-swatch");
        swatch.style.backgroundColor = color;
        row.appendChild(swatch);
        row.appendChild(el("span", null, legend.labels[i]));
        div.appendChild(row);
      });
      var none = el("div", "csmap-legend-row");
      var swatch = el("span", "csmap-swatch");
      swatch.style.backgroundColor = legend.no_data_color;
      none.appendChild(swatch);
      none.appendChild(el("span", null, t("no data")));
      div.appendChild(none);
      div.appendChild(el("div", "csmap-legend-method", t("Classes: {method}", {method: legend.method})));
      (extras || []).forEach(function (extra) {
        var row = el("div", "csmap-legend-row csmap-legend-extra");
        row.appendChild(el("span", extra[0]));
        row.appendChild(el("span", null, extra[1]));
        div.appendChild(row);
      });
    };
    return control;
  }

  var SCHOOL_KEY = [["csmap-key-school", t("Community School")], ["csmap-key-approx", t("approximate location")],
                    ["csmap-key-cluster", t("group of schools (count)")]];
  /* On a phone the legend starts folded (its title still shows), so it does not hide the map. */
  var PHONE = window.matchMedia ? window.matchMedia("(max-width: 600px)").matches : false;

  /* ---------------------------------------------------------------- schools */

  function schoolPopup(marker) {
    var box = el("div", "csmap-popup", t("Loading…"));
    var url = config.school_url + marker.csmapRow + "?build=" + encodeURIComponent(marker.csmapBuild);
    getJSON(url).then(function (school) {
      box.textContent = "";
      box.appendChild(el("strong", "csmap-popup-name", school.name || t("Unnamed school")));
      var place = [school.address, school.city, [school.state, school.zip].filter(Boolean).join(" ")]
        .filter(Boolean).join(", ");
      if (place) { box.appendChild(el("div", "csmap-popup-address", place)); }
      var rows = [];
      if (school.grades) { rows.push([t("Grades"), school.grades]); }
      if (school.lead_partner) { rows.push([t("Lead partner"), school.lead_partner]); }
      if (school.district) { rows.push([t("District"), school.district]); }
      rows.push([t("Located by"), t(PRECISION_WORDS[school.precision] || school.precision || "unknown")]);
      figureRows(box, rows);
      if (school.low_precision) {
        box.appendChild(el("div", "csmap-approx-note",
          t("Approximate location: this school is placed at its {precision} centre, not its street address.",
            {precision: t(school.precision)})));
      }
      if (school.geocode_note) { box.appendChild(el("div", "csmap-flag-note", t("Note: {note}", {note: school.geocode_note}))); }
      if (school.is_sample) { box.appendChild(el("div", "csmap-sample-note", t("Sample data (generated)"))); }
      if (school.page_url) {  // the school's page: contact, directions, coalition, nearby schools
        var link = el("a", "csmap-popup-link", t("School page: contact, directions, nearby schools ›"));
        link.href = school.page_url;
        box.appendChild(link);
      }
      // The element replaces the loader function, so the popup is filled once and not fetched again.
      marker.setPopupContent(box);
    }).catch(function (error) {
      box.textContent = t("Could not load this school's details ({error}). Reload the page to try again.",
        {error: error.message});
    });
    return box;
  }

  /* Fills the group (webmap/maps.py SchoolClusters) with the clusters and lone schools of the view and
   * half a screen around it, at each moveend, keeping the layers that stay. For the tests and the
   * benchmark, the group carries its index (csmapIndex) and the zoom it drew last (csmapZoom), and each
   * layer the schools it stands for (csmapMembers: positions in the data arrays). */
  function addSchools(group, data) {
    var offZoom = group.options.clusterOffZoom;
    var index = new SchoolIndex(data, group.options.clusterRadius, offZoom);
    var shown = {};  // key -> marker in the group

    function schoolMarker(i) {
      var approximate = data.p[i] >= 2;  // zip, city or state (webmap/page_data.py PRECISIONS)
      var marker = L.circleMarker([data.lat[i], data.lon[i]], approximate ? APPROX_STYLE : SCHOOL_STYLE);
      marker.csmapRow = data.row ? data.row[i] : i;
      marker.csmapBuild = data.build;
      marker.csmapMembers = [i];
      marker.bindPopup(schoolPopup, {maxWidth: 300});
      return csmap.a11y.focusable(marker, approximate ? "Community School (approximate location)" : "Community School");
    }

    function clusterMarker(cluster) {
      var marker = L.marker([cluster.lat, cluster.lon], {
        icon: clusterIcon(cluster.count), title: cluster.count + " schools: click to zoom in"
      });
      marker.csmapMembers = cluster.members;  // positions in the data arrays, as lone schools' are
      // As Leaflet.markercluster does: zoom to the cluster's schools (it splits on the way in), at
      // most to the zoom where every school stands alone (schools at one place stay stacked).
      marker.on("click", function (event) {
        // From the keyboard, the focus stays on the map as this marker gives way to the split ones.
        if (event.originalEvent && event.originalEvent.type === "keypress") { map.getContainer().focus(); }
        map.fitBounds([[cluster.south, cluster.west], [cluster.north, cluster.east]],
                      {padding: [40, 40], maxZoom: offZoom});
      });
      return marker;
    }

    function draw() {
      if (!map.hasLayer(group)) { return; }
      var zoom = map.getZoom();
      var area = map.getBounds().pad(0.5);  // so a short pan shows no empty margin before moveend
      var next = {};
      var added = [];
      index.clustersAt(zoom).forEach(function (cluster) {
        if (!area.contains([cluster.lat, cluster.lon])) { return; }
        var key = cluster.count === 1 ? "s" + cluster.id : zoom + "/" + cluster.id;
        var marker = shown[key];
        if (!marker) {
          marker = cluster.count === 1 ? schoolMarker(cluster.id) : clusterMarker(cluster);
          added.push(marker);
        }
        next[key] = marker;
      });
      Object.keys(shown).forEach(function (key) {
        if (!next[key]) { group.removeLayer(shown[key]); }
      });
      added.forEach(function (marker) { group.addLayer(marker); });
      shown = next;
      group.csmapZoom = zoom;  // the zoom drawn last
    }

    group.csmapIndex = index;
    map.on("moveend", draw);
    group.on("add", draw);
    draw();
    performance.mark("csmap:schools-drawn");
    root.setAttribute("data-schools-drawn", String(data.count));
  }

  /* ---------------------------------------------------------------- states (national page) */

  function stateFigures(box, props) {
    figureRows(box, [
      [t("Community Schools"), fmt(props.community_schools, "count")],
      [t("Schools per 10k children"), fmt(props.schools_per_10k_children, "rate")],
      [t("Children within reach"), fmt(props.reach_share, "share")],
      [t("High-poverty reach"), fmt(props.high_poverty_reach_share, "share")],
      [t("Unserved children"), fmt(props.unserved_children, "count")],
      [t("Coalition"), t(props.coalition_status || "not recorded")]  // null: no coalitions table (issue 11)
    ]);
  }

  function stateTooltip(props) {
    var box = el("div", "csmap-tooltip");
    box.appendChild(el("strong", null, props.name));
    stateFigures(box, props);
    box.appendChild(el("div", "csmap-hint", t("Click for the state page")));
    return box;
  }

  function statePopup(props) {
    var box = el("div", "csmap-popup");
    box.appendChild(el("strong", "csmap-popup-name", props.name));
    stateFigures(box, props);
    var link = el("a", "csmap-state-link", t("Open the {name} page →", {name: props.name}));
    link.href = config.state_url + encodeURIComponent(props.stusps);
    box.appendChild(link);
    return box;
  }

  /* The states' shapes at a level of detail: a state's parts (its islands, mostly) smaller than a pixel
   * at the zoom on show are left out of the rings Leaflet draws, and come back as zooming in makes them
   * a pixel or more. At the national view that leaves out some 1,100 of 1,400 parts (4,600 of 12,300
   * vertices; most are Alaska's islands), none of them visible, which took about a sixth off the time
   * to draw the states (issue #5, Speed). Each state's rings are shared by all the paths drawn from it:
   * the choropleths and the coalition outlines. */
  var MIN_PART_PX = 1;
  var stateShapes = [];
  var metricPaths = {};  // legend key -> feature group of that choropleth's state paths
  var coalitionPaths = {};  // coalition status -> one path outlining every state with it

  // A polygon's extent in pixels at zoom 0 (a 256 px Web Mercator world), from its outer ring's bounds.
  function extentAtZoom0(polygon) {
    var ring = polygon[0];
    var west = Infinity, east = -Infinity, south = Infinity, north = -Infinity;
    for (var v = 0; v < ring.length; v++) {
      var lon = ring[v][0], lat = ring[v][1];
      if (lon < west) { west = lon; }
      if (lon > east) { east = lon; }
      if (lat < south) { south = lat; }
      if (lat > north) { north = lat; }
    }
    function mercatorY(lat) {
      var sin = Math.max(Math.min(Math.sin(lat * Math.PI / 180), 0.9999), -0.9999);
      return 256 * (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI));
    }
    return Math.max((east - west) / 360 * 256, mercatorY(south) - mercatorY(north));
  }

  function stateShape(feature) {
    var geometry = feature.geometry;
    var polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
    var parts = polygons.map(function (polygon) { return {coordinates: polygon, size: extentAtZoom0(polygon)}; });
    parts.sort(function (a, b) { return b.size - a.size; });  // those on show at any zoom come first
    return {feature: feature, parts: parts, shown: 0, rings: null, paths: []};
  }

  // How many of a state's parts are a pixel or more at this zoom (its largest part always).
  function partsShown(shape, zoom) {
    var scale = Math.pow(2, zoom);
    var count = 1;
    while (count < shape.parts.length && shape.parts[count].size * scale >= MIN_PART_PX) { count++; }
    return count;
  }

  function setDetail(shape, zoom) {
    var count = partsShown(shape, zoom);
    if (count === shape.shown) { return false; }
    shape.shown = count;
    shape.rings = shape.parts.slice(0, count).map(function (part) {
      if (!part.latlngs) { part.latlngs = L.GeoJSON.coordsToLatLngs(part.coordinates, 1); }
      return part.latlngs;
    });
    return true;
  }

  function statePath(shape, options) {
    var path = L.polygon(shape.rings, options);
    path.feature = shape.feature;
    shape.paths.push(path);
    return csmap.a11y.focusable(path, shape.feature.properties.name, {reveal: keys.reveal, role: "button"});
  }

  function updateDetail() {
    var zoom = map.getZoom();
    var changed = false;
    stateShapes.forEach(function (shape) {
      if (setDetail(shape, zoom)) {
        changed = true;
        shape.paths.forEach(function (path) { path.setLatLngs(shape.rings); });
      }
    });
    if (changed) {
      Object.keys(coalitionPaths).forEach(function (status) {
        coalitionPaths[status].setLatLngs(coalitionRings(status));
      });
    }
  }

  function metricStyle(legend) {
    return function (feature) {
      return {fillColor: colorFor(legend, feature.properties[legend.key]), fillOpacity: 0.85,
              color: "#ffffff", weight: 1};
    };
  }

  function metricGroup(legend) {
    if (metricPaths[legend.key]) { return metricPaths[legend.key]; }
    var style = metricStyle(legend);
    // Tooltip, popup and hover are bound once on the group; Leaflet passes the state hovered or clicked.
    var paths = L.featureGroup();
    // A tap on a touch screen would open the tooltip and the popup at once (issue 16): tooltips only
    // where a pointer can hover.
    if (!window.matchMedia || window.matchMedia("(hover: hover)").matches) {
      paths.bindTooltip(function (path) { return stateTooltip(path.feature.properties); }, {sticky: true});
    }
    paths.bindPopup(function (path) { return statePopup(path.feature.properties); });
    paths.on("mouseover", function (event) {
      event.layer.setStyle({weight: 3, color: "#333333"});
      event.layer.bringToFront();
    });
    paths.on("mouseout", function (event) { event.layer.setStyle(style(event.layer.feature)); });
    paths.addTo(layer("metric:" + legend.key));
    metricPaths[legend.key] = paths;
    return paths;
  }

  /* The coalition outlines: solid round the states with an existing coalition, dashed round those with
   * a developing one, in a pane above every choropleth. One path per status, not one per state: each
   * Leaflet path has a fixed cost that outweighed its vertices (40 outlines took ~10 ms more). */
  var COALITION_STYLES = {
    existing: {pane: "coalitions", interactive: false, color: "#1b5e20", weight: 3, fill: false},
    developing: {pane: "coalitions", interactive: false, color: "#4a148c", weight: 2.5, dashArray: "6 5", fill: false}
  };

  function coalitionRings(status) {
    var rings = [];
    stateShapes.forEach(function (shape) {
      if (shape.feature.properties.coalition_status === status) { rings.push.apply(rings, shape.rings); }
    });
    return rings;
  }

  function drawCoalitions() {
    Object.keys(COALITION_STYLES).forEach(function (status) {
      var rings = coalitionRings(status);
      if (!rings.length) { return; }
      coalitionPaths[status] = L.polygon(rings, COALITION_STYLES[status]).addTo(layer("coalitions"));
    });
  }

  /* Draws the states: the choropleth on show, from the GeoJSON features, and the coalition outlines. */
  function addStates(features, legend) {
    var style = metricStyle(legend);
    var paths = metricGroup(legend);
    var zoom = map.getZoom();
    features.forEach(function (feature) {
      if (!feature.geometry) { return; }
      var shape = stateShape(feature);
      setDetail(shape, zoom);
      stateShapes.push(shape);
      paths.addLayer(statePath(shape, style(feature)));
    });
    // The outlines come with the schools, a frame after the choropleth: projecting their rings again
    // was a third of the work before the states showed on a phone (issue 15, point 8).
    soon.push(drawCoalitions);
  }

  /* Another choropleth, first picked in the layer control: every state, from the shared rings. */
  function fillMetric(legend) {
    if (metricPaths[legend.key]) { return; }
    var style = metricStyle(legend);
    var paths = metricGroup(legend);
    stateShapes.forEach(function (shape) { paths.addLayer(statePath(shape, style(shape.feature))); });
  }

  function drawStates(states) {
    var legends = config.legends;
    var byLayer = {};
    legends.forEach(function (legend) { byLayer[L.stamp(layer("metric:" + legend.key))] = legend; });
    // Coalition outlines sit in their own pane above every choropleth and let the mouse through.
    map.createPane("coalitions").style.zIndex = 450;
    map.getPane("coalitions").style.pointerEvents = "none";
    addStates(states.features, legends[0]);
    map.on("zoomend", updateDetail);
    // The insets (three small maps of their own) are built once the states and schools are on screen:
    // they were a third of the work before the first paint on a phone (issue 15, point 8).
    var shown = legends[0];
    var insets = null;
    later.push(function () {
      if (csmap.insets) { insets = csmap.insets(map, states.features, metricStyle(shown)); }
    });
    var legendBox = legendControl();
    var coalitionKey = states.features.some(function (f) { return Boolean(f.properties.coalition_status); }) ?
      [["csmap-key-existing", t("coalition: existing")], ["csmap-key-developing", t("coalition: developing")]] :
      [["csmap-key-none", t("coalitions: not recorded")]];
    legendBox.show(legends[0], coalitionKey.concat(SCHOOL_KEY));
    // The other choropleths are drawn when first picked in the layer control.
    map.on("baselayerchange", function (event) {
      var legend = byLayer[L.stamp(event.layer)];
      if (legend) {
        shown = legend;
        fillMetric(legend);
        legendBox.show(legend, coalitionKey.concat(SCHOOL_KEY));
        if (insets) { insets.restyle(metricStyle(legend)); }
      }
    });
    performance.mark("csmap:states-drawn");
    root.setAttribute("data-states-drawn", String(states.features.length));
  }

  /* ---------------------------------------------------------------- counties (state page) */

  function countyTooltip(props) {
    var box = el("div", "csmap-tooltip");
    box.appendChild(el("strong", null, props.is_desert ? t("{name} — desert county", {name: props.name}) : props.name));
    figureRows(box, [
      [t("Unserved children"), fmt(props.unserved_children, "count")],
      [t("Children"), fmt(props.children, "count")],
      [t("Children within reach"), fmt(props.reach_share, "share")],
      [t("Community Schools"), fmt(props.community_schools, "count")]
    ]);
    return box;
  }

  function drawCounties(counties) {
    var legend = config.legends[0];
    var geo = L.geoJSON(counties, {
      style: function (feature) {
        var desert = feature.properties.is_desert;
        return {fillColor: colorFor(legend, feature.properties.unserved_children), fillOpacity: 0.8,
                color: desert ? "#7f0000" : "#ffffff", weight: desert ? 2 : 0.8};
      },
      onEachFeature: function (feature, path) {
        path.bindTooltip(function () { return countyTooltip(feature.properties); }, {sticky: true});
        csmap.a11y.focusable(path, feature.properties.name);
      }
    });
    geo.addTo(layer("counties"));
    legendControl().show(legend, [["csmap-key-desert", t("desert county")]].concat(SCHOOL_KEY));
    root.setAttribute("data-counties-drawn", String(counties.features.length));
  }

  /* ---------------------------------------------------------------- start */

  /* Resolves in a task of its own once the browser has painted what is drawn so far: a frame
   * callback runs just before a paint, and a task it queues runs after that paint. A hidden page
   * paints no frames, so there it resolves at once. */
  function nextPaint() {
    return new Promise(function (painted) {
      if (document.hidden || !window.requestAnimationFrame) { setTimeout(painted, 0); return; }
      requestAnimationFrame(function () { setTimeout(painted, 0); });
    });
  }

  /* The national and state maps leave their basemap (webmap/maps.py, role "basemap") until their own
   * shapes are on screen; the tiles then load behind them. */
  function addBasemap() {
    var basemap = config.layers.basemap && layer("basemap");
    if (basemap && !map.hasLayer(basemap)) { basemap.addTo(map); }
  }

  var soon = [];  // what the areas' drawing leaves until the areas are on screen (drawn with the schools)
  var later = [];  // what it leaves until the areas and the schools are on screen

  /* Loads the page's areas (states or counties) and its schools, draws the areas, and draws the
   * schools once the areas are on screen: on a phone the areas show some 200 ms sooner than when
   * both were drawn in one task, and the schools follow a frame later (issue 15, point 8). Either
   * failing still lets the other be drawn. */
  function drawAreasAndSchools(areasUrl, drawAreas, areasName) {
    function loaded(url, what) {
      return getJSON(url).catch(function (error) {
        showError(t("The {what} could not be loaded ({error}).", {what: t(what), error: error.message}));
        return null;
      });
    }
    function drawn(draw, data, what) {
      if (!data) { return; }
      try {
        draw(data);
      } catch (error) {
        showError(t("The {what} could not be drawn ({error}).", {what: t(what), error: error.message}));
      }
    }
    return Promise.all([loaded(areasUrl, areasName), loaded(config.schools_url, "schools")]).then(function (data) {
      drawn(drawAreas, data[0], areasName);
      return nextPaint().then(function () {
        soon.splice(0).forEach(function (draw) { drawn(draw, true, areasName); });
        drawn(function (schools) { addSchools(layer("schools"), schools); }, data[1], "schools");
        return nextPaint();
      }).then(function () {
        addBasemap();
        later.splice(0).forEach(function (draw) { drawn(draw, true, areasName); });
      });
    });
  }

  /* Outlines and labels to orient by (csmap-context.js) load once the page's own layers are drawn,
   * so their requests never hold up the map's data. */
  function context() { if (csmap.context) { csmap.context(map, config); } }
  if (config.page === "national") {
    drawAreasAndSchools(config.states_url, drawStates, "states").then(context);
  } else if (config.page === "state") {
    drawAreasAndSchools(config.counties_url, drawCounties, "counties").then(context);
  } else if (config.page === "find" && csmap.findPage) {
    csmap.findPage(map, config, {schoolPopup: schoolPopup, clusterIcon: clusterIcon, SchoolIndex: SchoolIndex, layer: layer});
    context();
  } else {
    context();
  }
}());
