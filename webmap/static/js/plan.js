/* The expansion planner page (/plan): draws the plan on the folium skeleton (webmap/maps.py plan_map)
 * and runs what-ifs on the visitor's own sites.
 *
 * <script type="application/json" id="plan-config"> names the map, its empty layers, the plan's picks
 * and the ZCTAs they newly reach. A click on the map adds a candidate site, rewrites the page URL
 * (/plan?...&site=lat,lon&site=..., so the view can be shared) and asks /api/plan for the what-if of
 * all the visitor's sites. Text from the data reaches the page only through textContent. The helpers
 * shared with csmap-map.js (window.csmap) are in csmap-common.js.
 */
(function () {
  "use strict";

  var config = csmap.readConfig("plan-config");
  var el = csmap.el, figureTable = csmap.figureTable, getJSON = csmap.getJSON, t = csmap.t;
  var map = window[config.map];
  var root = document.documentElement;
  var query = config.query;
  var SITE_DECIMALS = 6;
  var REACHED_STYLE = {radius: 4, color: "#b5176e", weight: 1, fillColor: "#f3a6cf", fillOpacity: 0.8,
                       bubblingMouseEvents: false};
  var MY_REACHED_STYLE = {radius: 4, color: "#0b6e4f", weight: 1, fillColor: "#8fd6bd", fillOpacity: 0.8,
                          bubblingMouseEvents: false};
  var SCHOOL_STYLE = {radius: 3, color: "#52606d", weight: 1, fillColor: "#9aa5b1", fillOpacity: 0.7,
                      interactive: false};

  var layer = csmap.layerGetter(config);
  /* Leaflet makes the map itself a Tab stop (arrow keys pan it): give that stop a name. */
  map.getContainer().setAttribute("role", "group");
  map.getContainer().setAttribute("aria-label", t("Map of the sites: arrow keys move it, plus and minus zoom"));

  function count(value) { return csmap.fmt(value, "count"); }

  function share(value) { return csmap.fmt(value, "share"); }

  function siteFigures(pick) {
    return figureTable([
      [t("Gain: {objective}", {objective: config.objective_label}), count(pick.gain)],
      [t("All unserved children newly reached"), count(pick.children_newly_reached)],
      [t("ZCTAs newly reached"), count(pick.zctas_newly_reached)],
      [t("Running total"), count(pick.cumulative)],
      [t("Location"), pick.lat.toFixed(4) + ", " + pick.lon.toFixed(4)]
    ]);
  }

  function numberedIcon(className) {
    return L.divIcon({className: className, html: "", iconSize: [24, 24]});
  }

  function numberedMarker(lat, lon, className, label, title) {
    var marker = L.marker([lat, lon], {icon: numberedIcon(className), title: title, keyboard: true});
    marker.on("add", function () {
      var icon = marker.getElement();
      if (icon) { icon.textContent = label; }  // the label is text, never HTML
    });
    return marker;
  }

  function reachedTooltip(zcta, kind) {
    var box = el("div", "csmap-tooltip");
    box.appendChild(el("strong", null, "ZCTA " + zcta.zcta + (zcta.stusps ? " (" + zcta.stusps + ")" : "")));
    box.appendChild(figureTable([
      [t("Children"), count(zcta.children)],
      [t("High-poverty area"), zcta.high_poverty ? t("yes") : t("no")],
      [t("Newly reached by"), kind + " " + zcta.order]
    ]));
    return box;
  }

  /* A reached ZCTA's dot shows its figures on hover. Its tooltip's focus listeners would make the SVG
   * path a nameless Tab stop (Chromium focuses SVG elements that listen for focus): taken out of the Tab
   * order and hidden from assistive technology, since the totals and the sites' table carry the figures
   * (issue 16). */
  function quietPath(layer) {
    layer.on("add", function () {
      var path = layer.getElement();
      if (path) {
        path.setAttribute("tabindex", "-1");
        path.setAttribute("aria-hidden", "true");
      }
    });
    return layer;
  }

  function drawReached(group, reached, style, kind) {
    reached.forEach(function (zcta) {
      var dot = quietPath(L.circleMarker([zcta.lat, zcta.lon], style));
      dot.bindTooltip(function () { return reachedTooltip(zcta, kind); });
      dot.addTo(group);
    });
  }

  /* ---------------------------------------------------------------- the plan */

  function drawPlan() {
    drawReached(layer("reached"), config.reached, REACHED_STYLE, t("site"));
    config.picks.forEach(function (pick) {
      var marker = numberedMarker(pick.lat, pick.lon, "csmap-result-icon plan-pick-icon", String(pick.order),
                                  pick.order + ". " + pick.name);
      marker.bindTooltip(el("span", null, pick.order + ". " + pick.name + ": +" + count(pick.gain)));
      marker.bindPopup(function () {
        var box = el("div", "csmap-popup");
        box.appendChild(el("strong", "csmap-popup-name", t("Proposed site {order}: {name}", {order: pick.order, name: pick.name})));
        box.appendChild(siteFigures(pick));
        return box;
      }, {maxWidth: 320});
      marker.addTo(layer("picks"));
    });
    root.setAttribute("data-plan-drawn", String(config.picks.length));
  }

  /* The states (and the scope's counties) as a backdrop, so the map reads without tiles. It sits in
   * its own pane under the overlays and lets clicks through to the map. */
  function drawLand() {
    var pane = map.createPane("plan-land");
    pane.style.zIndex = 350;
    pane.style.pointerEvents = "none";
    var wanted = [getJSON(config.states_url)];
    if (config.counties_url) { wanted.push(getJSON(config.counties_url)); }
    Promise.all(wanted).then(function (layers) {
      L.geoJSON(layers[0], {pane: "plan-land", interactive: false,
                            style: {color: "#ffffff", weight: 1.5, fillColor: "#f4f1ea", fillOpacity: 1}})
        .addTo(layer("land"));
      if (layers[1]) {
        L.geoJSON(layers[1], {pane: "plan-land", interactive: false,
                              style: {color: "#c9c2b4", weight: 0.6, fill: false}}).addTo(layer("land"));
      }
      root.setAttribute("data-land-drawn", String(layers[0].features.length));
    }).catch(function (error) {
      status(t("The state outlines could not be drawn ({error}).", {error: error.message}), true);
    });
  }

  function drawSchools() {
    getJSON(config.schools_url).then(function (data) {
      var renderer = L.canvas({padding: 0.5});
      var group = layer("schools");
      for (var i = 0; i < data.count; i++) {
        var options = Object.assign({renderer: renderer}, SCHOOL_STYLE);
        L.circleMarker([data.lat[i], data.lon[i]], options).addTo(group);
      }
      root.setAttribute("data-schools-drawn", String(data.count));
    }).catch(function (error) {
      status(t("The existing schools could not be drawn ({error}).", {error: error.message}), true);
    });
  }

  /* ---------------------------------------------------------------- the visitor's sites */

  var sites = (config.whatif && config.whatif.query.sites) ? config.whatif.query.sites.slice() : [];
  var latest = 0;
  var statusBox = document.getElementById("whatif-status");
  var resultBox = document.getElementById("whatif-result");
  var undoButton = document.getElementById("whatif-undo");
  var clearButton = document.getElementById("whatif-clear");

  function status(message, isError) {
    statusBox.textContent = message;
    statusBox.classList.toggle("whatif-error", Boolean(isError));
  }

  function siteText(site) {
    return site.map(function (value) { return String(Number(value.toFixed(SITE_DECIMALS))); }).join(",");
  }

  /* The API's what-if query: scope, objective and the visitor's sites. */
  function params() {
    var out = new URLSearchParams();
    if (query.state) { out.append("state", query.state); }
    out.append("objective", query.objective);
    sites.forEach(function (site) { out.append("site", siteText(site)); });
    return out;
  }

  /* The page's own address: its mode, plan or target, keep/exclude, and the visitor's sites. */
  function pageParams() {
    var out = new URLSearchParams();
    Object.keys(config.page_query).forEach(function (name) {
      [].concat(config.page_query[name]).forEach(function (value) { out.append(name, String(value)); });
    });
    sites.forEach(function (site) { out.append("site", siteText(site)); });
    return out;
  }

  /* The page's forms (re-run, typed place) send the visitor's current sites along. */
  function syncSiteFields(form) {
    [].slice.call(form.querySelectorAll("input.site-field")).forEach(function (input) { input.remove(); });
    sites.forEach(function (site) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "site";
      input.className = "site-field";
      input.value = siteText(site);
      form.appendChild(input);
    });
  }

  function drawSites(answer) {
    var group = layer("sites");
    group.clearLayers();
    var picks = answer ? answer.picks : [];
    sites.forEach(function (site, i) {
      var pick = picks[i];
      var title = pick ? t("Your site {n}: +{gain}", {n: i + 1, gain: count(pick.gain)}) : t("Your site {n} (computing…)", {n: i + 1});
      var marker = numberedMarker(site[0], site[1], "plan-site-icon", String(i + 1), title);
      marker.bindTooltip(el("span", null, title));
      if (pick) {
        marker.bindPopup(function () {
          var box = el("div", "csmap-popup");
          box.appendChild(el("strong", "csmap-popup-name", t("Your site {n}", {n: i + 1})));
          box.appendChild(siteFigures(pick));
          return box;
        }, {maxWidth: 320});
      }
      marker.addTo(group);
    });
    if (answer) { drawReached(group, answer.reached, MY_REACHED_STYLE, t("your site")); }
    root.setAttribute("data-whatif-sites", String(sites.length));
    undoButton.hidden = clearButton.hidden = sites.length === 0;
  }

  /* Why a site adds nothing (issue 16): the same words as the page's own table (plan.html). */
  function gainNote(pick) {
    if (pick.gain > 0) { return ""; }
    if (!pick.zctas_newly_reached) {
      return t("Gain 0: every ZIP area within reach of this site is already within reach of a school (or of one of your earlier sites).");
    }
    return t("Gain 0: the ZIP areas it newly reaches have no {objective}.", {objective: config.objective_label});
  }

  function renderResult(answer) {
    resultBox.textContent = "";
    if (!answer) { return; }
    var table = el("table", "picks");
    table.id = "whatif-table";
    var head = el("tr");
    ["#", t("Your site (nearest place)"), t("Gain"), "ZCTAs"].forEach(function (name) {
      var th = el("th", null, name);
      th.scope = "col";
      head.appendChild(th);
    });
    table.appendChild(el("thead")).appendChild(head);
    var body = table.appendChild(el("tbody"));
    answer.picks.forEach(function (pick) {
      var tr = el("tr");
      tr.setAttribute("data-gain", String(pick.gain));
      var first = el("td");
      first.appendChild(el("span", "order mine", pick.order));
      tr.appendChild(first);
      var named = el("td", null, pick.name);
      named.title = pick.lat.toFixed(4) + ", " + pick.lon.toFixed(4);
      var note = gainNote(pick);
      if (note) { named.appendChild(el("span", "gain-note", note)); }
      tr.appendChild(named);
      tr.appendChild(el("td", "num", count(pick.gain)));
      tr.appendChild(el("td", "num", count(pick.zctas_newly_reached)));
      body.appendChild(tr);
    });
    resultBox.appendChild(table);
    var poverty = query.objective === "poverty";
    var key = poverty ? "high_poverty_children_within_reach" : "children_within_reach";
    var shareKey = poverty ? "high_poverty_share_within_reach" : "share_within_reach";
    var total = el("p", "plan-summary");
    total.id = "whatif-total";
    var figures = {gain: count(answer.gain[key]), objective: config.objective_label,
                   before: share(answer.before[shareKey]), after: share(answer.after[shareKey])};
    total.textContent = poverty
      ? t("Together your sites would bring {gain} more {objective} within reach: reach goes from {before} to {after} of high-poverty children.", figures)
      : t("Together your sites would bring {gain} more {objective} within reach: reach goes from {before} to {after} of children.", figures);
    resultBox.appendChild(total);
    var links = el("p", "downloads");
    [["GeoJSON", answer.links.geojson], ["CSV", answer.links.csv]].forEach(function (pair) {
      var a = el("a", null, t("Download your sites ({format})", {format: pair[0]}));
      a.href = pair[1];
      a.setAttribute("download", "");
      links.appendChild(a);
    });
    resultBox.appendChild(links);
  }

  function refresh() {
    var url = config.page_url + "?" + pageParams().toString();
    window.history.replaceState(null, "", url);
    drawSites(null);
    if (!sites.length) {
      renderResult(null);
      status("", false);
      root.setAttribute("data-whatif-state", "empty");
      return;
    }
    var ticket = ++latest;
    status(sites.length === 1 ? t("Computing what your site adds…") : t("Computing what your {n} sites add…", {n: sites.length}), false);
    root.setAttribute("data-whatif-state", "loading");
    fetch(config.api_url + "?" + params().toString(), {credentials: "same-origin"}).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error(body.description || ("HTTP " + response.status)); }
        return body;
      });
    }).then(function (answer) {
      if (ticket !== latest) { return; }  // a later click has sent a newer request
      drawSites(answer);
      renderResult(answer);
      status("", false);
      root.setAttribute("data-whatif-state", "done");
    }).catch(function (error) {
      if (ticket !== latest) { return; }
      status(t("Could not compute the what-if: {error}", {error: error.message}), true);
      root.setAttribute("data-whatif-state", "error");
    });
  }

  map.on("click", function (event) {
    if (sites.length >= config.max_sites) {
      status(t("At most {max} sites; remove one first.", {max: config.max_sites}), true);
      return;
    }
    var point = event.latlng.wrap();
    sites.push([Number(point.lat.toFixed(SITE_DECIMALS)), Number(point.lng.toFixed(SITE_DECIMALS))]);
    refresh();
  });
  undoButton.addEventListener("click", function () { sites.pop(); refresh(); });
  clearButton.addEventListener("click", function () { sites = []; refresh(); });

  ["place-form", "rerun-form"].forEach(function (id) {
    var form = document.getElementById(id);
    if (form) { form.addEventListener("submit", function () { syncSiteFields(form); }); }
  });
  /* Keep and exclude are exclusive for one site: ticking one unticks the other. */
  [].slice.call(document.querySelectorAll("#picks-table input[type=checkbox]")).forEach(function (box) {
    box.addEventListener("change", function () {
      if (!box.checked) { return; }
      var other = box.name === "keep" ? "exclude" : "keep";
      var twin = box.closest("tr").querySelector("input[name=" + other + "]");
      if (twin) { twin.checked = false; }
    });
  });
  /* A typed place was added on the server: the address keeps the site, not the typed text. */
  if (new URLSearchParams(window.location.search).has("place")) {
    window.history.replaceState(null, "", config.page_url + "?" + pageParams().toString());
  }

  drawLand();
  drawPlan();
  drawSchools();
  if (config.whatif) {
    drawSites(config.whatif);
    renderResult(config.whatif);
    root.setAttribute("data-whatif-state", "done");
  } else {
    drawSites(null);
    root.setAttribute("data-whatif-state", "empty");
  }
}());
