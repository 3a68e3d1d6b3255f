/* Fills the layers of a folium map skeleton (webmap/maps.py) with the data the app serves.
 *
 * The page holds <script type="application/json" id="csmap-config"> naming the map and its
 * empty layers, the legends and the data URLs. Every string from the data reaches the page
 * through textContent or createTextNode, never as HTML, so names such as
 * "<img src=x onerror=alert(1)>" show as text. Schools arrive as one compact columnar array
 * and go into the marker cluster in a single addLayers call; a school's popup fetches its
 * details when it opens.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("csmap-config").textContent);
  var map = window[config.map];
  var root = document.documentElement;
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

  function layer(role) { return window[config.layers[role]]; }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function fmt(value, kind) {
    if (value === null || value === undefined || (typeof value === "number" && !isFinite(value))) { return "—"; }
    if (kind === "text") { return String(value); }
    if (kind === "share") { return (value * 100).toFixed(1) + "%"; }
    if (kind === "rate" || kind === "ratio") {
      return value.toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
    }
    return Math.round(value).toLocaleString("en-US");
  }

  function colorFor(legend, value) {
    if (value === null || value === undefined || !isFinite(value)) { return legend.no_data_color; }
    for (var i = 0; i < legend.bins.length; i++) {
      if (value <= legend.bins[i]) { return legend.colors[i]; }
    }
    return legend.colors[legend.colors.length - 1];
  }

  function getJSON(url) {
    return fetch(url, {credentials: "same-origin"}).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    });
  }

  function figureRows(box, rows) {
    var table = el("table", "csmap-figures");
    rows.forEach(function (row) {
      var tr = el("tr");
      tr.appendChild(el("th", null, row[0]));
      tr.appendChild(el("td", null, row[1]));
      table.appendChild(tr);
    });
    box.appendChild(table);
  }

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
    control.show = function (legend, extras) {
      var div = control.getContainer();
      div.textContent = "";
      // The title is a button that folds the legend away when it hides part of the map.
      var title = el("button", "csmap-legend-title", legend.label);
      title.type = "button";
      title.setAttribute("aria-expanded", String(!div.classList.contains("csmap-legend-folded")));
      title.title = "Show or hide the legend";
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
      none.appendChild(el("span", null, "no data"));
      div.appendChild(none);
      div.appendChild(el("div", "csmap-legend-method", "Classes: " + legend.method));
      (extras || []).forEach(function (extra) {
        var row = el("div", "csmap-legend-row csmap-legend-extra");
        row.appendChild(el("span", extra[0]));
        row.appendChild(el("span", null, extra[1]));
        div.appendChild(row);
      });
    };
    return control;
  }

  var SCHOOL_KEY = [["csmap-key-school", "Community School"], ["csmap-key-approx", "approximate location"]];

  /* ---------------------------------------------------------------- schools */

  function schoolPopup(marker) {
    var box = el("div", "csmap-popup", "Loading…");
    var url = config.school_url + marker.csmapRow + "?build=" + encodeURIComponent(marker.csmapBuild);
    getJSON(url).then(function (school) {
      box.textContent = "";
      box.appendChild(el("strong", "csmap-popup-name", school.name || "Unnamed school"));
      var place = [school.address, school.city, [school.state, school.zip].filter(Boolean).join(" ")]
        .filter(Boolean).join(", ");
      if (place) { box.appendChild(el("div", "csmap-popup-address", place)); }
      var rows = [];
      if (school.grades) { rows.push(["Grades", school.grades]); }
      if (school.lead_partner) { rows.push(["Lead partner", school.lead_partner]); }
      if (school.district) { rows.push(["District", school.district]); }
      rows.push(["Located by", PRECISION_WORDS[school.precision] || school.precision || "unknown"]);
      figureRows(box, rows);
      if (school.low_precision) {
        box.appendChild(el("div", "csmap-approx-note",
          "Approximate location: this school is placed at its " + school.precision + " centre, not its street address."));
      }
      if (school.is_sample) { box.appendChild(el("div", "csmap-sample-note", "Sample data (generated)")); }
      // The element replaces the loader function, so the popup is filled once and not fetched again.
      marker.setPopupContent(box);
    }).catch(function (error) {
      box.textContent = "Could not load this school's details (" + error.message + "). Reload the page to try again.";
    });
    return box;
  }

  function addSchools(cluster, url) {
    return getJSON(url).then(function (data) {
      var markers = new Array(data.count);
      for (var i = 0; i < data.count; i++) {
        var approximate = data.p[i] >= 2;  // zip, city or state (webmap/page_data.py PRECISIONS)
        var marker = L.circleMarker([data.lat[i], data.lon[i]], approximate ? APPROX_STYLE : SCHOOL_STYLE);
        marker.csmapRow = data.row ? data.row[i] : i;
        marker.csmapBuild = data.build;
        marker.bindPopup(schoolPopup, {maxWidth: 300});
        markers[i] = marker;
      }
      cluster.addLayers(markers);
      root.setAttribute("data-schools-drawn", String(data.count));
      return data;
    });
  }

  /* ---------------------------------------------------------------- states (national page) */

  function stateFigures(box, props) {
    figureRows(box, [
      ["Community Schools", fmt(props.community_schools, "count")],
      ["Schools per 10k children", fmt(props.schools_per_10k_children, "rate")],
      ["Children within reach", fmt(props.reach_share, "share")],
      ["High-poverty reach", fmt(props.high_poverty_reach_share, "share")],
      ["Unserved children", fmt(props.unserved_children, "count")],
      ["Coalition", props.coalition_status || "none"]
    ]);
  }

  function stateTooltip(props) {
    var box = el("div", "csmap-tooltip");
    box.appendChild(el("strong", null, props.name));
    stateFigures(box, props);
    box.appendChild(el("div", "csmap-hint", "Click for the state page"));
    return box;
  }

  function statePopup(props) {
    var box = el("div", "csmap-popup");
    box.appendChild(el("strong", "csmap-popup-name", props.name));
    stateFigures(box, props);
    var link = el("a", "csmap-state-link", "Open the " + props.name + " page →");
    link.href = config.state_url + encodeURIComponent(props.stusps);
    box.appendChild(link);
    return box;
  }

  function highlight(event) { event.target.setStyle({weight: 3, color: "#333333"}); event.target.bringToFront(); }

  function fillMetric(states, legend) {
    var group = layer("metric:" + legend.key);
    if (group.getLayers().length) { return; }
    var geo = L.geoJSON(states, {
      style: function (feature) {
        return {fillColor: colorFor(legend, feature.properties[legend.key]), fillOpacity: 0.85,
                color: "#ffffff", weight: 1};
      },
      onEachFeature: function (feature, path) {
        path.bindTooltip(function () { return stateTooltip(feature.properties); }, {sticky: true});
        path.bindPopup(function () { return statePopup(feature.properties); });
        path.on("mouseover", highlight);
        path.on("mouseout", function (event) { geo.resetStyle(event.target); });
      }
    });
    geo.addTo(group);
  }

  function drawStates(states) {
    var legends = config.legends;
    var byLayer = {};
    legends.forEach(function (legend) { byLayer[L.stamp(layer("metric:" + legend.key))] = legend; });
    // Only the metric on show is drawn now; the others when first picked in the layer control.
    fillMetric(states, legends[0]);
    var legendBox = legendControl();
    var coalitionKey = [["csmap-key-existing", "coalition: existing"], ["csmap-key-developing", "coalition: developing"]];
    legendBox.show(legends[0], coalitionKey.concat(SCHOOL_KEY));
    map.on("baselayerchange", function (event) {
      var legend = byLayer[L.stamp(event.layer)];
      if (legend) {
        fillMetric(states, legend);
        legendBox.show(legend, coalitionKey.concat(SCHOOL_KEY));
      }
    });

    // Coalition outlines sit in their own pane above every choropleth and let the mouse through.
    map.createPane("coalitions").style.zIndex = 450;
    map.getPane("coalitions").style.pointerEvents = "none";
    L.geoJSON(states, {
      pane: "coalitions",
      interactive: false,
      filter: function (feature) {
        var status = feature.properties.coalition_status;
        return status === "existing" || status === "developing";
      },
      style: function (feature) {
        return feature.properties.coalition_status === "existing"
          ? {color: "#1b5e20", weight: 3, fill: false}
          : {color: "#4a148c", weight: 2.5, dashArray: "6 5", fill: false};
      }
    }).addTo(layer("coalitions"));
    root.setAttribute("data-states-drawn", String(states.features.length));
  }

  /* ---------------------------------------------------------------- counties (state page) */

  function countyTooltip(props) {
    var box = el("div", "csmap-tooltip");
    box.appendChild(el("strong", null, props.name + (props.is_desert ? " — desert county" : "")));
    figureRows(box, [
      ["Unserved children", fmt(props.unserved_children, "count")],
      ["Children", fmt(props.children, "count")],
      ["Children within reach", fmt(props.reach_share, "share")],
      ["Community Schools", fmt(props.community_schools, "count")]
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
      }
    });
    geo.addTo(layer("counties"));
    legendControl().show(legend, [["csmap-key-desert", "desert county"]].concat(SCHOOL_KEY));
    root.setAttribute("data-counties-drawn", String(counties.features.length));
  }

  /* ---------------------------------------------------------------- find page */

  function drawFind() {
    var origin = config.origin;
    var home = L.marker([origin.lat, origin.lon], {title: origin.label, keyboard: false});
    home.bindTooltip(el("span", null, origin.label), {permanent: false});
    home.addTo(layer("origin"));
    var bounds = L.latLngBounds([[origin.lat, origin.lon]]);
    config.results.forEach(function (school, i) {
      var icon = L.divIcon({className: "csmap-result-icon" + (school.low_precision ? " approx" : ""),
                            html: String(i + 1), iconSize: [24, 24]});
      var marker = L.marker([school.lat, school.lon], {icon: icon, title: school.name});
      marker.csmapRow = school.row;
      marker.csmapBuild = config.build;
      marker.bindTooltip(el("span", null, (i + 1) + ". " + school.name + " — " + school.distance_mi.toFixed(1) + " mi"));
      marker.bindPopup(schoolPopup, {maxWidth: 300});
      marker.addTo(layer("results"));
      bounds.extend([school.lat, school.lon]);
    });
    var circle = map.getBounds();
    if (config.results.length && !circle.contains(bounds)) { map.fitBounds(bounds.pad(0.15)); }
    root.setAttribute("data-results-drawn", String(config.results.length));
  }

  /* ---------------------------------------------------------------- start */

  if (config.page === "national") {
    getJSON(config.states_url).then(drawStates).catch(function (error) {
      showError("The states could not be loaded (" + error.message + ").");
    });
    addSchools(layer("schools"), config.schools_url).catch(function (error) {
      showError("The schools could not be loaded (" + error.message + ").");
    });
  } else if (config.page === "state") {
    getJSON(config.counties_url).then(drawCounties).catch(function (error) {
      showError("The counties could not be loaded (" + error.message + ").");
    });
    addSchools(layer("schools"), config.schools_url).catch(function (error) {
      showError("The schools could not be loaded (" + error.message + ").");
    });
  } else if (config.page === "find") {
    drawFind();
  }
}());
