"""Serve folium's JavaScript and CSS from the app's own static files, never from a CDN.

folium 0.20 and branca 0.8 point every page at CDNs (jsDelivr, cdnjs, code.jquery.com,
bootstrapcdn). None of them can be reached where this app runs, so :func:`localize`
rewrites a map to the copies under ``webmap/static/vendor/`` (see its README.md for
versions, licences and the ``npm pack`` each file came from) and drops the defaults
our maps never use. :func:`find_external_assets` lists whatever a rendered page would
still fetch from elsewhere, for tests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

import folium
from branca.element import CssLink, Element, Figure, JavascriptLink

from geo.errors import OfflineAssetError

logger = logging.getLogger(__name__)

#: Folder that Flask serves as ``/static/vendor``.
VENDOR_DIR = Path(__file__).resolve().parent / "static" / "vendor"

#: CDN URL emitted by folium 0.20.0 / branca 0.8.2 -> vendored file, relative to VENDOR_DIR.
#: Versions are exactly the ones those URLs name; each came from ``npm pack NAME@VERSION``.
LOCAL_ASSETS: dict[str, str] = {
    # folium.Map.default_js / default_css
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet/leaflet.css",
    # jQuery stays: folium.Popup builds its content with $(`...`)[0] and
    # Map(keep_in_front) calls $(document).ready (folium/map.py, folium/folium.py).
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    # folium.plugins.MarkerCluster (and FastMarkerCluster, its subclass)
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js": (
        "leaflet.markercluster/leaflet.markercluster.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css": (
        "leaflet.markercluster/MarkerCluster.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css": (
        "leaflet.markercluster/MarkerCluster.Default.css"
    ),
    # folium.plugins.Fullscreen. The npm package has no .min.js (jsDelivr minifies on
    # the fly), so the 8 KB source file is served instead.
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js": (
        "leaflet.fullscreen/Control.FullScreen.js"
    ),
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css": (
        "leaflet.fullscreen/Control.FullScreen.css"
    ),
    # branca.colormap.ColorMap.render (the legend of folium.Choropleth) draws with d3 v3.
    "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js": "d3/d3.min.js",
}

#: folium.Map defaults that only folium.Icon (Leaflet.awesome-markers with Bootstrap
#: glyphicons or Font Awesome) needs. Our maps use GeoJson, CircleMarker, default
#: Leaflet markers, popups, tooltips, LayerControl, MarkerCluster and Fullscreen, none
#: of which touch them, so they are dropped rather than vendored (about 1.5 MB of CSS
#: and fonts saved).
DROPPED_ASSETS: frozenset[str] = frozenset(
    {
        "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js",
        "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js",
        "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css",
        "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css",
        "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css",
        "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css",
        "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css",
    }
)

#: Leaflet's own default for TileLayer maxZoom (https://leafletjs.com/reference.html#tilelayer-maxzoom);
#: the zoom at which MarkerCluster stops clustering.
DEFAULT_MAX_ZOOM = 18

_GUARD_NAME = "csmap_offline_asset_guard"


def is_external_url(url: str) -> bool:
    """Return True if the browser would fetch ``url`` from a host other than the page's.

    Root-relative (``/static/...``), relative and ``data:`` URLs are local; anything
    with a network location (``https://cdn...``, ``//cdn...``) is external.
    """
    parts = urlsplit(url.strip())
    return bool(parts.netloc) or parts.scheme not in ("", "data")


def localize(
    m: folium.Map,
    static_url: Callable[[str], str] | str = "/static/vendor",
    *,
    max_zoom: int = DEFAULT_MAX_ZOOM,
) -> folium.Map:
    """Point a folium map at the vendored assets so its page loads with no network.

    The map is changed in place (as folium's own ``add_to`` does) and returned. Every
    element under ``m.get_root()`` gets its ``default_js``/``default_css`` rewritten to
    local URLs, and unused Map defaults (Bootstrap, awesome-markers, Font Awesome) are
    dropped. A guard added to the figure also rewrites links that elements add while
    rendering (branca's colormap adds d3 then) or that belong to children added after
    this call, so render the page with ``m.get_root().render()``.

    Parameters
    ----------
    m : folium.Map
        The map to rewrite.
    static_url : callable or str, default "/static/vendor"
        URL prefix of ``webmap/static/vendor``, or a function from a vendored path such
        as ``"leaflet/leaflet.js"`` to its URL, e.g.
        ``lambda path: url_for("static", filename=f"vendor/{path}")``. It is called
        here, once per vendored file, not at render time.
    max_zoom : int, default 18
        ``maxZoom`` set on the map when it has none (``tiles=None`` leaves it unset and
        Leaflet.markercluster then throws "Map has no maxZoom specified").

    Returns
    -------
    folium.Map
        ``m`` itself.

    Raises
    ------
    OfflineAssetError
        If the map uses an element whose assets are not vendored (for example
        ``folium.Icon`` or a plugin not listed in ``LOCAL_ASSETS``).
    """
    local_urls = _local_urls(static_url)
    figure = m.get_root()
    elements = list(_iter_elements(figure))
    _refuse_unvendored(elements)
    # Resolve everything before changing anything, so a refused map is left as it was.
    with_assets = [el for el in elements if hasattr(el, "default_js") and hasattr(el, "default_css")]
    rewritten = [
        (_rewrite_links(el.default_js, local_urls, el), _rewrite_links(el.default_css, local_urls, el))
        for el in with_assets
    ]
    for el, (js, css) in zip(with_assets, rewritten, strict=True):
        # Instance attributes shadow the class lists, which stay untouched for other maps.
        el.default_js, el.default_css = js, css
    if not any(key in m.options for key in ("maxZoom", "max_zoom")):
        m.options["maxZoom"] = max_zoom
    if isinstance(figure, Figure):
        figure.add_child(_OfflineAssetGuard(local_urls), name=_GUARD_NAME)
    logger.debug("localized %d elements of %s to %s", len(rewritten), m.get_name(), static_url)
    return m


def find_asset_urls(html: str) -> list[str]:
    """List the URLs that a page's ``<script src>``, ``<link href>`` and ``<img src>`` load."""
    parser = _AssetParser()
    parser.feed(html)
    parser.close()
    return parser.urls


def find_external_assets(html: str) -> list[str]:
    """List the asset URLs of a page that are not served by the page's own host."""
    return [url for url in find_asset_urls(html) if is_external_url(url)]


def _local_urls(static_url: Callable[[str], str] | str) -> dict[str, str]:
    """Map each vendored CDN URL to the URL this app serves the file under."""
    to_url: Callable[[str], str]
    if isinstance(static_url, str):
        prefix = static_url.rstrip("/")

        def to_url(path: str) -> str:
            return f"{prefix}/{path}"

    else:
        to_url = static_url
    return {cdn_url: to_url(path) for cdn_url, path in LOCAL_ASSETS.items()}


def _iter_elements(root: Element) -> Iterator[Element]:
    """Yield ``root`` and all its descendants, including a figure's header/html/script."""
    stack = [root]
    while stack:
        element = stack.pop()
        yield element
        stack.extend(element._children.values())
        if isinstance(element, Figure):
            stack.extend([element.header, element.html, element.script])


def _refuse_unvendored(elements: list[Element]) -> None:
    """Fail early on folium.Icon (its assets are dropped) and on hand-added CDN links."""
    for element in elements:
        if isinstance(element, folium.Icon):
            msg = (
                f"{element.get_name()!r} is a folium.Icon, which needs Leaflet.awesome-markers, "
                "Bootstrap and Font Awesome; they are not vendored. Use folium.CircleMarker, "
                "folium.DivIcon or the default marker instead."
            )
            raise OfflineAssetError(msg)
        if isinstance(element, (JavascriptLink, CssLink)) and is_external_url(element.url):
            if element.url not in LOCAL_ASSETS and element.url not in DROPPED_ASSETS:
                msg = f"asset {element.url!r} added to {element.get_name()!r} is not vendored"
                raise OfflineAssetError(msg)


def _rewrite_links(
    links: list[tuple[str, str]], local_urls: Mapping[str, str], owner: Element
) -> list[tuple[str, str]]:
    """Return ``(name, url)`` pairs with CDN URLs made local and dropped assets removed."""
    rewritten = []
    for name, url in links:
        if not is_external_url(url):
            rewritten.append((name, url))
        elif url in local_urls:
            rewritten.append((name, local_urls[url]))
        elif url not in DROPPED_ASSETS:
            msg = (
                f"{type(owner).__name__} asset {name!r} = {url!r} is not vendored; add it to "
                "webmap/static/vendor and LOCAL_ASSETS"
            )
            raise OfflineAssetError(msg)
    return rewritten


class _OfflineAssetGuard(Element):
    """Rewrites the figure header's links just before the header is written out.

    ``Figure.render`` renders its children in order, then its header; this element is
    added after the map, so it sees every link the map tree added while rendering.
    """

    def __init__(self, local_urls: Mapping[str, str]) -> None:
        super().__init__()
        self._name = "OfflineAssetGuard"
        self.local_urls = dict(local_urls)

    def render(self, **kwargs: object) -> str:
        header = cast(Figure, self.get_root()).header
        for name, link in list(header._children.items()):
            if not isinstance(link, (JavascriptLink, CssLink)) or not is_external_url(link.url):
                continue
            if link.url in self.local_urls:
                link.url = self.local_urls[link.url]
            elif link.url in DROPPED_ASSETS:
                del header._children[name]
            else:
                msg = f"asset {link.url!r} ({name!r}) added while rendering is not vendored"
                raise OfflineAssetError(msg)
        return ""


class _AssetParser(HTMLParser):
    """Collects the URLs of elements that make the browser fetch a file on load."""

    _URL_ATTRIBUTE = {"script": "src", "link": "href", "img": "src"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = self._URL_ATTRIBUTE.get(tag)
        for key, value in attrs:
            if key == wanted and value:
                self.urls.append(value)

    handle_startendtag = handle_starttag
