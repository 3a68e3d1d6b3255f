"""Issue 15 in a real browser: the embedded basemap, place labels, the find page's list and markers,
and colours that stay distinguishable under deuteranopia.

Screenshots go to tests/artifacts/orient_*.png (looked at by a person after changes).
"""

from __future__ import annotations

import io
import itertools
import math

import pytest

pytestmark = pytest.mark.browser


def map_call(page, expression: str):
    """Evaluate ``expression`` with ``map`` bound to the page's Leaflet map.

    Leaflet's setters return the map itself, which Playwright would serialize node by node
    (several seconds of CPU for a whole map); such a result comes back as None.
    """
    return page.evaluate(
        "(expr) => { const config = JSON.parse(document.getElementById('csmap-config').textContent);"
        " const map = window[config.map]; const value = eval(expr); return value === map ? null : value; }",
        expression,
    )


def labels_at(page, zoom: float, center: tuple[float, float]) -> list[str]:
    map_call(page, f"map.setView([{center[0]}, {center[1]}], {zoom}, {{animate: false}})")
    laid = (
        f"() => {{ const c = document.querySelector('.leaflet-container');"
        f" return c && c.dataset.zoomLaid === '{zoom}'; }}"
    )
    page.wait_for_function(laid, timeout=10_000)
    return page.eval_on_selector_all(".csmap-label-place", "els => els.map(e => e.textContent)")


def test_find_93706_shows_fresno_and_a_basemap_tile_with_no_request_leaving(
    site, page, page_log, console_errors, screenshot
):
    page.goto(f"{site}/find?q=93706&radius=10", wait_until="load")
    page.wait_for_selector("html[data-context-drawn][data-results-drawn]", timeout=20_000)
    page.wait_for_function(
        "() => [...document.images].some(i => i.src.includes('/tiles/')"
        " && i.complete && i.naturalWidth === 256)",
        timeout=10_000,
    )
    names = page.eval_on_selector_all(".csmap-label-place", "els => els.map(e => e.textContent)")
    assert "Fresno" in names
    # The note says the ZIP's centre is far from downtown Fresno.
    assert "Fresno, CA" in page.inner_text("#location-note")
    tiles = [url for url in page_log.requests if "/tiles/" in url]
    assert tiles and all(url.startswith(site) for url in tiles)
    assert page_log.non_local_requests() == []
    assert console_errors == [] and page_log.failed_requests == []
    assert "OpenStreetMap" in page.inner_text(".leaflet-control-attribution")
    screenshot(page, "orient_find_93706")


def test_place_labels_at_zooms_4_8_and_12_never_overlap(site, page, console_errors):
    page.goto(f"{site}/find?q=Columbus%2C+OH&radius=10", wait_until="load")
    page.wait_for_selector("html[data-context-drawn]", timeout=20_000)
    page.evaluate(
        """() => { const config = JSON.parse(document.getElementById('csmap-config').textContent);
                   const map = window[config.map];
                   const mark = () => { map.getContainer().dataset.zoomLaid = String(map.getZoom()); };
                   map.on('moveend', () => setTimeout(mark, 0)); }"""
    )
    # The places of 50,000 people or more, which the page loads first; the full gazetteer follows.
    major = page.evaluate(
        "async () => (await (await fetch(JSON.parse(document.getElementById('csmap-config').textContent)"
        ".places_major_url)).json()).name"
    )
    seen = {}
    for zoom in (4, 8, 12):
        names = labels_at(page, zoom, (39.9612, -82.9988))
        if zoom == 8:
            # From zoom 7 the full gazetteer loads once and the labels are laid out again with it:
            # wait until a place smaller than the major ones is labelled.
            page.wait_for_function(
                "(major) => [...document.querySelectorAll('.csmap-label-place')]"
                ".some(e => !major.includes(e.textContent))",
                arg=major,
                timeout=10_000,
            )
        if zoom >= 8:
            map_call(page, "map.fire('moveend')")
            names = page.eval_on_selector_all(".csmap-label-place", "els => els.map(e => e.textContent)")
        assert names, f"no place labels at zoom {zoom}"
        seen[zoom] = names
        boxes = page.eval_on_selector_all(
            ".csmap-label span",
            "els => els.map(e => { const r = e.getBoundingClientRect();"
            " return [r.left, r.top, r.right, r.bottom]; })",
        )
        for a, b in itertools.combinations(boxes, 2):
            assert not (a[0] < b[2] and a[2] > b[0] and a[1] < b[3] and a[3] > b[1]), (zoom, a, b)
    assert "Columbus" in seen[8]
    # Thinned by population: more, smaller places as one zooms in, and the big city from afar.
    assert len(seen[4]) >= 1 and "Columbus" in seen[4] + seen[8]
    assert console_errors == []


def test_clicking_a_list_result_opens_its_popup_and_highlights_the_row(
    site, page, console_errors, screenshot
):
    page.goto(f"{site}/find?q=New+York&radius=25", wait_until="load")
    page.wait_for_selector("html[data-results-drawn]", timeout=20_000)
    # Results cluster where they crowd: at the fitted view some are grouped.
    assert int(page.evaluate("document.documentElement.dataset.resultClusters")) >= 1
    rows = page.locator("#results li")
    assert rows.count() >= 10
    for position in (9, 0):
        row = rows.nth(position)
        name = row.locator(".result-name").inner_text()
        row.locator(".result-open").click()
        page.wait_for_function(
            # The popup closing may linger while it fades out: any popup with the name will do.
            "(n) => [...document.querySelectorAll('.csmap-popup-name')].some(p => p.textContent === n)",
            arg=name,
            timeout=5_000,
        )
        assert page.locator("#results li.is-active").count() == 1
        assert page.locator("#results li.is-active .result-name").inner_text() == name
    # The searched place's pin is in a pane under every result marker.
    panes = page.evaluate(
        """() => [getComputedStyle(document.querySelector('.leaflet-csmap-origin-pane')).zIndex,
                  getComputedStyle(document.querySelector('.leaflet-marker-pane')).zIndex].map(Number)"""
    )
    assert panes[0] < panes[1]
    assert console_errors == []
    screenshot(page, "orient_find_list_click")


def test_national_map_has_insets_state_labels_and_a_neutral_cluster_key(
    site, page, console_errors, screenshot
):
    page.goto(f"{site}/", wait_until="load")
    page.wait_for_selector("html[data-states-drawn][data-context-drawn]", timeout=20_000)
    insets = page.eval_on_selector_all(".csmap-inset-name", "els => els.map(e => e.textContent)")
    assert insets == ["Alaska", "Hawaii", "Puerto Rico"]
    assert page.locator(".csmap-label-state").count() >= 20
    assert page.locator(".csmap-legend .csmap-key-cluster").count() == 1
    colours = page.eval_on_selector_all(
        ".marker-cluster div div", "els => [...new Set(els.map(e => getComputedStyle(e).backgroundColor))]"
    )
    assert len(colours) == 1  # one neutral colour whatever the size
    # The labels are laid out again at moveend, once the zoom animation ends: mark the moveend in Hawaii.
    map_call(
        page,
        "map.on('moveend', () => { if (map.getBounds().contains([21.3, -157.8])) {"
        " setTimeout(() => { map.getContainer().dataset.moved = '1'; }); } })",
    )
    page.click(".csmap-inset >> nth=1")  # Hawaii
    page.wait_for_function(
        "() => { const c = JSON.parse(document.getElementById('csmap-config').textContent);"
        " const b = window[c.map].getBounds(); return b.contains([21.3, -157.8]) && b.getWest() > -165; }",
        timeout=5_000,
    )
    page.wait_for_selector(".leaflet-container[data-moved]", timeout=5_000)
    assert console_errors == []
    screenshot(page, "orient_national")


#: Installed before the page's scripts: the time (ms from navigation) of the first drawn shape in
#: the main map's overlay pane, and of the first basemap tile image, each taken as it appears.
FIRST_SHAPE_AND_TILE = """(() => {
    window.csmapSeen = {};
    const seen = (key, found) => {
        if (!(key in window.csmapSeen) && found) { window.csmapSeen[key] = performance.now(); }
    };
    new MutationObserver(() => {
        const pane = document.querySelector('.leaflet-overlay-pane');
        seen('shape', pane && pane.querySelector('path[d]:not([d="M0 0"])'));
        seen('tile', document.querySelector('.leaflet-tile-pane img'));
    }).observe(document, {childList: true, subtree: true});
})();"""


@pytest.mark.parametrize("path", ["/", "/states/OH"])
def test_the_shapes_come_before_the_basemap_which_then_loads(site, page, page_log, console_errors, path):
    # Issue 15, point 8: the page's own shapes are drawn before the basemap's tiles are asked for,
    # and the basemap, with its attribution, still comes.
    page.add_init_script(FIRST_SHAPE_AND_TILE)
    page.goto(f"{site}{path}", wait_until="load")
    page.wait_for_function(
        "() => [...document.images].some(i => i.src.includes('/tiles/')"
        " && i.complete && i.naturalWidth === 256)",
        timeout=20_000,
    )
    seen = page.evaluate("() => window.csmapSeen")
    assert set(seen) == {"shape", "tile"} and seen["shape"] < seen["tile"], seen
    assert page.get_attribute("html", "data-schools-drawn") is not None  # the schools come first too
    assert "OpenStreetMap" in page.inner_text(".leaflet-control-attribution")
    tiles = [url for url in page_log.requests if "/tiles/" in url]
    assert tiles and all(url.startswith(site) for url in tiles)
    assert console_errors == [] and page_log.failed_requests == []


def test_legend_starts_folded_on_a_phone(browser, site):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        phone = context.new_page()
        phone.goto(f"{site}/", wait_until="load")
        phone.wait_for_selector(".csmap-legend-title", timeout=20_000)
        assert phone.locator(".csmap-legend.csmap-legend-folded").count() == 1
        assert phone.locator(".csmap-legend-row").first.is_hidden()
        phone.click(".csmap-legend-title")
        assert phone.locator(".csmap-legend-row").first.is_visible()
    finally:
        context.close()


def _srgb_to_lab(rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of an sRGB colour, for colour differences (CIE76 delta E)."""

    def linear(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def test_legend_classes_and_symbols_stay_distinct_under_deuteranopia(site, page, screenshot):
    """Chromium's deuteranopia emulation: every pair of legend swatches and symbols stays apart."""
    pil = pytest.importorskip("PIL.Image")
    page.goto(f"{site}/", wait_until="load")
    page.wait_for_selector("html[data-states-drawn] .csmap-legend-row", timeout=20_000)
    # The five classes and "no data" (rows 1-6), the school dot and the cluster symbol.
    selectors = [f".csmap-legend .csmap-legend-row:nth-of-type({i}) .csmap-swatch" for i in range(1, 7)]
    selectors += [".csmap-legend .csmap-key-school", ".csmap-legend .csmap-key-cluster"]
    centres = []
    for selector in selectors:
        box = page.locator(selector).first.bounding_box()
        assert box, selector
        centres.append((int(box["x"] + box["width"] / 2), int(box["y"] + box["height"] / 2)))

    def swatches() -> list[tuple[int, int, int]]:
        image = pil.open(io.BytesIO(page.screenshot())).convert("RGB")
        return [image.getpixel(centre) for centre in centres]

    normal = swatches()
    session = page.context.new_cdp_session(page)
    session.send("Emulation.setEmulatedVisionDeficiency", {"type": "deuteranopia"})
    # The emulation shows from the next frame drawn: take screenshots until the swatches change.
    seen = swatches()
    for _ in range(20):
        if seen != normal:
            break
        seen = swatches()
    assert seen != normal, "the deuteranopia emulation never showed"
    colours = {selector: _srgb_to_lab(rgb) for selector, rgb in zip(selectors, seen, strict=True)}
    screenshot(page, "orient_deuteranopia")
    session.send("Emulation.setEmulatedVisionDeficiency", {"type": "none"})
    # 10 CIE76 units: clearly different side by side (2.3 is the just-noticeable difference).
    for (a, la), (b, lb) in itertools.combinations(colours.items(), 2):
        print(f"deltaE {math.dist(la, lb):5.1f}  {a} | {b}")
        assert math.dist(la, lb) >= 10, (a, b, la, lb)
