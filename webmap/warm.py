"""Warm the caches before serving: the landing page and its map data, once, in the master.

``csmap serve`` runs gunicorn with ``--preload``: the app is created once and the
workers are forked from it, sharing its memory. With ``WARM`` set (``csmap serve``
sets ``CSMAP_WARM=1``), :func:`warm_up` serves the pages in :data:`WARM_PATHS` once
before the fork, so the rendered maps, the serialized GeoJSON and its gzip copy are
in every worker from the start. Without it each worker paid about a second on its
first national page (measured with ``scripts/bench/bench_pages.py``).
"""

from __future__ import annotations

import logging
import time

from flask import Flask

logger = logging.getLogger(__name__)

#: The national page and what it fetches, as a browser asks for them (gzip accepted).
WARM_PATHS = ("/", "/map/states.geojson", "/map/schools.json")


def warm_up(app: Flask, paths: tuple[str, ...] = WARM_PATHS) -> dict[str, int]:
    """Request each path once through the app; return the status of each.

    Never raises: a path that fails (e.g. no build yet) is logged and skipped, and
    the app starts as it would have.
    """
    started = time.perf_counter()
    statuses: dict[str, int] = {}
    client = app.test_client()
    for path in paths:
        try:
            statuses[path] = client.get(path, headers={"Accept-Encoding": "gzip"}).status_code
        except Exception:  # a warm-up must never stop the service from starting
            logger.exception("warming %s failed", path)
            statuses[path] = 500
    logger.info("warmed %s in %.1f s", statuses, time.perf_counter() - started)
    return statuses
