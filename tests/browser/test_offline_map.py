"""A localized folium map works in a real browser with no network: everything comes from 127.0.0.1."""

from __future__ import annotations

import folium
import pandas as pd
import pytest
from flask import Flask, url_for
from folium.plugins import Fullscreen, MarkerCluster

from webmap.vendor import VENDOR_DIR, localize

pytestmark = pytest.mark.browser

# Two 1x1 degree squares in Kansas, lon/lat as GeoJSON wants (RFC 7946).
SQUARES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "id": geoid,
            "properties": {"name": name, "schools": schools},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[west, 38.0], [west + 1, 38.0], [west + 1, 39.0], [west, 39.0], [west, 38.0]]
                ],
            },
        }
        for geoid, name, schools, west in [
            ("20001", "West square", 3, -99.0),
            ("20002", "East square", 12, -97.5),
        ]
    ],
}
CLUSTERED_SCHOOLS = 20
STANDALONE_SCHOOL = (37.2, -96.0)


def build_map() -> folium.Map:
    """GeoJson with tooltip and popup, a Choropleth with legend, clustered and single markers."""
    m = folium.Map(location=[38.5, -97.5], zoom_start=7, tiles=None)
    counts = pd.DataFrame({"geoid": ["20001", "20002"], "schools": [3, 12]})
    folium.Choropleth(
        SQUARES, data=counts, columns=["geoid", "schools"], key_on="feature.id", name="Schools per district"
    ).add_to(m)
    # Added last, so its paths sit on top and receive the hover.
    folium.GeoJson(
        SQUARES,
        name="Districts",
        tooltip=folium.GeoJsonTooltip(fields=["name"]),
        popup=folium.GeoJsonPopup(fields=["schools"]),
    ).add_to(m)
    cluster = MarkerCluster(name="Community schools").add_to(m)
    for i in range(CLUSTERED_SCHOOLS):
        # Within 0.02 degrees of each other: one cluster at zoom 7.
        folium.Marker([38.5 + i * 0.001, -97.0], popup=folium.Popup(f"School {i}")).add_to(cluster)
    folium.Marker(STANDALONE_SCHOOL, tooltip="Standalone school").add_to(m)
    Fullscreen().add_to(m)
    folium.LayerControl().add_to(m)
    return m


def map_app(m: folium.Map, *, offline: bool = True) -> Flask:
    """A tiny app that serves webmap/static and one page holding the map."""
    app = Flask(__name__, static_folder=str(VENDOR_DIR.parent))

    @app.get("/")
    def index() -> str:
        if offline:
            localize(m, lambda path: url_for("static", filename=f"vendor/{path}"))
        return m.get_root().render()

    @app.get("/favicon.ico")
    def favicon() -> tuple[str, int]:
        return "", 204

    return app


def test_localized_map_draws_everything_from_localhost(
    live_server, page, page_log, console_errors, screenshot
):
    m = build_map()
    base_url = live_server(map_app(m))

    page.goto(f"{base_url}/", wait_until="load")
    page.wait_for_selector(".marker-cluster", timeout=10_000)
    screenshot(page, "offline_map")

    state = page.evaluate(
        """(name) => {
            const map = window[name];
            const icon = document.querySelector('.leaflet-marker-icon:not(.marker-cluster)');
            const cluster = document.querySelector('.marker-cluster-medium');
            return {
                isLeafletMap: !!window.L && map instanceof L.Map,
                zoom: map.getZoom(),
                maxZoom: map.getMaxZoom(),
                paths: document.querySelectorAll('.leaflet-overlay-pane path').length,
                clusterCounts: [...document.querySelectorAll('.marker-cluster span')]
                    .map(s => +s.textContent),
                clusterBackground: cluster && getComputedStyle(cluster).backgroundColor,
                markerIconLoaded: !!icon && icon.complete && icon.naturalWidth > 0,
                paneIsPositioned: getComputedStyle(document.querySelector('.leaflet-pane')).position,
                fullscreenButton: !!document.querySelector('.leaflet-control-zoom-fullscreen'),
                layerControlEntries:
                    document.querySelectorAll('.leaflet-control-layers-overlays label').length,
                legendSvg: !!document.querySelector('.legend svg'),
            };
        }""",
        m.get_name(),
    )
    assert state["isLeafletMap"]
    assert state["zoom"] == 7
    assert state["maxZoom"] == 18
    assert state["paths"] == 4  # 2 GeoJson squares + 2 Choropleth squares, as SVG paths
    assert sum(state["clusterCounts"]) == CLUSTERED_SCHOOLS
    # 10-99 markers make a "medium" cluster (leaflet.markercluster's default iconCreateFunction), which
    # MarkerCluster.Default.css paints rgba(241, 211, 87, 0.6).
    assert state["clusterBackground"] == "rgba(241, 211, 87, 0.6)"
    assert state["markerIconLoaded"]  # leaflet.css finds images/marker-icon.png beside it
    assert state["paneIsPositioned"] == "absolute"  # leaflet.css applied
    assert state["fullscreenButton"]
    assert state["layerControlEntries"] == 3
    assert state["legendSvg"]  # d3 drew the Choropleth legend

    # Hover the middle of the west square, where a person would point.
    x, y = page.evaluate(
        """(name) => {
            const map = window[name];
            const point = map.latLngToContainerPoint([38.5, -98.5]);
            const box = map.getContainer().getBoundingClientRect();
            return [box.left + point.x, box.top + point.y];
        }""",
        m.get_name(),
    )
    page.mouse.move(x, y)
    assert "West square" in page.inner_text(".leaflet-tooltip", timeout=5_000)

    assert console_errors == []
    assert page_log.failed_requests == []
    assert page_log.non_local_requests() == []
    assert any("/static/vendor/leaflet/leaflet.js" in url for url in page_log.requests)


def test_unlocalized_map_is_caught_reaching_for_cdns(live_server, page, page_log, tmp_path):
    """Control: the same page without localize() would leave the machine, and the harness sees it."""
    (tmp_path / "index.html").write_text(build_map().get_root().render(), encoding="utf-8")
    base_url = live_server(tmp_path)

    page.goto(f"{base_url}/index.html", wait_until="load")

    assert page.evaluate("typeof window.L") == "undefined"
    hosts = {url.split("/")[2] for url in page_log.non_local_requests()}
    assert {"cdn.jsdelivr.net", "cdnjs.cloudflare.com", "code.jquery.com"} <= hosts
