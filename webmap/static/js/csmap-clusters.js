/* The schools' clusters, shared by the national and state maps (csmap-map.js) and the find page
 * (csmap-find.js): the index that groups schools by screen distance at a zoom, and the icon of a
 * group. Defines csmap.SchoolIndex and csmap.clusterIcon.
 */
(function () {
  "use strict";

  var el = csmap.el;

  /* Cluster icons shaped as Leaflet.markercluster 1.1.0 draws them (a 40 px translucent disc round a
   * 30 px one), styled here rather than by its stylesheet, so the page waits for one stylesheet less
   * (issue #5, Speed). One neutral slate colour for every size (issue 15, point 7): the plugin's
   * green/yellow/orange clashed with the choropleth classes and could not be told apart from them under
   * deuteranopia; the count inside says the size. */
  var CLUSTER_COLOURS = ["rgba(55, 65, 81, 0.35)", "rgba(55, 65, 81, 0.92)"];

  function clusterIcon(count) {
    var size = count < 10 ? "small" : (count < 100 ? "medium" : "large");
    var disc = el("div");
    disc.style.cssText = "width: 40px; height: 40px; border-radius: 20px; background-clip: padding-box;";
    disc.style.backgroundColor = CLUSTER_COLOURS[0];
    var inner = el("div");
    inner.style.cssText = "width: 30px; height: 30px; margin: 5px 0 0 5px; border-radius: 15px;" +
      " text-align: center; font-size: 12px; line-height: 30px; display: inline-block;";
    inner.style.backgroundColor = CLUSTER_COLOURS[1];
    inner.style.color = "#ffffff";
    inner.style.fontWeight = "700";
    inner.appendChild(el("span", null, count));
    disc.appendChild(inner);
    return L.divIcon({html: disc, className: "marker-cluster marker-cluster-" + size, iconSize: L.point(40, 40)});
  }

  /* The schools' clusters, computed in the browser for the zoom on show and cached per zoom. The same
   * greedy rule as Leaflet.markercluster and supercluster use at each zoom: in data order, each school
   * not yet taken takes every untaken school within `radius` screen pixels of it (a grid of
   * radius-sized cells limits the search to 3 x 3 cells). One zoom of 5,600 schools costs about
   * 10 ms at page load, where building the every-zoom hierarchy up front cost about 60 ms with
   * supercluster and 150-200 ms with Leaflet.markercluster (issue #5, Speed; measured in headless
   * Chromium). From `offZoom` on, every school stands alone. */
  function SchoolIndex(data, radius, offZoom) {
    var n = data.count;
    var x = new Float64Array(n), y = new Float64Array(n);
    for (var i = 0; i < n; i++) {
      // Spherical Web Mercator (EPSG:3857, Leaflet's default CRS), scaled to [0, 1] across the world.
      var sin = Math.sin(data.lat[i] * Math.PI / 180);
      sin = Math.max(Math.min(sin, 0.9999), -0.9999);
      x[i] = (data.lon[i] + 180) / 360;
      y[i] = 0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI);
    }
    var byZoom = {};
    this.count = n;

    /* Every cluster at `zoom` (fractional zooms allowed): {lat, lon, count, members, south, west,
     * north, east}; a school alone is a cluster of 1. */
    this.clustersAt = function (zoom) {
      if (byZoom[zoom]) { return byZoom[zoom]; }
      var scale = 256 * Math.pow(2, zoom) / radius;  // world pixels at `zoom`, in cells of `radius`
      var alone = zoom >= offZoom;
      var cells = new Map();
      if (!alone) {
        for (var i = 0; i < n; i++) {
          var key = Math.floor(x[i] * scale) * 4194304 + Math.floor(y[i] * scale);
          var list = cells.get(key);
          if (list) { list.push(i); } else { cells.set(key, [i]); }
        }
      }
      var taken = new Uint8Array(n);
      var clusters = [];
      for (var seed = 0; seed < n; seed++) {
        if (taken[seed]) { continue; }
        taken[seed] = 1;
        var members = [seed];
        if (!alone) {
          var sx = x[seed] * scale, sy = y[seed] * scale;
          var cx = Math.floor(sx), cy = Math.floor(sy);
          for (var dx = -1; dx <= 1; dx++) {
            for (var dy = -1; dy <= 1; dy++) {
              var near = cells.get((cx + dx) * 4194304 + cy + dy);
              if (!near) { continue; }
              var kept = 0;  // the cell keeps only its schools still untaken, so later scans are shorter
              for (var k = 0; k < near.length; k++) {
                var j = near[k];
                if (taken[j]) { continue; }
                var ex = x[j] * scale - sx, ey = y[j] * scale - sy;
                if (ex * ex + ey * ey <= 1) { taken[j] = 1; members.push(j); } else { near[kept++] = j; }
              }
              near.length = kept;
            }
          }
        }
        var lat = 0, lon = 0, south = 90, north = -90, west = 180, east = -180;
        for (var m = 0; m < members.length; m++) {
          var a = data.lat[members[m]], o = data.lon[members[m]];
          lat += a; lon += o;
          if (a < south) { south = a; }
          if (a > north) { north = a; }
          if (o < west) { west = o; }
          if (o > east) { east = o; }
        }
        clusters.push({id: seed, lat: lat / members.length, lon: lon / members.length, count: members.length,
                       members: members, south: south, west: west, north: north, east: east});
      }
      byZoom[zoom] = clusters;
      return clusters;
    };
  }

  window.csmap.clusterIcon = clusterIcon;
  window.csmap.SchoolIndex = SchoolIndex;
}());
