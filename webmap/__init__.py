"""The Community Schools Map web app (Flask application factory)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask

logger = logging.getLogger(__name__)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the app: configuration, data loading, blueprints and error handlers.

    Parameters
    ----------
    config : mapping, optional
        Overrides, e.g. ``{"DATA_DIR": path, "TESTING": True}``. ``DATA_DIR``
        defaults to ``$CSMAP_DATA_DIR`` or ``data/build``.
    """
    from geo import store
    from webmap import data, edge, errors, health, http_cache, i18n

    app = Flask(__name__)
    app.config.from_mapping(
        DATA_DIR=str(store.data_dir()),
        # A tile URL template overriding the embedded OpenStreetMap basemap (webmap.tiles);
        # "none" draws the vector layers on a plain background.
        TILES=None,
        TILES_ATTRIBUTION=None,
        JSON_SORT_KEYS=False,
        # Serve the landing page once at start-up (csmap serve sets CSMAP_WARM=1): webmap.warm.
        WARM=False,
        # A level such as "INFO" sends the app's log lines to stderr (csmap serve sets it), where
        # gunicorn's own lines go; None leaves logging as the host program set it (tests, scripts).
        LOG_LEVEL=None,
        # The public origin (scheme://host[/prefix]) of links, OpenAPI servers and redirects;
        # csmap serve always sets it. Unset: only loopback Host names are accepted (webmap.edge).
        BASE_URL=None,
    )
    app.config.from_prefixed_env("CSMAP")
    if config:
        app.config.update(config)
    if app.config.get("LOG_LEVEL"):
        _log_to_stderr(str(app.config["LOG_LEVEL"]).upper())
    edge.init_app(app)
    data.init_app(app)
    errors.init_app(app)
    http_cache.init_app(app)
    i18n.init_app(app)
    app.register_blueprint(health.bp)
    from webmap import api, downloads, ogcapi

    app.register_blueprint(api.bp)
    app.register_blueprint(downloads.bp)
    app.register_blueprint(ogcapi.bp)
    from webmap import assets, pages, security, tiles

    security.init_app(app)
    tiles.init_app(app)
    assets.init_app(app)
    app.register_blueprint(pages.bp)
    from webmap import context

    app.register_blueprint(context.bp)
    from webmap import embed, factsheet, plan

    app.register_blueprint(plan.bp)
    app.register_blueprint(factsheet.bp)
    app.register_blueprint(embed.bp)
    # The staff workspace (docs/STAFF.md): database, sign-in, /staff/ pages.
    from webmap import auth, db, staff

    db.init_app(app)
    auth.init_app(app)
    staff.init_app(app)
    from webmap import census

    census.init_app(app)  # the public census form, /count (docs/CENSUS.md)
    from webmap import heavy, records

    app.register_blueprint(records.bp)
    from webmap import school_page

    app.register_blueprint(school_page.bp)
    heavy.init_app(app)  # the planner's views: a time budget and a concurrency cap
    if app.config.get("WARM"):
        from webmap.warm import warm_up

        warm_up(app)
    return app


def _log_to_stderr(level: str) -> None:
    """Send the geo and webmap loggers' lines to stderr, in gunicorn's format, at ``level``."""
    formatter = logging.Formatter("[%(asctime)s +0000] [%(process)d] [%(levelname)s] %(name)s: %(message)s")
    formatter.converter = time.gmtime  # this formatter's clock only, not every formatter's
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    for name in ("geo", "webmap"):
        package = logging.getLogger(name)
        package.setLevel(level)
        if not package.handlers:
            package.addHandler(handler)
