"""Errors to HTTP answers, in one place.

Domain errors (:class:`geo.errors.CsmapError`) carry their own status
(``http_status``); werkzeug's HTTP errors carry theirs and their headers (so a
405 keeps its ``Allow``). Everything else is a logged 500 whose message is not
shown. Machine-read URLs (the APIs, the downloads, the map data and the plan's
files) answer in JSON; pages answer with the error page, or JSON when the
client prefers it.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from geo.errors import CsmapError, InvalidParameterError

logger = logging.getLogger(__name__)

#: Path prefixes whose clients are programs: they always get JSON errors.
JSON_PREFIXES = ("/api", "/ogcapi", "/downloads/", "/healthz", "/map/", "/plan.csv", "/plan.geojson")


def _wants_json() -> bool:
    if request.path.startswith(JSON_PREFIXES) and request.path != "/downloads/data-dictionary":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_document(status: int, message: str, parameter: str | None = None, title: str | None = None) -> dict:
    """Return the JSON error body: ``{status, title, description[, parameter]}`` (the API's Error schema)."""
    body = {"status": status, "title": title or _title(status), "description": message}
    if parameter:
        body["parameter"] = parameter
    return body


def _respond(
    status: int,
    message: str,
    parameter: str | None = None,
    *,
    title: str | None = None,
    headers: list | None = None,
):
    headers = headers or []
    title = title or _title(status)
    if _wants_json():
        return jsonify(error_document(status, message, parameter, title)), status, headers
    try:
        page = render_template("error.html", status=status, title=title, message=message)
        return page, status, headers
    except Exception:  # no template yet, or it failed: plain text is still a clear answer
        plain = [*headers, ("Content-Type", "text/plain; charset=utf-8")]
        return f"{status} {title}: {message}", status, plain


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(CsmapError)
    def domain_error(exc: CsmapError):
        if exc.http_status >= 500 and exc.http_status != 503:
            return unexpected(exc)
        parameter = exc.parameter if isinstance(exc, InvalidParameterError) else None
        return _respond(exc.http_status, str(exc), parameter)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        # werkzeug's own headers (Allow on a 405, WWW-Authenticate...), without its HTML Content-Type.
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        return _respond(exc.code or 500, exc.description or exc.name, title=exc.name, headers=headers)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        logger.exception("unhandled error on %s", request.path)
        return _respond(500, "an unexpected error occurred; it has been logged")
