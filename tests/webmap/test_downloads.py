"""/downloads: files in every format, filters, provenance, caching, gzip, safety and the data dictionary."""

from __future__ import annotations

import gzip
import io
import json
import re
import sqlite3

import geopandas as gpd
import pandas as pd
import pytest

from webmap.downloads import DOWNLOADS

BUILT_AT = "2026-11-28T12:00:00+00:00"
DISPOSITION = re.compile(r'^attachment; filename="([A-Za-z0-9._-]+)"$')
ROWS = {"schools": 6, "states": 2, "counties": 3}


def fetch(client, url: str, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def filename_of(response) -> str:
    match = DISPOSITION.match(response.headers["Content-Disposition"])
    assert match, response.headers["Content-Disposition"]
    return match.group(1)


def read_gpkg(body: bytes, tmp_path, layer: str) -> gpd.GeoDataFrame:
    path = tmp_path / "download.gpkg"
    path.write_bytes(body)
    return gpd.read_file(path, layer=layer)


@pytest.mark.parametrize("name", sorted(DOWNLOADS))
def test_every_file_is_served_with_a_dated_sample_filename(tiny_client, name):
    response = fetch(tiny_client, f"/downloads/{name}")
    dataset, ext = name.split(".")
    expected_type = {
        "geojson": "application/geo+json",
        "csv": "text/csv",
        "gpkg": "application/geopackage+sqlite3",
    }[ext]
    assert response.mimetype == expected_type
    filename = filename_of(response)
    assert filename.endswith(f"-SAMPLE-20261128.{ext}")
    assert filename.startswith("community-schools")
    assert response.headers["ETag"] and "max-age=" in response.headers["Cache-Control"]


def test_schools_geojson_is_rfc7946_and_says_it_is_sample(tiny_client, tmp_path):
    body = fetch(tiny_client, "/downloads/schools.geojson").data
    document = json.loads(body)
    assert document["type"] == "FeatureCollection" and "crs" not in document  # RFC 7946 §4
    assert document["is_sample"] is True and document["built_at"] == BUILT_AT
    assert "SAMPLE" in document["notice"]
    features = {f["id"]: f for f in document["features"]}
    assert len(features) == ROWS["schools"]
    assert all(f["properties"]["is_sample"] is True for f in features.values())
    assert features["cs-1"]["geometry"] == {"type": "Point", "coordinates": [-87.6, 41.8]}  # lon, lat
    frame = gpd.read_file(io.BytesIO(body))
    assert len(frame) == ROWS["schools"] and frame.crs.to_epsg() == 4326


@pytest.mark.parametrize(
    ("query", "ids", "tag"),
    [
        ("state=IN", {"cs-4", "cs-5"}, "-IN-"),
        ("locale=rural", {"cs-2", "cs-5"}, "-rural-"),
        ("bbox=-88.5,41,-87,42.5", {"cs-1", "cs-3"}, "-bbox-"),
        ("state=il&locale=urban", {"cs-1"}, "-IL-urban-"),
    ],
)
def test_filtered_schools_in_every_format(tiny_client, tmp_path, query, ids, tag):
    geojson = fetch(tiny_client, f"/downloads/schools.geojson?{query}")
    assert {f["id"] for f in json.loads(geojson.data)["features"]} == ids
    assert tag in filename_of(geojson)
    assert json.loads(geojson.data)["numberReturned"] == len(ids)
    table = pd.read_csv(io.BytesIO(fetch(tiny_client, f"/downloads/schools.csv?{query}").data))
    assert set(table["school_id"]) == ids
    layer = read_gpkg(fetch(tiny_client, f"/downloads/schools.gpkg?{query}").data, tmp_path, "schools")
    assert set(layer["school_id"]) == ids


def test_empty_selection_is_a_valid_empty_file(tiny_client):
    document = json.loads(fetch(tiny_client, "/downloads/schools.geojson?state=IN&locale=suburban").data)
    assert document["features"] == [] and document["numberReturned"] == 0


def test_csv_is_machine_readable_with_provenance_columns(tiny_client):
    table = pd.read_csv(io.BytesIO(fetch(tiny_client, "/downloads/schools.csv").data))
    assert len(table) == ROWS["schools"]
    assert table["is_sample"].all() and set(table["built_at"]) == {BUILT_AT}
    assert "geometry" not in table.columns
    assert pd.api.types.is_float_dtype(table["lon"]) and (table["lon"] < 0).all()  # negatives stay numbers


def test_csv_cells_cannot_run_as_spreadsheet_formulas(tiny_client):
    text = fetch(tiny_client, "/downloads/schools.csv").get_data(as_text=True)
    table = pd.read_csv(io.StringIO(text), dtype=str)
    text_columns = ["name", "address", "city", "lead_partner"]
    for value in table[text_columns].stack():
        assert not value.startswith(("=", "+", "-", "@")), value
    by_id = table.set_index("school_id")
    assert by_id.at["cs-2", "name"] == '\'=HYPERLINK("http://example.invalid","click")'
    assert by_id.at["cs-2", "address"] == "'+1 Farm Rd" and by_id.at["cs-3", "address"] == "'@2 Oak Ave"


def test_geopackage_carries_sample_flag_column_metadata_and_about_table(tiny_client, tmp_path):
    body = fetch(tiny_client, "/downloads/schools.gpkg").data
    layer = read_gpkg(body, tmp_path, "schools")
    assert len(layer) == ROWS["schools"] and layer["is_sample"].all() and layer.crs.to_epsg() == 4326
    about = dict(gpd.read_file(tmp_path / "download.gpkg", layer="about")[["key", "value"]].to_numpy())
    assert about["is_sample"] == "true" and about["built_at"] == BUILT_AT and about["rows"] == "6"
    with sqlite3.connect(tmp_path / "download.gpkg") as db:
        (description,) = db.execute(
            "select description from gpkg_contents where table_name='schools'"
        ).fetchone()
    assert description.startswith("SAMPLE DATA") and BUILT_AT in description


@pytest.mark.parametrize("dataset", ["states", "counties"])
def test_area_files_have_metrics_and_provenance(tiny_client, tmp_path, dataset):
    document = json.loads(fetch(tiny_client, f"/downloads/{dataset}.geojson").data)
    assert len(document["features"]) == ROWS[dataset] and document["is_sample"] is True
    props = document["features"][0]["properties"]
    assert {"community_schools", "unserved_children", "reach_share", "is_sample"} <= set(props)
    assert document["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    table = pd.read_csv(io.BytesIO(fetch(tiny_client, f"/downloads/{dataset}.csv").data))
    assert len(table) == ROWS[dataset] and table["is_sample"].all() and set(table["built_at"]) == {BUILT_AT}
    layer = read_gpkg(fetch(tiny_client, f"/downloads/{dataset}.gpkg").data, tmp_path, dataset)
    assert len(layer) == ROWS[dataset]


def test_counties_filter_by_state(tiny_client):
    response = fetch(tiny_client, "/downloads/counties.geojson?state=IL")
    assert {f["id"] for f in json.loads(response.data)["features"]} == {"17001", "17003"}
    assert "-IL-" in filename_of(response)


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/downloads/schools.geojson?state=ZZ", "state"),
        ("/downloads/schools.csv?locale=downtown", "locale"),
        ("/downloads/schools.gpkg?bbox=1,2", "bbox"),
        ("/downloads/schools.geojson?format=csv", "format"),
        ("/downloads/states.geojson?state=IL", "state"),
        ("/downloads/counties.csv?locale=rural", "locale"),
        ("/downloads/counties.csv?state=ON", "state"),
    ],
)
def test_bad_filters_are_json_400(tiny_client, url, parameter):
    response = tiny_client.get(url)
    assert response.status_code == 400
    assert response.get_json()["parameter"] == parameter


@pytest.mark.parametrize(
    "path",
    [
        "/downloads/..%2F..%2Fetc%2Fpasswd",
        "/downloads/../../etc/passwd",
        "/downloads/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/downloads/..%5C..%5Cetc%5Cpasswd",
        "/downloads/%2Fetc%2Fpasswd",
        "/downloads/csmap.gpkg",
        "/downloads/manifest.json",
        "/downloads/metrics.json",
        "/downloads/schools.csv%00.geojson",
        "/downloads/web%2Fschools.geojson",
        "/downloads/schools.exe",
        "/downloads/SCHOOLS.GEOJSON",
    ],
)
def test_paths_never_reach_the_file_system(tiny_client, path):
    response = tiny_client.get(path)
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert "root:" not in text and "passwd" not in text


def test_revalidation_gives_304_without_a_body(tiny_client):
    first = fetch(tiny_client, "/downloads/schools.geojson")
    again = tiny_client.get("/downloads/schools.geojson", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    filtered = tiny_client.get(
        "/downloads/schools.geojson?state=IL", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert filtered.status_code == 200 and filtered.headers["ETag"] != first.headers["ETag"]


def test_gzip_when_accepted_and_both_tags_revalidate(tiny_client):
    plain = fetch(tiny_client, "/downloads/counties.geojson")
    assert "Content-Encoding" not in plain.headers and plain.headers["Vary"] == "Accept-Encoding"
    zipped = fetch(tiny_client, "/downloads/counties.geojson", **{"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    for tag in (plain.headers["ETag"], zipped.headers["ETag"]):
        response = tiny_client.get(
            "/downloads/counties.geojson", headers={"If-None-Match": tag, "Accept-Encoding": "gzip"}
        )
        assert response.status_code == 304


def test_downloads_page_links_every_file_and_shows_the_sample_banner(tiny_client):
    html = fetch(tiny_client, "/downloads").get_data(as_text=True)
    assert "downloads-sample-note" in html and "2026-11-28T12:00:00+00:00" in html
    links = set(re.findall(r'href="(/downloads/[^"?]+)"', html))
    assert {f"/downloads/{name}" for name in DOWNLOADS} <= links
    for link in links:
        assert tiny_client.get(link).status_code == 200, link


def test_real_data_files_without_sample_marks(tmp_path, make_tiny_build):
    from webmap import create_app

    make_tiny_build(tmp_path, is_sample=False, built_at="2027-01-02T03:04:05+00:00")
    client = create_app({"TESTING": True, "DATA_DIR": str(tmp_path)}).test_client()
    response = fetch(client, "/downloads/schools.geojson?state=IL")
    assert filename_of(response) == "community-schools-IL-20270102.geojson"
    document = json.loads(response.data)
    assert document["is_sample"] is False and "notice" not in document
    assert "downloads-sample-note" not in fetch(client, "/downloads").get_data(as_text=True)


def test_data_dictionary_describes_every_column_of_every_file(tiny_client):
    document = json.loads(fetch(tiny_client, "/downloads/data-dictionary.json").data)
    assert document["is_sample"] is True
    described = {(row["dataset"], row["column"]): row for row in document["columns"]}
    for name in ("schools", "states", "counties"):
        table = pd.read_csv(io.BytesIO(fetch(tiny_client, f"/downloads/{name}.csv").data))
        for column in table.columns:
            row = described[(name, column)]
            assert row["description"] and not row["description"].startswith("see "), (name, column)
    html = fetch(tiny_client, "/downloads/data-dictionary").get_data(as_text=True)
    assert 'id="states-unserved_children"' in html
    table = pd.read_csv(io.BytesIO(fetch(tiny_client, "/downloads/data-dictionary.csv").data))
    assert list(table.columns) == ["dataset", "column", "type", "description"]
    assert len(table) == len(document["columns"])


@pytest.mark.slow
def test_real_build_downloads(client, built_data_dir):
    from geo import store

    manifest = store.read_manifest(store.current_build_dir(built_data_dir))
    document = json.loads(fetch(client, "/downloads/schools.geojson").data)
    assert len(document["features"]) == manifest["row_counts"]["schools"]
    states = json.loads(fetch(client, "/downloads/states.geojson").data)
    assert len(states["features"]) == 52
    # The web-weight layers as served (geo/build.py tolerances, issue #2): states under 300 KB and
    # counties under 3 MB of GeoJSON, metrics included. The build writes no other copy of them.
    assert len(fetch(client, "/downloads/states.geojson").data) <= 300_000
    assert len(fetch(client, "/downloads/counties.geojson").data) <= 3_000_000
    assert not (store.current_build_dir(built_data_dir) / "web").exists()
    dictionary = json.loads(fetch(client, "/downloads/data-dictionary.json").data)
    undocumented = [
        (r["dataset"], r["column"]) for r in dictionary["columns"] if r["description"].startswith("see ")
    ]
    assert undocumented == []


def test_filtered_files_are_cached_per_build_and_bounded(fresh_tiny_client, monkeypatch):
    """A filtered file is made once per build and filters; the cache drops the least recently used."""
    from webmap import downloads

    made: list[str] = []
    serialize = downloads._serialize

    def counting(data, download, filters):
        made.append(f"{download.dataset}.{download.format}?{filters.query()}")
        return serialize(data, download, filters)

    monkeypatch.setattr(downloads, "_serialize", counting)
    first = fetch(fresh_tiny_client, "/downloads/schools.csv?state=IL")
    again = fetch(fresh_tiny_client, "/downloads/schools.csv?state=IL")
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    assert made == ["schools.csv?{'state': 'IL'}"]
    other = fetch(fresh_tiny_client, "/downloads/schools.geojson?state=IL")
    assert len(made) == 2 and json.loads(other.data)["type"] == "FeatureCollection"
    assert (
        fresh_tiny_client.get(
            "/downloads/schools.csv?state=IL", headers={"If-None-Match": first.headers["ETag"]}
        ).status_code
        == 304
    )

    cache = downloads.FilteredCache(max_files=2, max_bytes=10)
    for key in "abc":
        cache.put(key, (b"x" * 4, key))
    assert cache.get("a") is None and cache.get("b") and cache.get("c")  # two files, least recent dropped
    cache.put("d", (b"y" * 4, "d"))  # a third file: "b", the least recently used, goes
    assert cache.get("b") is None and cache.size == 8
    cache.put("huge", (b"z" * 11, "huge"))
    assert cache.get("huge") is None and cache.size == 8  # over the whole budget: never kept
