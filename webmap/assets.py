"""Asset bundles: a map page's stylesheets in one file and its vendored scripts in another.

A map page needed three stylesheets (the site's, Leaflet's, the fullscreen control's)
and two vendored scripts, each its own request. In headless Chromium every request
cost the page's main thread a few milliseconds before the map could draw, so the
national page now asks for one stylesheet and one script bundle instead (issue #5,
Speed: about 10% off the time to draw, measured with ``scripts/bench/bench_pages.py``).

A bundle is the files joined in their load order, each after a comment naming it and
its licence (``static/vendor/README.md`` has the details), with the relative ``url()``
references of a stylesheet rewritten to the file's own folder, since the bundle is
served from elsewhere (``../static/...``: relative, so it holds under any script root).
The icons of the layer and fullscreen controls, drawn on every map, are written into
the stylesheet as ``data:`` URIs (under 1.3 KB each), which saves two more requests.
Its URL ends in a hash of its content (``/assets/<hash>.css``), so it can be cached
for a year: a changed file makes a new URL.

The bundles are declared here (:data:`BUNDLES`) and made when the app is created, so
every worker process serves every bundle, whichever process rendered the page that
links it. A map whose assets match no declared bundle keeps its separate links (and
a warning is logged), so adding a folium plugin can slow a page but never break it.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, url_for

from webmap.http_cache import send_bytes

logger = logging.getLogger(__name__)
bp = Blueprint("assets", __name__, url_prefix="/assets")

#: A year, as for any URL whose content never changes (it carries its hash).
BUNDLE_MAX_AGE = 365 * 24 * 3600
MIMETYPES = {"css": "text/css", "js": "text/javascript"}
_NAME = re.compile(r"^[0-9a-f]{20}\.(css|js)$")
#: ``url(...)`` in a stylesheet, quoted or not; group 2 is the reference.
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")\s]+)\1\s*\)""")
_SOURCE_MAP = re.compile(r"^\s*(?://|/\*)# sourceMappingURL=\S+(?:\s*\*/)?\s*$", re.MULTILINE)
_EXTENSION = "csmap_assets"
#: Images, relative to static/, written into a stylesheet bundle as data: URIs. Never Leaflet's
#: marker icons: Leaflet finds its image folder from the URL of images/marker-icon.png.
INLINE_IMAGES = frozenset(
    {
        "vendor/leaflet/images/layers.png",
        "vendor/leaflet/images/layers-2x.png",
        "vendor/leaflet.fullscreen/icon-fullscreen.svg",
    }
)
_IMAGE_TYPES = {".png": "image/png", ".svg": "image/svg+xml"}

#: The helpers the map pages' own scripts share (``csmap-map.js``, ``plan.js``), which every
#: map page loads at the end of its script bundle, after Leaflet and before the page's script.
PAGE_HELPERS = "js/csmap-common.js"
#: Every bundle, as static files in load order: what folium's maps with the Fullscreen
#: plugin load (webmap.maps), the site's stylesheet first and the page helpers last.
MAP_STYLES = ("css/app.css", "vendor/leaflet/leaflet.css", "vendor/leaflet.fullscreen/Control.FullScreen.css")
#: The records' map layer (Coalition Communities; docs/RECORDS.md) rides in the same bundle: it
#: waits for the page's load and does nothing on a page without its placeholder.
RECORDS_SCRIPT = "js/csmap-records.js"
#: The school clusters (csmap.SchoolIndex), map context (labels, outlines, insets), the find page's
#: script and the maps' keyboard access (csmap.a11y) ride in the same bundle (issues 15 and 16).
MAP_PAGE_SCRIPTS = ("js/csmap-clusters.js", "js/csmap-context.js", "js/csmap-find.js", "js/csmap-a11y.js")
MAP_SCRIPTS = (
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet.fullscreen/Control.FullScreen.js",
    PAGE_HELPERS,
    RECORDS_SCRIPT,
    *MAP_PAGE_SCRIPTS,
)
BUNDLES = (MAP_STYLES, MAP_SCRIPTS)


@dataclass(frozen=True)
class Bundle:
    """One bundle: its name (``<hash>.<kind>``), body and media type."""

    name: str
    body: bytes
    mimetype: str


def _licence_note(path: Path, static_dir: Path) -> str:
    """Name the file and, for a vendored one, the LICENSE beside it."""
    relative = path.relative_to(static_dir).as_posix()
    licence = path.parent / "LICENSE"
    if licence.is_file() and licence.parent != static_dir:
        return f"{relative} (licence: static/{licence.relative_to(static_dir).as_posix()})"
    return relative


def rebase_css_urls(css: str, folder_url: str, inline: Callable[[str], str | None] | None = None) -> str:
    """Rewrite a stylesheet's relative ``url()`` references to absolute ones under ``folder_url``.

    Absolute paths, ``data:`` URIs, fragment-only references (``#default#VML``) and
    URLs with a scheme are kept as they are.

    Parameters
    ----------
    css : str
        The stylesheet text.
    folder_url : str
        URL of the folder the stylesheet is served from, ending in ``/``.
    inline : callable, optional
        Given a relative reference, returns a ``data:`` URI to write instead, or None.
    """

    def rebase(match: re.Match[str]) -> str:
        quote, ref = match.group(1), match.group(2)
        if ref.startswith(("/", "#", "data:")) or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", ref):
            return match.group(0)
        data_uri = inline(ref) if inline else None
        if data_uri:
            return f'url("{data_uri}")'
        return f"url({quote}{folder_url}{ref}{quote})"

    return _CSS_URL.sub(rebase, css)


def _data_uri(path: Path, static_dir: Path) -> str | None:
    """Return an INLINE_IMAGES file as a base64 ``data:`` URI, or None for any other file."""
    resolved = path.resolve()
    if not resolved.is_relative_to(static_dir):
        return None
    if resolved.relative_to(static_dir).as_posix() not in INLINE_IMAGES:
        return None
    encoded = base64.b64encode(resolved.read_bytes()).decode("ascii")
    return f"data:{_IMAGE_TYPES[resolved.suffix]};base64,{encoded}"


def _data_uri_beside(folder: Path, static_dir: Path, ref: str) -> str | None:
    """:func:`_data_uri` for a ``url()`` reference relative to the stylesheet's folder."""
    return _data_uri(folder / ref, static_dir)


def join_files(paths: Sequence[Path], kind: str, static_dir: Path, static_from_bundle: str) -> bytes:
    """Join static files into one bundle body, each after a comment naming it.

    Parameters
    ----------
    paths : sequence of Path
        Files under ``static_dir``, in load order.
    kind : {"css", "js"}
        What they are.
    static_dir : Path
        The app's static folder.
    static_from_bundle : str
        The static folder's URL relative to the bundle's, ending in ``/`` (``../static/``).
    """
    parts = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        # Source maps are not vendored, and a bundle's lines are not the file's lines anyway.
        text = _SOURCE_MAP.sub("", text)
        if kind == "css":
            folder = path.parent.relative_to(static_dir).as_posix()
            text = rebase_css_urls(
                text,
                f"{static_from_bundle}{folder}/" if folder != "." else static_from_bundle,
                functools.partial(_data_uri_beside, path.parent, static_dir),
            )
        # A script that ends without a newline or semicolon must not run into the next one.
        parts.append(f"/* ---- {_licence_note(path, static_dir)} ---- */\n{text.rstrip()}\n")
        if kind == "js":
            parts.append(";\n")
    return "".join(parts).encode("utf-8")


class Bundles:
    """An app's bundles, made once from the declared file lists; read-only afterwards."""

    def __init__(self, declared: Sequence[tuple[str, ...]], static_dir: Path, static_url_path: str) -> None:
        self.static_dir = static_dir.resolve()
        static_from_bundle = f"..{static_url_path.rstrip('/')}/"
        self._by_name: dict[str, Bundle] = {}
        self._by_files: dict[tuple[str, ...], str] = {}
        for files in declared:
            kind = files[0].rsplit(".", 1)[-1]
            body = join_files([self.static_dir / f for f in files], kind, self.static_dir, static_from_bundle)
            name = f"{hashlib.blake2b(body, digest_size=10).hexdigest()}.{kind}"
            self._by_name[name] = Bundle(name, body, MIMETYPES[kind])
            self._by_files[files] = name

    def name_for(self, files: Sequence[str]) -> str | None:
        """Return the bundle name of exactly these static files (relative paths, in order), or None."""
        return self._by_files.get(tuple(files))

    def get(self, name: str) -> Bundle | None:
        """Return the bundle called ``name``, or None."""
        return self._by_name.get(name)


def _static_paths(urls: Sequence[str]) -> list[str] | None:
    """Turn this app's static URLs into paths relative to the static folder; None if one is not."""
    static_url = url_for("static", filename="")
    if not all(url.startswith(static_url) for url in urls):
        return None
    return [url[len(static_url) :] for url in urls]


def bundle_page(page):
    """Return a map page (``webmap.maps.MapPage``) whose stylesheets and scripts are one bundle each.

    The stylesheet bundle starts with the site's own ``css/app.css``, so a map page
    links no other stylesheet (see ``templates/base.html``, block ``stylesheets``), and
    the script bundle ends with the page helpers (:data:`PAGE_HELPERS`).
    Assets that match no declared bundle stay as separate links, with a warning.
    """
    bundles: Bundles = current_app.extensions[_EXTENSION]
    site_css = url_for("static", filename="css/app.css")
    helpers = [url_for("static", filename=path) for path in (PAGE_HELPERS, RECORDS_SCRIPT, *MAP_PAGE_SCRIPTS)]
    css, js = [site_css, *page.css], [*page.js, *helpers]
    css_name = bundles.name_for(_static_paths(css) or ())
    js_name = bundles.name_for(_static_paths(js) or ())
    if css_name is None or js_name is None:
        logger.warning("map assets match no bundle in webmap.assets.BUNDLES, linked one by one: %s", css + js)
        return dataclasses.replace(page, css=css, js=js)
    return dataclasses.replace(
        page,
        css=[url_for("assets.bundle", name=css_name)],
        js=[url_for("assets.bundle", name=js_name)],
    )


@bp.get("/<name>")
def bundle(name: str):
    """Serve a bundle; its name carries its hash, so it may be cached for a year."""
    found = current_app.extensions[_EXTENSION].get(name) if _NAME.match(name) else None
    if found is None:
        abort(404, description=f"no asset bundle {name!r} (bundles are named by the page that uses them)")
    response = send_bytes(found.body, found.mimetype, max_age=BUNDLE_MAX_AGE, charset="utf-8")
    response.headers["Cache-Control"] += ", immutable"
    return response


def init_app(app: Flask) -> None:
    """Make the declared bundles and register the route that serves them."""
    static_folder = app.static_folder or str(Path(app.root_path) / "static")
    app.extensions[_EXTENSION] = Bundles(BUNDLES, Path(static_folder), app.static_url_path or "/static")
    app.register_blueprint(bp)
