/* Keyboard access to the maps (issue 16, point 6). Defines csmap.a11y; csmap-map.js and csmap-records.js
 * call it, so a page that does not (the planner) is left as it is.
 *
 * - keyboardMap(map, label): names the map's own focus stop (Leaflet makes the map box focusable so that
 *   arrow keys pan it), and moves Leaflet's controls before the map's panes in the document, so that
 *   Tab reaches the zoom, fullscreen and layer buttons and the legend before the states and markers.
 *   The controls get the id "map-controls", the target of the page's skip link (base.html).
 *   A popup opened from the keyboard takes the focus (its first link, else the popup itself); Escape
 *   closes it and the focus goes back to the shape or marker that opened it.
 * - focusable(layer, name, {role, reveal}): a shape or dot a keyboard can reach, named for screen
 *   readers. Enter opens its popup (Leaflet's own keypress handler on layers with a popup), so a layer
 *   with one (or role "button") is a button; one with a tooltip only is an image whose tooltip shows
 *   on focus (Leaflet 1.9). Chromium already makes an SVG shape with a tooltip focusable, but unnamed and only
 *   where a tooltip was bound (not on touch screens): this makes every such stop explicit and named.
 */
(function () {
  "use strict";

  var KEY_WINDOW_MS = 1000;  // a popup opening this soon after Enter or Space was opened from the keyboard
  var CONTROLS_ID = "map-controls";

  function nameOf(name) { return typeof name === "function" ? name() : name; }

  function focusable(layer, name, options) {
    var reveal = options && options.reveal;
    var role = (options && options.role) || (layer.getPopup && layer.getPopup() ? "button" : "img");
    function mark() {
      var node = layer.getElement ? layer.getElement() : null;
      if (!node) { return; }
      node.setAttribute("tabindex", "0");
      node.setAttribute("role", role);
      node.setAttribute("aria-label", nameOf(name));
      if (reveal && !node.csmapReveal) {
        node.csmapReveal = true;
        node.addEventListener("focus", function () { reveal(layer); });
      }
    }
    layer.on("add", mark);
    if (layer._map) { mark(); }
    return layer;
  }

  /* Pan (never zoom) so a shape focused from the keyboard is on show: Alaska, Hawaii and Puerto Rico lie
   * outside the national view. On show means its drawn box meets the map's box (Alaska's bounds, across
   * the antimeridian, meet every view); the map pans to the centre of its first, largest ring. */
  function revealer(map) {
    return function (layer) {
      var node = layer.getElement ? layer.getElement() : null;
      if (!node || !layer.getCenter) { return; }
      var box = node.getBoundingClientRect(), view = map.getContainer().getBoundingClientRect();
      var seen = box.right > view.left && box.left < view.right && box.bottom > view.top && box.top < view.bottom;
      if (!seen) { map.panTo(layer.getCenter(), {animate: false}); }
    };
  }

  /* Leaflet's controls sit above its popups: pan the map so a popup opened from the keyboard, and the
   * focus in it, is hidden by no control (the legend, mostly), taking the shortest way clear of each. */
  function clearOfControls(map, popupNode) {
    var controls = map.getContainer().querySelectorAll(".leaflet-control");
    for (var pass = 0; pass < 2; pass++) {
      var box = popupNode.getBoundingClientRect(), moved = false;
      for (var i = 0; i < controls.length && !moved; i++) {
        var c = controls[i].getBoundingClientRect();
        if (!c.width || box.right <= c.left || box.left >= c.right || box.bottom <= c.top || box.top >= c.bottom) { continue; }
        // Panning the view by +d moves the popup by -d: [shift x, shift y] options, the shortest taken.
        var ways = [[box.right - c.left + 8, 0], [box.left - c.right - 8, 0], [0, box.bottom - c.top + 8], [0, box.top - c.bottom - 8]];
        ways.sort(function (a, b) { return Math.abs(a[0] + a[1]) - Math.abs(b[0] + b[1]); });
        map.panBy(ways[0], {animate: false});
        moved = true;
      }
      if (!moved) { return; }
    }
  }

  function keyboardMap(map, label) {
    var container = map.getContainer();
    container.setAttribute("role", "region");
    container.setAttribute("aria-label", label + " (arrow keys move the map, plus and minus zoom)");
    var controls = map._controlContainer;
    if (controls && !document.getElementById(CONTROLS_ID)) {
      container.insertBefore(controls, container.firstChild);
      controls.id = CONTROLS_ID;
      controls.setAttribute("tabindex", "-1");
      controls.setAttribute("role", "group");
      controls.setAttribute("aria-label", "Map controls");
    }

    var lastKey = 0;
    container.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { lastKey = Date.now(); }
      if (event.key === "Escape" && map._popup && map.hasLayer(map._popup)) {
        map.closePopup();
        event.stopPropagation();
      }
    }, true);

    map.on("popupopen", function (event) {
      if (Date.now() - lastKey > KEY_WINDOW_MS) { return; }
      var popup = event.popup;
      var from = document.activeElement;
      var wrapper = popup._wrapper || popup.getElement();
      wrapper.setAttribute("tabindex", "-1");
      wrapper.setAttribute("role", "dialog");
      var source = popup._source && popup._source.getElement ? popup._source.getElement() : null;
      wrapper.setAttribute("aria-label", (source && source.getAttribute("aria-label")) || "Details");
      var link = popup.getElement().querySelector(".leaflet-popup-content a[href]");
      (link || wrapper).focus({preventScroll: true});
      // Leaflet's own pan to fit the popup in the map may still be running: clear the controls after it.
      if (map._panAnim && map._panAnim._inProgress) {
        map.once("moveend", function () { clearOfControls(map, popup.getElement()); });
      } else {
        clearOfControls(map, popup.getElement());
      }
      popup.once("remove", function () {
        var active = document.activeElement;
        var lost = !active || active === document.body || !document.contains(active) || popup.getElement().contains(active);
        if (lost && from && document.contains(from)) { from.focus(); }
      });
    });
    return {reveal: revealer(map)};
  }

  // The partner page loads this without the map bundle's csmap-common.js.
  window.csmap = window.csmap || {};
  window.csmap.a11y = {focusable: focusable, keyboardMap: keyboardMap};
}());
