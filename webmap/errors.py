"""Domain errors mapped to HTTP statuses, in one place."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from geo.errors import InvalidParameterError, NoBuildError, NotFoundError

logger = logging.getLogger(__name__)


def _wants_json() -> bool:
    if request.path.startswith(("/api", "/ogcapi", "/downloads/", "/healthz")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _respond(status: int, title: str, message: str, parameter: str | None = None):
    if _wants_json():
        body = {"status": status, "title": title, "description": message}
        if parameter:
            body["parameter"] = parameter
        return jsonify(body), status
    try:
        return render_template("error.html", status=status, title=title, message=message), status
    except Exception:  # no template yet, or it failed: plain text is still a clear answer
        return f"{status} {title}: {message}", status, {"Content-Type": "text/plain; charset=utf-8"}


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(InvalidParameterError)
    def bad_parameter(exc: InvalidParameterError):
        return _respond(400, "Bad Request", str(exc), exc.parameter)

    @app.errorhandler(NotFoundError)
    def not_found(exc: NotFoundError):
        return _respond(404, "Not Found", str(exc))

    @app.errorhandler(NoBuildError)
    def no_build(exc: NoBuildError):
        return _respond(503, "Service Unavailable", str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return _respond(exc.code or 500, exc.name, exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        logger.exception("unhandled error on %s", request.path)
        return _respond(500, "Internal Server Error", "an unexpected error occurred; it has been logged")
