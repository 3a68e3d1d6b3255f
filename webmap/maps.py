"""Folium map builders (webmap.vendor is the app's other folium importer: it serves folium's assets locally).

Folium builds each map's skeleton in Python: the Leaflet map, its empty layers
(feature groups, one of them the school clusters), the layer control and the
fullscreen control. No data string ever goes into folium's generated script.
The page's own script (``static/js/csmap-map.js``) fetches the compact data the
routes serve and fills those layers, building popups and tooltips with DOM
text nodes, so every name from the data is escaped by construction, and the
page stays small: the schools arrive as a columnar array, are clustered in the
browser (only the clusters and lone schools in view become Leaflet layers) and
their popups are fetched on click, never as thousands of inline ``Marker``
objects.

:func:`render_map` localizes the assets (``webmap.vendor``) and splits the
rendered figure into the pieces a page template places: links, the map
``<div>`` and the script (which the template tags with the CSP nonce).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import folium
from branca.element import CssLink, Figure, JavascriptLink
from folium.map import FitBounds
from folium.plugins import Fullscreen
from folium.template import Template

from webmap.vendor import localize

logger = logging.getLogger(__name__)

#: Contiguous US view: centre and zoom that fit the lower 48 in a ~900 px wide map.
US_CENTER = (39.5, -98.35)
US_ZOOM = 4
#: The lower 48's extent, [[south, west], [north, east]]; the national map fits it to any screen.
CONUS_BOUNDS = [[24.4, -124.8], [49.4, -66.9]]
#: Half-zoom steps so fitted views fill a phone as well as a laptop (Leaflet ``zoomSnap``).
ZOOM_SNAP = 0.5
#: Leaflet's default TileLayer maxZoom; a map with no tiles needs one set (PITFALLS.md).
MAX_ZOOM = 18
MIN_ZOOM = 2
#: From this zoom on single schools show instead of clusters (street scale).
CLUSTER_OFF_ZOOM = 13
#: Schools closer than this many screen pixels are clustered: Leaflet.markercluster's default
#: ``maxClusterRadius``, so the clusters look as they did with that plugin.
CLUSTER_RADIUS_PX = 80
FIND_RADII_MILES = (1, 5, 10, 25, 50)
METERS_PER_MILE = 1609.344


@dataclass(frozen=True)
class MapPage:
    """A rendered map, split for a page template.

    Attributes
    ----------
    map_name : str
        JavaScript variable of the ``L.map``.
    css, js : list of str
        Stylesheet and script URLs (all local), in load order.
    html : str
        The map's ``<div>``.
    script : str
        Folium's generated JavaScript (no data strings; the template adds the CSP nonce).
    layers : dict
        Role (e.g. ``"schools"``, ``"metric:reach_share"``) to the JavaScript variable
        of the empty layer the page script fills.
    """

    map_name: str
    css: list[str]
    js: list[str]
    html: str
    script: str
    layers: dict[str, str] = field(default_factory=dict)


def _base_map(
    location: Sequence[float],
    zoom: int,
    *,
    tiles: str | None,
    attribution: str | None,
    max_native_zoom: int | None = None,
    layers: dict[str, str] | None = None,
) -> folium.Map:
    """Make a map with no default tiles, a max zoom and, when configured, one fixed tile layer.

    Given ``layers``, the tile layer is not put on the map here: it is recorded there as the
    ``"basemap"`` role, and the page script adds it once the page's own shapes are drawn.
    """
    m = folium.Map(
        location=list(location),
        zoom_start=zoom,
        tiles=None,
        min_zoom=MIN_ZOOM,
        max_zoom=MAX_ZOOM,
        control_scale=True,
    )
    # tiles=None leaves maxZoom unset (PITFALLS.md): fitting a cluster's schools would zoom without end.
    m.options["maxZoom"] = MAX_ZOOM
    m.options["minZoom"] = MIN_ZOOM
    m.options["zoomSnap"] = ZOOM_SNAP
    if tiles:
        # control=False: always on, so the layer control's radio buttons stay for the metrics.
        # max_native_zoom: past the deepest zoom the server has (6 for the embedded tiles),
        # Leaflet stretches those tiles instead of asking for tiles that do not exist.
        options: dict[str, Any] = {"max_native_zoom": max_native_zoom} if max_native_zoom is not None else {}
        basemap = folium.TileLayer(
            tiles=tiles,
            attr=attribution or "Map tiles",
            name="Base map",
            control=False,
            max_zoom=MAX_ZOOM,
            show=layers is None,
            **options,
        ).add_to(m)
        if layers is not None:
            layers["basemap"] = basemap.get_name()
    return m


class SchoolClusters(folium.FeatureGroup):
    """An empty layer that the page script fills with the school clusters of the current view.

    ``static/js/csmap-map.js`` clusters the schools for the zoom on show and, at each
    ``moveend``, puts only the clusters and lone schools in view into this feature group:
    tens of Leaflet layers instead of one per school in Leaflet.markercluster's tree, whose
    every-zoom build held up the page (issue #5, Speed). It needs no script or stylesheet of
    its own: the page script draws the clusters as that plugin does. The clustering settings
    travel as the layer's Leaflet options (``clusterRadius``, ``clusterOffZoom``).
    """

    # folium.FeatureGroup passes its options as L.featureGroup's first argument, which Leaflet
    # reads as the layers (L.featureGroup(layers?, options?)), so they would be lost.
    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.featureGroup(null, {{ this.options|tojavascript }});
        {% endmacro %}
        """
    )

    def __init__(
        self, name: str, *, radius_px: int = CLUSTER_RADIUS_PX, off_zoom: int = CLUSTER_OFF_ZOOM
    ) -> None:
        super().__init__(name=name, cluster_radius=radius_px, cluster_off_zoom=off_zoom)
        self._name = "SchoolClusters"


def _schools_cluster(m: folium.Map) -> SchoolClusters:
    # Clusters stop at street scale so schools a block apart can still be told apart.
    clusters = SchoolClusters("Community schools")
    clusters.add_to(m)
    return clusters


def _fit_bounds(m: folium.Map, bounds: Sequence[Sequence[float]]) -> None:
    """Fit the view at load without an animated zoom (nothing should move while layers are filled)."""
    m.fit_bounds(bounds)
    fit = [child for child in m._children.values() if isinstance(child, FitBounds)][-1]
    fit.options["animate"] = False


def national_map(
    metrics: Sequence[tuple[str, str]],
    *,
    tiles: str | None = None,
    attribution: str | None = None,
    max_native_zoom: int | None = None,
) -> tuple[folium.Map, dict[str, str]]:
    """Build the national map: one base layer per choropleth metric, coalitions, clustered schools.

    Parameters
    ----------
    metrics : sequence of (key, label)
        The choropleth metrics, the first shown at load; each becomes a base
        layer (a radio button in the layer control).
    tiles, attribution : str, optional
        A tile URL template and its attribution; None draws a plain background.

    Returns
    -------
    (folium.Map, dict)
        The map, and the layer roles to JavaScript variable names.
    """
    # The basemap comes after the states and schools (csmap-map.js): on a phone they show some
    # 100 ms sooner when its tiles are not fetched, decoded and laid out first (issue 15, point 8).
    layers: dict[str, str] = {}
    m = _base_map(
        US_CENTER,
        US_ZOOM,
        tiles=tiles,
        attribution=attribution,
        max_native_zoom=max_native_zoom,
        layers=layers,
    )
    _fit_bounds(m, CONUS_BOUNDS)
    for i, (key, label) in enumerate(metrics):
        group = folium.FeatureGroup(name=label, overlay=False, show=i == 0).add_to(m)
        layers[f"metric:{key}"] = group.get_name()
    layers["coalitions"] = (
        folium.FeatureGroup(name="Coalition status (outlines)", show=True).add_to(m).get_name()
    )
    layers["schools"] = _schools_cluster(m).get_name()
    Fullscreen(position="topleft").add_to(m)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    return m, layers


def state_map(
    bounds: Sequence[Sequence[float]],
    *,
    tiles: str | None = None,
    attribution: str | None = None,
    max_native_zoom: int | None = None,
) -> tuple[folium.Map, dict[str, str]]:
    """Build a state's map: its counties shaded by unserved children, and its clustered schools.

    Parameters
    ----------
    bounds : [[south, west], [north, east]]
        The state's extent in WGS84 degrees (folium order: lat, lon).
    """
    (south, west), (north, east) = bounds
    layers: dict[str, str] = {}  # the basemap comes after the counties and schools, as on national_map
    m = _base_map(
        ((south + north) / 2, (west + east) / 2),
        6,
        tiles=tiles,
        attribution=attribution,
        max_native_zoom=max_native_zoom,
        layers=layers,
    )
    _fit_bounds(m, [[south, west], [north, east]])
    layers["counties"] = folium.FeatureGroup(name="Counties: unserved children").add_to(m).get_name()
    layers["schools"] = _schools_cluster(m).get_name()
    Fullscreen(position="topleft").add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    return m, layers


def find_map(
    lat: float,
    lon: float,
    radius_mi: float,
    *,
    tiles: str | None = None,
    attribution: str | None = None,
    max_native_zoom: int | None = None,
) -> tuple[folium.Map, dict[str, str]]:
    """Build the "schools near me" map: the searched point, the search circle and the results layer."""
    m = _base_map((lat, lon), 10, tiles=tiles, attribution=attribution, max_native_zoom=max_native_zoom)
    circle = folium.Circle(
        location=[lat, lon],
        radius=radius_mi * METERS_PER_MILE,
        color="#2c7fb8",
        weight=2,
        fill=True,
        fill_opacity=0.05,
        interactive=False,
    )
    circle.add_to(m)
    # The view fits the circle; the page script widens it when the nearest schools lie beyond.
    degrees_lat = radius_mi / 69.0  # one degree of latitude is about 69 miles
    degrees_lon = radius_mi / max(69.0 * math.cos(math.radians(lat)), 1e-6)
    _fit_bounds(m, [[lat - degrees_lat, lon - degrees_lon], [lat + degrees_lat, lon + degrees_lon]])
    layers = {
        "results": folium.FeatureGroup(name="Schools found").add_to(m).get_name(),
        "origin": folium.FeatureGroup(name="Searched place", control=False).add_to(m).get_name(),
    }
    Fullscreen(position="topleft").add_to(m)
    return m, layers


def school_map(
    lat: float,
    lon: float,
    nearby: Sequence[Sequence[float]] = (),
    *,
    tiles: str | None = None,
    attribution: str | None = None,
    max_native_zoom: int | None = None,
) -> tuple[folium.Map, dict[str, str]]:
    """Build a school page's small map: the school, and the nearby Community Schools as lighter dots.

    The points are drawn here, with no text: the page lists the names, so no data string reaches
    the map's script. ``nearby`` holds ``(lat, lon)`` pairs; the view fits the school and them.
    """
    m = _base_map((lat, lon), 13, tiles=tiles, attribution=attribution, max_native_zoom=max_native_zoom)
    for near_lat, near_lon in nearby:
        folium.CircleMarker(
            location=[near_lat, near_lon],
            radius=6,
            color="#ffffff",
            weight=1.5,
            fill=True,
            fill_color="#4b5563",
            fill_opacity=0.85,
            interactive=False,
        ).add_to(m)
    folium.CircleMarker(
        location=[lat, lon],
        radius=9,
        color="#ffffff",
        weight=2.5,
        fill=True,
        fill_color="#b2182b",
        fill_opacity=1,
        interactive=False,
    ).add_to(m)
    points = [(lat, lon), *((float(a), float(b)) for a, b in nearby)]
    if len(points) > 1:
        south, north = min(p[0] for p in points), max(p[0] for p in points)
        west, east = min(p[1] for p in points), max(p[1] for p in points)
        # Padding keeps the edge dots whole; zoom 14 at most, so two close schools keep some context.
        m.fit_bounds([[south, west], [north, east]], padding=(28, 28), max_zoom=14)
        fit = [child for child in m._children.values() if isinstance(child, FitBounds)][-1]
        fit.options["animate"] = False
    Fullscreen(position="topleft").add_to(m)
    return m, {}


def plan_map(
    bounds: Sequence[Sequence[float]],
    *,
    tiles: str | None = None,
    attribution: str | None = None,
    max_native_zoom: int | None = None,
) -> tuple[folium.Map, dict[str, str]]:
    """Build the expansion planner's map: existing schools, proposed sites, the user's sites.

    Every layer starts empty; the page script (``static/js/plan.js``) draws the
    state (and county) outlines as a backdrop that works with no tiles, the
    plan's numbered sites and the ZCTAs they newly reach, and adds a candidate
    site wherever the map is clicked. No clustering: a click on the map must
    reach the map, so the backdrop and the existing schools are non-interactive.

    Parameters
    ----------
    bounds : [[south, west], [north, east]]
        The plan's scope (a state, or the lower 48 for the nation), WGS84
        degrees in folium order (lat, lon).
    """
    (south, west), (north, east) = bounds
    m = _base_map(
        ((south + north) / 2, (west + east) / 2),
        6,
        tiles=tiles,
        attribution=attribution,
        max_native_zoom=max_native_zoom,
    )
    _fit_bounds(m, [[south, west], [north, east]])
    layers = {
        "land": folium.FeatureGroup(name="States and counties", control=False).add_to(m).get_name(),
        "schools": folium.FeatureGroup(name="Existing Community Schools").add_to(m).get_name(),
        "reached": folium.FeatureGroup(name="ZCTAs newly reached").add_to(m).get_name(),
        "picks": folium.FeatureGroup(name="Proposed sites").add_to(m).get_name(),
        "sites": folium.FeatureGroup(name="Your candidate sites").add_to(m).get_name(),
    }
    Fullscreen(position="topleft").add_to(m)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    return m, layers


def _drop_jquery(m: folium.Map) -> None:
    """Drop jQuery from the map's assets: only folium.Popup and keep_in_front use it, and we use neither."""
    m.default_js = [(name, url) for name, url in m.default_js if name != "jquery"]


def render_map(m: folium.Map, layers: dict[str, str], static_url: Callable[[str], str] | str) -> MapPage:
    """Localize a map's assets and split its rendered figure into a :class:`MapPage`.

    Parameters
    ----------
    m : folium.Map
        A map from one of the builders (it is changed in place, as folium's ``add_to`` does).
    layers : dict
        The builder's layer roles.
    static_url : callable or str
        How to reach ``webmap/static/vendor`` (see :func:`webmap.vendor.localize`).
    """
    localize(m, static_url, max_zoom=MAX_ZOOM)
    _drop_jquery(m)
    figure = cast(Figure, m.get_root())
    figure.render()  # renders every child into the figure's header, html and script
    links = list(figure.header._children.values())
    js = [link.url for link in links if isinstance(link, JavascriptLink)]
    css = [link.url for link in links if isinstance(link, CssLink)]
    return MapPage(
        map_name=m.get_name(),
        css=css,
        js=js,
        html=figure.html.render(),
        script=figure.script.render(),
        layers=dict(layers),
    )
