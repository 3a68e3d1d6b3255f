"""webmap.warm: the landing page served once at start-up, so forked workers start with hot caches."""

from __future__ import annotations

import logging

from webmap import create_app
from webmap.data import get_data
from webmap.warm import WARM_PATHS, warm_up


def test_warm_app_has_the_landing_page_cached(built_data_dir):
    app = create_app({"DATA_DIR": str(built_data_dir), "WARM": True})
    with app.app_context():
        keys = set(get_data().cache)
    assert any(key.startswith("pages/map/national/") for key in keys)
    assert {"pages/states_geojson", "pages/schools_array/all"} <= keys


def test_cold_app_caches_nothing_until_asked(built_data_dir):
    app = create_app({"DATA_DIR": str(built_data_dir)})
    with app.app_context():
        assert not any(key.startswith("pages/map/") for key in get_data().cache)


def test_warm_up_without_a_build_logs_and_lets_the_app_start(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="webmap")
    app = create_app({"DATA_DIR": str(tmp_path), "WARM": True})  # no build here
    statuses = warm_up(app)
    assert set(statuses) == set(WARM_PATHS) and all(code >= 500 for code in statuses.values())
    assert "warmed" in caplog.text
    assert app.test_client().get("/healthz").status_code == 503
