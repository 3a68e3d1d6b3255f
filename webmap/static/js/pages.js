/* Small page behaviours: client-side table sorting (the server sorts too, via ?sort=, when
 * scripts are off) and the "Use my location" button of /find. */

/* The page's words for scripts (webmap/i18n.py script_messages), as csmap.t; csmap-common.js, when the
 * page loads it later, brings the same function. */
(function () {
  "use strict";
  var node = document.getElementById("csmap-i18n");
  var messages = {};
  try { messages = node ? JSON.parse(node.textContent) : {}; } catch (error) { messages = {}; }
  window.csmap = window.csmap || {};
  window.csmap.t = window.csmap.t || function (text, values) {
    var out = Object.prototype.hasOwnProperty.call(messages, text) ? messages[text] : text;
    Object.keys(values || {}).forEach(function (key) { out = out.split("{" + key + "}").join(String(values[key])); });
    return out;
  };
}());

(function () {
  "use strict";
  var t = window.csmap.t;

  /* ------------------------------------------------------------ sortable tables */

  function cellValue(row, index) {
    var cell = row.children[index];
    var text = cell ? cell.getAttribute("data-value") : "";
    if (text === null || text === "") { return null; }
    var number = Number(text);
    return isNaN(number) ? text.toLowerCase() : number;
  }

  function sortTable(table, key, order) {
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var index = headers.findIndex(function (th) { return th.getAttribute("data-key") === key; });
    if (index < 0) { return; }
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index), y = cellValue(b, index);
      if (x === null && y === null) { return 0; }
      if (x === null) { return 1; }  // missing values always last
      if (y === null) { return -1; }
      var cmp = x < y ? -1 : (x > y ? 1 : 0);
      return order === "asc" ? cmp : -cmp;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    headers.forEach(function (th, i) {
      var link = th.querySelector("a.sort");
      if (i === index) {
        th.setAttribute("aria-sort", order === "asc" ? "ascending" : "descending");
        if (link) { link.textContent = order === "asc" ? "▲" : "▼"; }
      } else {
        th.removeAttribute("aria-sort");
        if (link) { link.textContent = "⇅"; }
      }
    });
    table.setAttribute("data-sorted", key + ":" + order);
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    table.addEventListener("click", function (event) {
      var link = event.target.closest("a.sort");
      if (!link || !table.contains(link)) { return; }
      event.preventDefault();
      var key = link.getAttribute("data-key");
      var th = link.closest("th");
      var current = th.getAttribute("aria-sort");
      // Numbers start biggest first (where the gaps are); names start A to Z.
      var order = current === "descending" ? "asc" : (current === "ascending" ? "desc" : (key === "name" ? "asc" : "desc"));
      sortTable(table, key, order);
      if (window.history && window.history.replaceState) {
        var url = new URL(window.location.href);
        url.searchParams.set("sort", key);
        url.searchParams.set("order", order);
        window.history.replaceState(null, "", url.toString());
      }
    });
  });

  /* ------------------------------------------------------------ use my location */

  var button = document.getElementById("use-location");
  var status = document.getElementById("location-status");
  if (button && "geolocation" in navigator) {
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = t("Asking your browser for your location…");
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(function (position) {
        var radius = document.getElementById("find-radius").value;
        var url = new URL(button.form.action, window.location.href);
        url.searchParams.set("lat", position.coords.latitude.toFixed(5));
        url.searchParams.set("lon", position.coords.longitude.toFixed(5));
        url.searchParams.set("radius", radius);
        window.location.assign(url.toString());
      }, function (error) {
        button.disabled = false;
        status.textContent = t("Your location is not available ({error}). Type a ZIP code or a city instead.",
          {error: error.message});
      }, {enableHighAccuracy: false, timeout: 15000, maximumAge: 600000});
    });
  }
}());

/* Copy buttons (issue 16): <button data-copy="ID"> copies the value of the field with that id, and
 * says so in the nearest .copy-status (a live region). Falls back to selecting the text when the
 * Clipboard API is refused (an http origin, or a browser that asks first). */
(function () {
  "use strict";
  var t = window.csmap.t;
  Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (button) {
    button.addEventListener("click", function () {
      var field = document.getElementById(button.getAttribute("data-copy"));
      var box = button.closest(".share-tools") || document;
      var status = box.querySelector(".copy-status");
      if (!field) { return; }
      function said(text) { if (status) { status.textContent = text; } }
      function fallback() {
        field.focus();
        field.select();
        var done = false;
        try { done = document.execCommand("copy"); } catch (e) { done = false; }
        said(done ? t("Copied.") : t("Selected: press Ctrl+C (⌘C) to copy."));
      }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(field.value).then(function () { said(t("Copied.")); }, fallback);
      } else {
        fallback();
      }
    });
  });
}());
