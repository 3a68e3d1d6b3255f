"""webmap.vendor: folium pages that load only files vendored under webmap/static/vendor."""

from __future__ import annotations

import re

import folium
import pandas as pd
import pytest
from folium.plugins import Draw, Fullscreen, MarkerCluster

from geo.errors import OfflineAssetError
from webmap.vendor import (
    DROPPED_ASSETS,
    LOCAL_ASSETS,
    VENDOR_DIR,
    find_asset_urls,
    find_external_assets,
    localize,
)

SQUARES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "id": geoid,
            "properties": {"name": geoid},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[west, 38.0], [west + 1, 38.0], [west + 1, 39.0], [west, 39.0], [west, 38.0]]
                ],
            },
        }
        for geoid, west in [("20001", -99.0), ("20002", -97.5)]
    ],
}


def build_map() -> folium.Map:
    """Every kind of layer our pages use, with no tiles (so no maxZoom of its own)."""
    m = folium.Map(location=[38.5, -98.0], zoom_start=7, tiles=None)
    folium.GeoJson(
        SQUARES,
        name="Districts",
        tooltip=folium.GeoJsonTooltip(fields=["name"]),
        popup=folium.GeoJsonPopup(fields=["name"]),
    ).add_to(m)
    counts = pd.DataFrame({"geoid": ["20001", "20002"], "schools": [3, 12]})
    folium.Choropleth(SQUARES, data=counts, columns=["geoid", "schools"], key_on="feature.id").add_to(m)
    cluster = MarkerCluster(name="Schools").add_to(m)
    folium.Marker([38.5, -97.0], popup=folium.Popup("School")).add_to(cluster)
    folium.CircleMarker([38.6, -97.1], radius=5).add_to(cluster)
    Fullscreen().add_to(m)
    folium.LayerControl().add_to(m)
    return m


def vendored_path(url: str, prefix: str = "/static/vendor/") -> str:
    assert url.startswith(prefix), url
    return url.removeprefix(prefix)


def test_unlocalized_map_loads_from_cdns():
    # Control for the test below: folium's own page is full of CDN links.
    external = find_external_assets(build_map().get_root().render())
    assert "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" in external
    assert len(external) >= 10


def test_localized_map_loads_only_vendored_files_that_exist():
    m = localize(build_map())
    html = m.get_root().render()

    assert find_external_assets(html) == []
    assets = find_asset_urls(html)
    # Leaflet, jQuery, d3 (legend), MarkerCluster x3, Fullscreen x2.
    assert len(assets) == 9
    for url in assets:
        assert (VENDOR_DIR / vendored_path(url)).is_file(), url
    assert not re.search(r"bootstrap|awesome|fontawesome", html, re.IGNORECASE)


def test_localize_sets_max_zoom_only_when_missing():
    m = localize(build_map())
    assert m.options["maxZoom"] == 18
    assert '"maxZoom": 18' in m.get_root().render()

    own = folium.Map(tiles=None, maxZoom=12)
    assert localize(own, max_zoom=15).options["maxZoom"] == 12
    assert localize(folium.Map(tiles=None), max_zoom=15).options["maxZoom"] == 15


def test_localize_leaves_folium_class_defaults_alone():
    localize(build_map())
    assert folium.Map.default_js[0][1].startswith("https://cdn.jsdelivr.net/")
    assert MarkerCluster.default_css[0][1].startswith("https://cdnjs.cloudflare.com/")


def test_static_url_callable_receives_vendored_paths():
    asked = []

    def static_url(path: str) -> str:
        asked.append(path)
        return f"/assets/v1/{path}"

    html = localize(build_map(), static_url).get_root().render()

    assert sorted(asked) == sorted(LOCAL_ASSETS.values())
    assert all(url.startswith("/assets/v1/") for url in find_asset_urls(html))


def test_string_prefix_may_end_with_slash():
    html = localize(build_map(), "/static/vendor/").get_root().render()
    assert "/static/vendor/leaflet/leaflet.js" in find_asset_urls(html)


def test_children_added_after_localize_are_localized_at_render():
    m = localize(folium.Map(tiles=None))
    MarkerCluster().add_to(m)
    folium.LinearColormap(["white", "blue"], vmin=0, vmax=1).add_to(m)  # adds d3 while rendering

    html = m.get_root().render()

    assert find_external_assets(html) == []
    assert "/static/vendor/d3/d3.min.js" in find_asset_urls(html)


def test_localize_twice_gives_the_same_assets():
    m = localize(build_map())
    first = find_asset_urls(m.get_root().render())
    assert find_asset_urls(localize(m).get_root().render()) == first


def test_awesome_marker_icon_is_refused_and_map_left_alone():
    m = build_map()
    folium.Marker([38.5, -97.0], icon=folium.Icon(color="red")).add_to(m)

    with pytest.raises(OfflineAssetError, match="folium.Icon"):
        localize(m)
    assert "default_js" not in vars(m)
    assert "maxZoom" not in m.options


def test_plugin_that_is_not_vendored_is_refused_with_its_url():
    m = build_map()
    Draw().add_to(m)
    with pytest.raises(OfflineAssetError, match=re.escape("leaflet.draw/1.0.2/leaflet.draw.js")):
        localize(m)


def test_hand_added_cdn_link_is_refused():
    m = build_map()
    m.get_root().header.add_child(folium.CssLink("https://example.org/extra.css"))
    with pytest.raises(OfflineAssetError, match="example.org/extra.css"):
        localize(m)


def test_find_external_assets_reads_tags_not_script_text():
    html = """<html><head>
        <script src="https://cdn.example/a.js"></script>
        <link rel="stylesheet" href="//cdn.example/b.css"/>
        <script src="/static/vendor/c.js"></script>
        <link rel="stylesheet" href='vendor/d.css'>
        <img src="data:image/png;base64,AAAA">
        <script>var s = '<script src="https://in.string/x.js">';</script>
        </head><body><img src="http://tiles.example/1/2/3.png"></body></html>"""

    assert find_external_assets(html) == [
        "https://cdn.example/a.js",
        "//cdn.example/b.css",
        "http://tiles.example/1/2/3.png",
    ]


def test_every_vendored_mapping_points_at_a_file_and_none_is_also_dropped():
    for path in LOCAL_ASSETS.values():
        assert (VENDOR_DIR / path).is_file(), path
    assert not set(LOCAL_ASSETS) & DROPPED_ASSETS


def test_css_urls_in_vendored_stylesheets_resolve():
    stylesheets = sorted(VENDOR_DIR.rglob("*.css"))
    assert stylesheets
    for css in stylesheets:
        for target in re.findall(r"url\(\s*['\"]?([^'\")]+)", css.read_text(encoding="utf-8")):
            if target.startswith("#"):  # leaflet.css: behavior: url(#default#VML), old IE only
                continue
            assert (css.parent / target).is_file(), f"{css.name}: {target}"


def test_each_library_has_a_licence_and_is_in_the_readme():
    readme = (VENDOR_DIR / "README.md").read_text(encoding="utf-8")
    libraries = [path for path in VENDOR_DIR.iterdir() if path.is_dir()]
    assert libraries
    for library in libraries:
        assert (library / "LICENSE").is_file(), library.name
        for file in library.rglob("*"):
            if file.is_file() and file.name != "LICENSE":
                assert file.relative_to(VENDOR_DIR).as_posix() in readme, file
