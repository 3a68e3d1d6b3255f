"""Response headers that limit what a page may load and run: CSP and friends.

Choice for scripts: folium writes each map as an inline script, so every page
gets a fresh random nonce per request (``g.csp_nonce``; templates use
``{{ csp_nonce }}``) and ``script-src 'self' 'nonce-…'`` allows exactly the
inline scripts our templates tag, and the local files. No ``'unsafe-inline'``
and no ``'unsafe-eval'`` for scripts: an injected ``<script>`` or ``onerror=``
attribute does not run even if escaping ever failed.

Styles: ``style-src 'self' 'unsafe-inline'``. Leaflet and its plugins position
everything through inline styles, and folium and Leaflet controls emit
``style=`` attributes in markup they build; styles cannot run code, so this
is the accepted trade-off (it is what Leaflet's own documentation assumes).

Images: ``'self'`` and ``data:`` (Leaflet's layer-control icons), plus the
origin of the configured tile server when there is one. ``connect-src
'self'``: the page scripts fetch only from this app.

Beyond CSP, every response carries:

* ``Permissions-Policy``: geolocation for this origin only ("schools near me"
  asks for it), and the other powerful features denied;
* ``Cross-Origin-Opener-Policy: same-origin``;
* ``Cross-Origin-Resource-Policy``: ``cross-origin`` for the API, OGC API and
  tiles, which other sites' maps may load; ``same-origin`` for everything else.

CORS: ``Access-Control-Allow-Origin: *`` on GET, HEAD and OPTIONS of ``/api``
and ``/ogcapi``, as OGC API – Features recommends (part 1, § 7.8), so browser
clients on other origins can read the open data. No CORS header on POST (the
planner's uploads), on a preflight asking for any other method, or on staff
routes: a cross-origin page can neither read nor be granted anything there.
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, g, request

logger = logging.getLogger(__name__)

#: Path prefixes of the open data: CORS and a cross-origin resource policy.
OPEN_DATA_PREFIXES = ("/api", "/ogcapi")
#: Path prefixes other sites may embed (CORP cross-origin): the open data and map tiles.
CROSS_ORIGIN_PREFIXES = (*OPEN_DATA_PREFIXES, "/tiles")
#: Methods CORS allows on the open data (read only).
CORS_METHODS = ("GET", "HEAD", "OPTIONS")
#: Request headers a cross-origin client may send (conditional requests and content negotiation).
CORS_REQUEST_HEADERS = "Accept, Accept-Language, If-None-Match, If-Modified-Since, Content-Type"
#: Response headers a cross-origin client may read besides the CORS-safelisted ones.
CORS_EXPOSE_HEADERS = "ETag, Link, Content-Disposition, Content-Crs, OGC-NumberMatched, Retry-After"
#: Seconds a browser may cache a preflight answer (Chromium caps it at 7,200).
CORS_MAX_AGE = 7200
#: Geolocation for this origin only ("schools near me"); every other powerful feature denied.
#: Only features every current Chromium and Firefox recognise, so no console warnings.
PERMISSIONS_POLICY = (
    "geolocation=(self), camera=(), microphone=(), payment=(), usb=(), midi=(), "
    "magnetometer=(), gyroscope=(), accelerometer=()"
)

#: 128 random bits, as CSP Level 3 recommends for nonces (§ 7.2 "Nonce reuse").
NONCE_BYTES = 16


def get_nonce() -> str:
    """Return this request's CSP nonce (made on first use)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(NONCE_BYTES)
    return g.csp_nonce


def tile_origin(tiles: str | None) -> str | None:
    """Return the ``scheme://host`` a tile URL template loads from, with ``{s}`` subdomains as ``*``."""
    if not tiles:
        return None
    parts = urlsplit(tiles.replace("{s}", "a"))
    if not parts.scheme or not parts.netloc:
        return None
    host = parts.netloc.replace("a.", "*.", 1) if "{s}." in tiles else parts.netloc
    return f"{parts.scheme}://{host}"


def allow_framing() -> None:
    """Let any site frame this request's response: ``frame-ancestors *`` and no X-Frame-Options.

    The per-route override for the embeddable views (:mod:`webmap.embed`); every other
    response keeps ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``.
    """
    g.csp_frame_ancestors = "*"


def content_security_policy(nonce: str, tiles: str | None = None, frame_ancestors: str = "'none'") -> str:
    """Return the Content-Security-Policy header value for a response."""
    images = ["'self'", "data:"]
    origin = tile_origin(tiles)
    if origin:
        images.append(origin)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", f"'nonce-{nonce}'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": images,
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": [frame_ancestors],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes)


def is_staff_path(path: str) -> bool:
    """Return whether a path is a staff route (has a ``staff`` segment): no CORS, same-origin."""
    return "staff" in path.strip("/").split("/")


def cors_headers(method: str, path: str, requested_method: str | None = None) -> dict[str, str]:
    """Return the CORS headers of an answer to ``method path`` (empty where CORS is not granted).

    ``requested_method`` is a preflight's ``Access-Control-Request-Method``.
    """
    if method not in CORS_METHODS or not _under(path, OPEN_DATA_PREFIXES) or is_staff_path(path):
        return {}
    if method == "OPTIONS" and requested_method and requested_method.upper() not in CORS_METHODS:
        return {}
    headers = {"Access-Control-Allow-Origin": "*"}
    if method == "OPTIONS":
        headers["Access-Control-Allow-Methods"] = ", ".join(CORS_METHODS)
        headers["Access-Control-Allow-Headers"] = CORS_REQUEST_HEADERS
        headers["Access-Control-Max-Age"] = str(CORS_MAX_AGE)
    else:
        headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
    return headers


def resource_policy(path: str) -> str:
    """Return the Cross-Origin-Resource-Policy of a path: cross-origin for open data and tiles."""
    if _under(path, CROSS_ORIGIN_PREFIXES) and not is_staff_path(path):
        return "cross-origin"
    return "same-origin"


def init_app(app: Flask) -> None:
    """Add the CSP nonce to templates and the security headers to every response.

    A blueprint that sets its own Content-Security-Policy keeps it.
    """

    @app.context_processor
    def nonce_for_templates() -> dict[str, object]:
        return {"csp_nonce": get_nonce}

    @app.after_request
    def security_headers(response: Response) -> Response:
        framing = g.get("csp_frame_ancestors")
        if response.mimetype == "text/html":
            response.headers.setdefault(
                "Content-Security-Policy",
                content_security_policy(get_nonce(), app.config.get("TILES"), framing or "'none'"),
            )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not framing:
            response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Resource-Policy", resource_policy(request.path))
        for name in [name for name in response.headers.keys() if name.lower().startswith("access-control-")]:
            del response.headers[name]  # CORS is granted here only, by path and method
        requested = request.headers.get("Access-Control-Request-Method")
        response.headers.update(cors_headers(request.method, request.path, requested))
        if request.path == "/healthz":
            response.headers["Cache-Control"] = "no-store"
        return response
