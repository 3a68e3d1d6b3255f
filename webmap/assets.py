"""Asset bundles: a map page's stylesheets in one file and its vendored scripts in another.

A map page needed three stylesheets (the site's, Leaflet's, the fullscreen control's)
and two vendored scripts, each its own request. In headless Chromium every request
cost the page's main thread a few milliseconds before the map could draw, so the
national page now asks for one stylesheet and one script bundle instead (issue #5,
Speed: about 10% off the time to draw, measured with ``scripts/bench/bench_pages.py``).

A bundle is the files joined in their load order, each after a comment naming it and
its licence (``static/vendor/README.md`` has the details), with the relative ``url()``
references of a stylesheet rewritten to the file's own folder, since the bundle is
served from elsewhere. The icons of the layer and fullscreen controls, drawn on every
map, are written into the stylesheet as ``data:`` URIs (under 1.3 KB each), which
saves two more requests. Its URL ends in a hash of its content
(``/assets/<hash>.css``), so it can be cached for a year: a changed file makes a new
URL. Bundles live in memory, made on first use from the files under ``static/``.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, url_for

from webmap.http_cache import send_bytes

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


def join_files(paths: Sequence[Path], kind: str, static_dir: Path, static_url: str) -> bytes:
    """Join static files into one bundle body, each after a comment naming it.

    Parameters
    ----------
    paths : sequence of Path
        Files under ``static_dir``, in load order.
    kind : {"css", "js"}
        What they are.
    static_dir : Path
        The app's static folder.
    static_url : str
        The URL the static folder is served under, ending in ``/``.
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
                f"{static_url}{folder}/" if folder != "." else static_url,
                lambda ref, folder=path.parent: _data_uri(folder / ref, static_dir),
            )
        # A script that ends without a newline or semicolon must not run into the next one.
        parts.append(f"/* ---- {_licence_note(path, static_dir)} ---- */\n{text.rstrip()}\n")
        if kind == "js":
            parts.append(";\n")
    return "".join(parts).encode("utf-8")


class Bundles:
    """The bundles one app has made, by name (thread-safe)."""

    def __init__(self) -> None:
        self._by_name: dict[str, Bundle] = {}
        self._by_files: dict[tuple[str, tuple[str, ...]], str] = {}
        self._lock = threading.Lock()

    def add(self, paths: Sequence[Path], kind: str, static_dir: Path, static_url: str) -> str:
        """Return the name of the bundle of ``paths``, making it on first use."""
        key = (static_url, tuple(str(p) for p in paths))
        with self._lock:
            name = self._by_files.get(key)
            if name is not None:
                return name
        body = join_files(paths, kind, static_dir, static_url)
        name = f"{hashlib.blake2b(body, digest_size=10).hexdigest()}.{kind}"
        with self._lock:
            self._by_name.setdefault(name, Bundle(name, body, MIMETYPES[kind]))
            self._by_files[key] = name
        return name

    def get(self, name: str) -> Bundle | None:
        """Return the bundle called ``name``, or None."""
        with self._lock:
            return self._by_name.get(name)


def bundle_url(urls: Sequence[str], kind: str) -> str:
    """Return the URL of one bundle of the given static file URLs (of this app), in order.

    Parameters
    ----------
    urls : sequence of str
        URLs that ``url_for("static", ...)`` made, e.g. ``/static/vendor/leaflet/leaflet.css``.
    kind : {"css", "js"}
        What they are.

    Raises
    ------
    ValueError
        If a URL is not one of this app's static files.
    """
    static_url = url_for("static", filename="")
    static_dir = Path(current_app.static_folder).resolve()
    paths = []
    for url in urls:
        if not url.startswith(static_url):
            msg = f"{url!r} is not a static file of this app (under {static_url!r})"
            raise ValueError(msg)
        path = (static_dir / url[len(static_url) :]).resolve()
        if not path.is_relative_to(static_dir) or not path.is_file():
            msg = f"{url!r} names no static file"
            raise ValueError(msg)
        paths.append(path)
    name = current_app.extensions[_EXTENSION].add(paths, kind, static_dir, static_url)
    return url_for("assets.bundle", name=name)


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
    """Give the app its bundle store and the route that serves it."""
    app.extensions[_EXTENSION] = Bundles()
    app.register_blueprint(bp)


def bundle_page(page):
    """Return a map page (``webmap.maps.MapPage``) whose stylesheets and scripts are one bundle each.

    The stylesheet bundle starts with the site's own ``css/app.css``, so a map page
    links no other stylesheet (see ``templates/base.html``, block ``stylesheets``).
    """
    site_css = url_for("static", filename="css/app.css")
    return dataclasses.replace(
        page,
        css=[bundle_url([site_css, *page.css], "css")],
        js=[bundle_url(page.js, "js")] if page.js else [],
    )
