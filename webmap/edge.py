"""The app's own edge, below Flask: the public origin, whole request bodies, and JSON depth.

* **Public origin.** With ``BASE_URL`` configured (``$CSMAP_BASE_URL``; ``csmap
  serve`` always sets it), every request is seen as addressed to that scheme,
  host and path prefix, whatever its ``Host`` or ``X-Forwarded-*`` headers say;
  so OGC links, the OpenAPI ``servers`` and redirects name the public origin,
  and a forged ``Host: evil.example`` can never end up in a cached answer.
  Without it (tests, a bare ``gunicorn``), only loopback host names are
  accepted (Flask's ``TRUSTED_HOSTS``); any other answers 400.
* **Chunked bodies.** A body sent without ``Content-Length`` (chunked) is read
  here up to ``MAX_BODY_BYTES`` plus one byte: over the limit it answers 413,
  never a silently truncated body; within it, the app sees an ordinary body
  with its ``Content-Length``, so each endpoint's own size check applies.
* **JSON depth.** ``'[' * 100000`` makes Python's JSON decoder raise
  ``RecursionError``; the app's JSON provider turns that into the ``ValueError``
  Flask answers 400 for.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask.json.provider import DefaultJSONProvider

logger = logging.getLogger(__name__)

#: Host names accepted when no BASE_URL is configured (the port is not compared).
LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]", "::1"]
#: Largest request body of any endpoint; the planner's uploads (5 MiB) are the largest today.
MAX_BODY_BYTES = 32 * 1024 * 1024

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class PublicOrigin:
    """WSGI middleware: address every request to ``base_url`` (scheme, host, port and prefix).

    Parameters
    ----------
    app : WSGI application
    base_url : str
        E.g. ``https://schools.example.org`` or ``https://example.org/csmap``.
    """

    def __init__(self, app: WSGIApp, base_url: str) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            msg = f"BASE_URL must be an absolute http(s) URL such as 'https://example.org'; got {base_url!r}"
            raise ValueError(msg)
        self.app = app
        self.scheme = parts.scheme
        self.host = parts.netloc
        self.server_name = parts.hostname
        self.server_port = str(parts.port or (443 if parts.scheme == "https" else 80))
        self.prefix = parts.path.rstrip("/")

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Rewrite the request's origin, then call the app."""
        environ["wsgi.url_scheme"] = self.scheme
        environ["HTTP_HOST"] = self.host
        environ["SERVER_NAME"] = self.server_name
        environ["SERVER_PORT"] = self.server_port
        for name in ("HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_PREFIX"):
            environ.pop(name, None)
        if self.prefix:
            path = environ.get("PATH_INFO", "")
            if path == self.prefix or path.startswith(self.prefix + "/"):
                environ["PATH_INFO"] = path[len(self.prefix) :] or "/"
            environ["SCRIPT_NAME"] = self.prefix
        return self.app(environ, start_response)


class WholeBodies:
    """WSGI middleware: read a body of unknown length (chunked) whole, or answer 413 over the limit."""

    def __init__(self, app: WSGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Buffer a chunked body (at most ``limit`` bytes), then call the app."""
        if environ.get("CONTENT_LENGTH") or not environ.get("wsgi.input_terminated"):
            return self.app(environ, start_response)
        stream = environ["wsgi.input"]
        parts, size = [], 0
        while size <= self.limit:
            piece = stream.read(min(65536, self.limit + 1 - size))
            if not piece:
                break
            parts.append(piece)
            size += len(piece)
        if size > self.limit:
            logger.info("refused a chunked body over %d bytes on %s", self.limit, environ.get("PATH_INFO"))
            body = json.dumps(
                {
                    "status": 413,
                    "title": "Content Too Large",
                    "description": f"the chunked body is over {self.limit:,} bytes; at most "
                    f"{self.limit:,} are accepted",
                }
            ).encode()
            start_response(
                "413 Content Too Large",
                [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(body))),
                    ("Connection", "close"),
                    ("Cache-Control", "no-store"),
                ],
            )
            return [body]
        environ["wsgi.input"] = io.BytesIO(b"".join(parts))
        environ["CONTENT_LENGTH"] = str(size)
        environ.pop("wsgi.input_terminated", None)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.app(environ, start_response)


class DepthSafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, answering 400 (not 500) to JSON nested beyond Python's recursion limit."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON; a ``RecursionError`` becomes a ``ValueError`` (Flask's 400)."""
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("the JSON is nested too deeply") from exc


def init_app(app: Flask) -> None:
    """Install the JSON provider and the WSGI middlewares (outermost: the public origin)."""
    provider = DepthSafeJSONProvider(app)
    provider.__dict__.update(vars(app.json))  # keep any setting made on the default provider
    app.json = provider
    app.wsgi_app = WholeBodies(  # type: ignore[method-assign]  # Flask's documented middleware hook
        app.wsgi_app, int(app.config.get("MAX_BODY_BYTES") or MAX_BODY_BYTES)
    )
    base_url = app.config.get("BASE_URL")
    if base_url:
        app.wsgi_app = PublicOrigin(app.wsgi_app, str(base_url))  # type: ignore[method-assign]
    elif app.config.get("TRUSTED_HOSTS") is None:
        app.config["TRUSTED_HOSTS"] = LOOPBACK_HOSTS
