/* The "schools near me" map (issue 15, point 5): numbered result markers that cluster when they
 * crowd, a list whose every row opens its marker's popup, and a marker that lights up its row.
 *
 * - Results cluster with the same greedy screen-distance rule as the national map's schools
 *   (tools.SchoolIndex), in a neutral colour; a click on a cluster zooms in to split it.
 * - A click on a list row zooms, if need be, to where its school stands alone, then opens its popup;
 *   an open popup (from the list or the map) highlights its row and scrolls it into view.
 * - The searched place's pin sits in a pane under the result markers, so it never covers a result.
 * - From a ZIP or city centre, distances read "about".
 *
 * Defines csmap.findPage(map, config, tools); csmap-map.js calls it with its shared tools
 * (schoolPopup, clusterIcon, SchoolIndex, layer). Names reach the page through textContent only.
 */
(function () {
  "use strict";

  var el = csmap.el, t = csmap.t;
  var RESULT_CLUSTER_PX = 36;  // results closer than this on screen are clustered
  var RESULT_ALONE_ZOOM = 16;  // from this zoom every result stands alone

  function findPage(map, config, tools) {
    var origin = config.origin;
    var results = config.results;
    var distance = config.approximate ? "about {distance} mi" : "{distance} mi";
    var rows = document.querySelectorAll("#results li");
    var group = tools.layer("results");

    // The searched place's pin: in a pane under the markers (600), so a result is never hidden by it.
    map.createPane("csmap-origin").style.zIndex = 580;
    var home = L.marker([origin.lat, origin.lon], {title: origin.label, keyboard: false, pane: "csmap-origin"});
    home.bindTooltip(el("span", null, origin.label), {permanent: false});
    home.addTo(tools.layer("origin"));

    var data = {count: results.length, lat: results.map(function (r) { return r.lat; }),
                lon: results.map(function (r) { return r.lon; })};
    var index = new tools.SchoolIndex(data, RESULT_CLUSTER_PX, RESULT_ALONE_ZOOM);
    var markers = {};  // result position -> its marker while shown alone
    var pending = null;  // a result to open once the map has moved to it

    function rowOf(i) { return rows[i] || null; }

    var fromList = false;  // the popup opening was asked for by a click in the list

    // Light up a result's row; bring into view whichever of the row and the map was not clicked.
    function highlight(i, on) {
      var row = rowOf(i);
      if (!row) { return; }
      row.classList.toggle("is-active", on);
      if (!on) { return; }
      var target = fromList ? map.getContainer() : row;
      fromList = false;
      if (target.scrollIntoView) { target.scrollIntoView({block: "nearest"}); }
    }

    function resultMarker(i) {
      var school = results[i];
      var icon = L.divIcon({className: "csmap-result-icon" + (school.low_precision ? " approx" : ""),
                            html: String(i + 1), iconSize: [24, 24]});
      var marker = L.marker([school.lat, school.lon], {icon: icon, title: school.name, riseOnHover: true});
      marker.csmapRow = school.row;
      marker.csmapBuild = config.build;
      marker.csmapResult = i;
      marker.bindTooltip(el("span", null, (i + 1) + ". " + school.name + " — " +
        t(distance, {distance: school.distance_mi.toLocaleString(csmap.lang, {minimumFractionDigits: 1, maximumFractionDigits: 1})})));
      // Keep the popup clear of the zoom buttons at the top left (they sit above popups).
      // On a phone, narrower too, so the popup and its close button fit beside that padding.
      marker.bindPopup(tools.schoolPopup, {maxWidth: Math.min(300, map.getSize().x - 100),
                                           autoPanPaddingTopLeft: [56, 12]});
      marker.on("popupopen", function () { highlight(i, true); });
      marker.on("popupclose", function () { highlight(i, false); });
      marker.on("mouseover", function () { var row = rowOf(i); if (row) { row.classList.add("is-hover"); } });
      marker.on("mouseout", function () { var row = rowOf(i); if (row) { row.classList.remove("is-hover"); } });
      return marker;
    }

    function clusterMarker(cluster) {
      var marker = L.marker([cluster.lat, cluster.lon], {
        icon: tools.clusterIcon(cluster.count), title: t("{n} schools: click to zoom in", {n: cluster.count})
      });
      marker.csmapMembers = cluster.members;
      marker.on("click", function () {
        map.fitBounds([[cluster.south, cluster.west], [cluster.north, cluster.east]], {padding: [40, 40], maxZoom: RESULT_ALONE_ZOOM});
      });
      return marker;
    }

    function draw() {
      group.clearLayers();
      markers = {};
      var clusters = index.clustersAt(map.getZoom());
      clusters.forEach(function (cluster) {
        if (cluster.count === 1) {
          markers[cluster.id] = resultMarker(cluster.id).addTo(group);
        } else {
          clusterMarker(cluster).addTo(group);
        }
      });
      if (pending !== null && markers[pending]) {
        var open = markers[pending];
        pending = null;
        // After the zoom has settled, so the popup's auto-pan can bring it wholly into view.
        setTimeout(function () { open.openPopup(); }, 0);
      }
      document.documentElement.setAttribute("data-result-clusters",
        String(clusters.filter(function (c) { return c.count > 1; }).length));
    }

    // The zoom (from the one on show) at which result i stands alone.
    function aloneZoom(i) {
      for (var z = Math.ceil(map.getZoom()); z < RESULT_ALONE_ZOOM; z++) {
        var clusters = index.clustersAt(z);
        for (var c = 0; c < clusters.length; c++) {
          if (clusters[c].id === i && clusters[c].count === 1) { return z; }
        }
      }
      return RESULT_ALONE_ZOOM;
    }

    function show(i) {
      var school = results[i];
      fromList = true;
      var inView = map.getBounds().contains([school.lat, school.lon]);
      if (markers[i] && inView) { markers[i].openPopup(); return; }
      pending = i;
      var zoom = markers[i] ? map.getZoom() : aloneZoom(i);
      map.setView([school.lat, school.lon], zoom, {animate: false});
      if (pending !== null) { draw(); }  // setView at the same view fires no moveend
    }

    Array.prototype.forEach.call(rows, function (row, i) {
      var button = row.querySelector(".result-open");
      if (!button || i >= results.length) { return; }
      button.addEventListener("click", function () { show(i); });
    });

    var bounds = L.latLngBounds([[origin.lat, origin.lon]]);
    results.forEach(function (school) { bounds.extend([school.lat, school.lon]); });
    if (results.length && !map.getBounds().contains(bounds)) { map.fitBounds(bounds.pad(0.15), {animate: false}); }
    map.on("zoomend", draw);
    draw();
    document.documentElement.setAttribute("data-results-drawn", String(results.length));
  }

  window.csmap.findPage = findPage;
}());
