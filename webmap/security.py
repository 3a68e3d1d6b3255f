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
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, g

logger = logging.getLogger(__name__)

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
        return response
