"""webmap.warm: the landing page served once at start-up, so forked workers start with hot caches."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from geo import store
from webmap import create_app
from webmap.warm import WARM_PATHS, warm_up


def _empty_the_build_folder(data_dir: Path) -> list[str]:
    """Delete every file of the current build (the GeoPackage, metrics.json, web/...)."""
    build = store.current_build_dir(data_dir)
    removed = sorted(p.name for p in build.iterdir())
    for path in build.iterdir():
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    return removed


def test_warm_app_serves_the_landing_page_from_memory(data_dir_copy):
    # Warmed before the fork, the landing page and its map data need nothing from
    # disk any more: with the build's files gone, every warmed path still answers.
    app = create_app({"DATA_DIR": str(data_dir_copy), "WARM": True})
    assert {store.GPKG_NAME, "metrics.json"} <= set(_empty_the_build_folder(data_dir_copy))
    client = app.test_client()
    for path in WARM_PATHS:
        response = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200, path
        assert len(response.data) > 1000, path


def test_cold_app_reads_the_build_when_first_asked(data_dir_copy):
    # The same check fails without the warm-up: a cold app has read only the
    # schools layer (at start-up), so the landing page and the states need the files.
    app = create_app({"DATA_DIR": str(data_dir_copy)})
    _empty_the_build_folder(data_dir_copy)
    client = app.test_client()
    assert client.get("/").status_code >= 500
    assert client.get("/map/states.geojson").status_code >= 500


def test_warm_up_without_a_build_logs_and_lets_the_app_start(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="webmap")
    app = create_app({"DATA_DIR": str(tmp_path), "WARM": True})  # no build here
    statuses = warm_up(app)
    assert set(statuses) == set(WARM_PATHS) and all(code >= 500 for code in statuses.values())
    assert "warmed" in caplog.text
    assert app.test_client().get("/healthz").status_code == 503
