"""The Community Schools Map web app (Flask application factory)."""

from __future__ import annotations

import logging
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
    from webmap import data, errors, health

    app = Flask(__name__)
    app.config.from_mapping(
        DATA_DIR=str(store.data_dir()),
        # The tile layer is optional: with no tiles reachable (as offline) the
        # vector layers still draw on a plain background.
        TILES=None,
        TILES_ATTRIBUTION=None,
        JSON_SORT_KEYS=False,
    )
    app.config.from_prefixed_env("CSMAP")
    if config:
        app.config.update(config)
    data.init_app(app)
    errors.init_app(app)
    app.register_blueprint(health.bp)
    from webmap import api, downloads, ogcapi

    app.register_blueprint(api.bp)
    app.register_blueprint(downloads.bp)
    app.register_blueprint(ogcapi.bp)
    from webmap import assets, pages, security

    security.init_app(app)
    assets.init_app(app)
    app.register_blueprint(pages.bp)
    from webmap import plan

    app.register_blueprint(plan.bp)
    return app
