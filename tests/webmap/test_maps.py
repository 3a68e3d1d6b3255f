"""The folium builders, checked as objects and as rendered pieces (no build needed)."""

from __future__ import annotations

import json
import re

import folium
import pytest
from folium.plugins import Fullscreen, MarkerCluster

from webmap import maps
from webmap.vendor import find_external_assets

METRICS = [("schools_per_10k_children", "Schools per 10k children"), ("reach_share", "Reach")]


def children_of(m: folium.Map, kind: type) -> list:
    return [child for child in m._children.values() if isinstance(child, kind)]


def test_national_map_has_one_base_layer_per_metric_and_empty_data_layers():
    m, layers = maps.national_map(METRICS)

    groups = children_of(m, folium.FeatureGroup)
    base = [g for g in groups if not g.overlay]
    assert [g.layer_name for g in base] == [label for _, label in METRICS]
    assert [g.show for g in base] == [True, False]  # the first metric is shown at load
    assert set(layers) == {"metric:schools_per_10k_children", "metric:reach_share", "coalitions", "schools"}
    cluster = children_of(m, maps.SchoolClusters)
    assert len(cluster) == 1 and layers["schools"] == cluster[0].get_name()
    assert cluster[0]._children == {}  # no inline markers: the page script fills it
    assert children_of(m, MarkerCluster) == []  # clustered by the page script, not the plugin
    assert children_of(m, Fullscreen) and children_of(m, folium.LayerControl)


def test_school_clusters_reach_leaflet_as_options_of_an_empty_overlay():
    m, layers = maps.national_map(METRICS)
    page = maps.render_map(m, layers, "/static/vendor")
    name = layers["schools"]

    # L.featureGroup(layers?, options?): the options must be the second argument to reach the layer.
    found = re.search(rf"var {name} = L\.featureGroup\(null, (\{{.*?\}})\);", page.script, re.S)
    assert found, page.script
    options = json.loads(re.sub(r",\s*}", "}", found.group(1)))  # folium's JSON has a trailing comma
    assert options == {"clusterRadius": maps.CLUSTER_RADIUS_PX, "clusterOffZoom": maps.CLUSTER_OFF_ZOOM}
    assert f'"Community schools" : {name}' in page.script  # a checkbox in the layer control
    assert f"{name}.addTo({page.map_name})" in page.script  # shown at load
    # The page script draws the clusters: Leaflet.markercluster's files are not loaded at all.
    assert not any("markercluster" in url for url in page.js + page.css)


def test_maps_have_max_zoom_and_no_tiles_by_default():
    for m, _ in (
        maps.national_map(METRICS),
        maps.state_map([[30, -100], [35, -95]]),
        maps.find_map(30, -97, 5),
    ):
        assert m.options["maxZoom"] == maps.MAX_ZOOM  # a map with no tiles has none (PITFALLS.md)
        assert children_of(m, folium.TileLayer) == []


def test_configured_tiles_are_a_fixed_layer_outside_the_layer_control():
    m, _ = maps.national_map(
        METRICS, tiles="https://tiles.example.org/{z}/{x}/{y}.png", attribution="© Example"
    )
    (tiles,) = children_of(m, folium.TileLayer)
    assert tiles.tiles == "https://tiles.example.org/{z}/{x}/{y}.png"
    assert tiles.control is False
    assert tiles.options["attribution"] == "© Example"


def test_state_map_fits_the_state():
    m, layers = maps.state_map([[25.8, -106.6], [36.5, -93.5]])
    script = maps.render_map(m, layers, "/static/vendor").script
    assert "fitBounds" in script and "[25.8, -106.6]" in script and "[36.5, -93.5]" in script
    assert set(layers) == {"counties", "schools"}


def test_find_map_draws_the_search_circle_in_metres():
    m, layers = maps.find_map(30.27, -97.74, 5)
    (circle,) = children_of(m, folium.Circle)
    assert circle.location == [30.27, -97.74]
    assert circle.options["radius"] == pytest.approx(5 * 1609.344)
    assert set(layers) == {"results", "origin"}


def test_render_map_splits_the_figure_with_local_assets_only():
    m, layers = maps.national_map(METRICS)
    page = maps.render_map(m, layers, "/static/vendor")

    assert page.map_name == m.get_name()
    assert f'id="{page.map_name}"' in page.html
    assert page.js[0] == "/static/vendor/leaflet/leaflet.js"  # Leaflet before its plugins
    assert "/static/vendor/leaflet.fullscreen/Control.FullScreen.js" in page.js
    assert "/static/vendor/leaflet/leaflet.css" in page.css
    assert not any("jquery" in url or "d3" in url for url in page.js)  # nothing on these maps uses them
    links = "".join(f'<script src="{u}"></script>' for u in page.js) + "".join(
        f'<link rel="stylesheet" href="{u}">' for u in page.css
    )
    assert find_external_assets(links + page.html) == []
    assert f"var {page.map_name} = L.map(" in page.script
    for name in layers.values():
        assert f"var {name} = " in page.script
    assert "<script" not in page.script  # the template wraps it in one nonce'd tag


def test_render_map_takes_a_url_function():
    m, layers = maps.find_map(30.0, -97.0, 1)
    page = maps.render_map(m, layers, lambda path: f"/app/static/vendor/{path}")
    assert all(url.startswith("/app/static/vendor/") for url in page.js + page.css)
