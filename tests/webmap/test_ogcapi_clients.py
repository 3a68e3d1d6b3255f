"""Real OGC API – Features clients against a live server on loopback (issue #6, point 3).

GDAL's OAPIF driver (through pyogrio) and OWSLib read /ogcapi from the app
served by werkzeug in a separate process on 127.0.0.1 and a free port. A
process, not a thread: pyogrio holds the GIL while GDAL downloads pages, so a
server thread in the test process would never answer.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 120

SERVER = """
import sys
from werkzeug.serving import make_server
from webmap import create_app

server = make_server("127.0.0.1", 0, create_app({"DATA_DIR": sys.argv[1]}), threaded=True)
print(server.port, flush=True)
server.serve_forever()
"""


@dataclass
class LiveServer:
    """A server process and where it listens; ``requests()`` reads its access log."""

    url: str
    log: Path

    def requests(self) -> list[str]:
        """The request lines (``GET /path?query``) served so far."""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return re.findall(r'"(GET [^ ]+) HTTP/1\.[01]"', text)


def _read_port(proc: subprocess.Popen) -> int:
    found: list[str] = []
    reader = threading.Thread(target=lambda: found.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(STARTUP_SECONDS)
    if not found or not found[0].strip().isdigit():
        proc.kill()
        pytest.fail(f"the live server did not start (output {found!r})")
    return int(found[0])


@pytest.fixture(scope="module")
def live_ogcapi(built_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app serving the real sample build at http://127.0.0.1:<free port>/ogcapi."""
    log = tmp_path_factory.mktemp("ogcapi-live") / "server.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("w", encoding="utf-8") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(built_data_dir)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=sink,
            text=True,
        )
        try:
            port = _read_port(proc)
            yield LiveServer(f"http://127.0.0.1:{port}/ogcapi", log)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
            proc.stdout.close()


@pytest.fixture(autouse=True)
def _stay_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    # Neither curl (GDAL) nor requests (OWSLib) may send loopback traffic to a proxy.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture(scope="module")
def gpkg_schools(built_data_dir: Path):
    """The schools layer as GDAL reads it from the build's GeoPackage."""
    return pyogrio.read_dataframe(built_data_dir / "current" / "csmap.gpkg", layer="schools")


def assert_same_features(served, stored, *, id_column: str) -> None:
    """Same rows in the same order, same attributes (values and kinds) and exactly the same geometries."""
    assert len(served) == len(stored) > 0
    assert served["id"].tolist() == stored[id_column].tolist()  # GDAL keeps the string Feature id as "id"
    served = served.drop(columns="id")
    assert list(served.columns) == list(stored.columns)
    for column in stored.columns.drop("geometry"):
        left, right = served[column], stored[column]
        # Integer widths may differ (JSON integer -> 32-bit OFTInteger; GeoPackage INTEGER is 64-bit).
        assert left.dtype.kind == right.dtype.kind, (column, left.dtype, right.dtype)
        pd.testing.assert_series_equal(left, right, check_dtype=False, check_names=False, obj=column)
    same = shapely.equals_exact(served.geometry.array, stored.geometry.array, tolerance=0)
    assert same.all(), f"{(~same).sum()} geometries differ"


def test_gdal_oapif_reads_every_school_like_the_geopackage(live_ogcapi: LiveServer, gpkg_schools):
    before = len(live_ogcapi.requests())
    served = pyogrio.read_dataframe("OAPIF:" + live_ogcapi.url, layer="schools")
    assert_same_features(served, gpkg_schools, id_column="school_id")
    items = "GET /ogcapi/collections/schools/items"
    pages = [r for r in live_ogcapi.requests()[before:] if r.startswith(items)]
    offsets = {int(m) for r in pages for m in re.findall(r"[?&]offset=(\d+)", r)}
    assert len(offsets) >= len(gpkg_schools) // 1000  # GDAL pages at 1,000 and follows the next links
    assert max(offsets) < len(gpkg_schools)


def test_gdal_oapif_small_pages_follow_next_links(live_ogcapi: LiveServer, gpkg_schools):
    served = pyogrio.read_dataframe(
        "OAPIF:" + live_ogcapi.url, layer="schools", PAGE_SIZE=700, columns=["school_id", "stusps"]
    )
    assert served["school_id"].tolist() == gpkg_schools["school_id"].tolist()


def test_gdal_oapif_sends_its_spatial_filter_as_bbox(live_ogcapi: LiveServer, gpkg_schools):
    box = (-90.0, 37.0, -84.5, 42.5)
    expected = gpkg_schools.loc[gpkg_schools.intersects(shapely.box(*box)), "school_id"].tolist()
    assert 0 < len(expected) < len(gpkg_schools)
    before = len(live_ogcapi.requests())
    served = pyogrio.read_dataframe("OAPIF:" + live_ogcapi.url, layer="schools", bbox=box)
    assert served["id"].tolist() == expected  # the layer's order, as the server pages it
    assert any("bbox=" in r for r in live_ogcapi.requests()[before:])


def test_gdal_oapif_reads_state_polygons_exactly(live_ogcapi: LiveServer, built_data_dir: Path):
    stored = pyogrio.read_dataframe(built_data_dir / "current" / "csmap.gpkg", layer="state_metrics")
    served = pyogrio.read_dataframe("OAPIF:" + live_ogcapi.url, layer="states")
    assert served["id"].tolist() == stored["stusps"].tolist()
    assert shapely.equals_exact(served.geometry.array, stored.geometry.array, tolerance=0).all()
    numbers = stored.select_dtypes("number").columns
    np.testing.assert_allclose(
        served[numbers].to_numpy(float), stored[numbers].to_numpy(float), equal_nan=True
    )


def test_owslib_lists_collections_and_fetches_bbox_filtered_items(live_ogcapi: LiveServer, gpkg_schools):
    from owslib.ogcapi.features import Features

    api = Features(live_ogcapi.url, timeout=30)
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    assert sorted(api.feature_collections()) == ["counties", "schools", "states"]
    assert api.api()["openapi"].startswith("3.0")
    box = [-88.5, 41.0, -87.0, 42.5]
    inside = gpkg_schools.intersects(shapely.box(*box))
    expected = gpkg_schools.loc[inside, "school_id"].tolist()
    assert 0 < len(expected) < 1000
    page = api.collection_items("schools", bbox=box, limit=1000)
    assert page["numberMatched"] == page["numberReturned"] == len(expected)
    assert [f["id"] for f in page["features"]] == expected
    one = api.collection_item("schools", expected[0])
    assert one["properties"]["school_id"] == expected[0]
    limited = api.collection_items("schools", bbox=box, limit=2, state="IL")
    assert limited["numberReturned"] == 2
    assert all(f["properties"]["stusps"] == "IL" for f in limited["features"])
