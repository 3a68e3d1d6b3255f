"""``csmap plan``: table and JSON output, plan files, and errors as messages (never tracebacks)."""

from __future__ import annotations

import json
import math

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

from geo import store
from scripts.cmd_plan import parse_reach, plan_command

LAT0, LON0 = 38.0, -98.0


def _at(dx_miles: float) -> tuple[float, float]:
    return LAT0, LON0 + dx_miles / (69.05 * math.cos(math.radians(LAT0)))


def _points(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326")


@pytest.fixture
def data_dir(tmp_path):
    """A data folder whose current build has four KS ZCTAs (two served) and one sample school."""
    rows = [
        ("66001", 0.0, 300, 0.30),
        ("66002", 0.5, 200, 0.05),
        ("66003", 50.0, 400, 0.25),
        ("66004", 51.2, 100, 0.10),
    ]
    zctas = pd.DataFrame(
        {
            "zcta": [r[0] for r in rows],
            "stusps": "KS",
            "city": "Testville",
            "lat": [_at(r[1])[0] for r in rows],
            "lon": [_at(r[1])[1] for r in rows],
            "children": [float(r[2]) for r in rows],
            "pct_below_poverty": [r[3] for r in rows],
            "locale4": "city",
            "locale": "urban",
        }
    )
    lat, lon = _at(0.25)
    schools = pd.DataFrame(
        {"school_id": ["cs-1"], "name": ["Existing"], "lat": [lat], "lon": [lon], "is_sample": [True]}
    )
    root = tmp_path / "data"
    with store.new_build(root) as out:
        out.write_layer(_points(zctas), "zctas")
        out.write_layer(_points(schools), "schools")
        out.write_json(
            store.MANIFEST_NAME,
            {"is_sample": True, "options": {"reach_miles": None, "poverty_threshold": 0.2}},
        )
    return root


@pytest.fixture
def runner():
    return CliRunner()


def _invoke(runner, data_dir, tmp_path, *args):
    return runner.invoke(plan_command, ["--data-dir", str(data_dir), "--out", str(tmp_path / "out"), *args])


def test_plan_prints_a_table_and_writes_files(runner, data_dir, tmp_path):
    result = _invoke(runner, data_dir, tmp_path, "--state", "KS", "--k", "2")
    assert result.exit_code == 0, result.output
    assert "Expansion plan for KS" in result.output
    assert "66003" in result.output  # the best site: 400 unserved children
    assert "500 -> 1,000 of 1,000" in result.output  # children within reach before -> after
    assert "SAMPLE" in result.output
    assert "city 1 mi" in result.output
    out = tmp_path / "out"
    stems = sorted(p.name for p in out.iterdir())
    assert stems == ["plan-KS-unserved-k2.csv", "plan-KS-unserved-k2.geojson", "plan-KS-unserved-k2.json"]
    picks = pd.read_csv(out / "plan-KS-unserved-k2.csv", dtype={"candidate_id": str})
    assert picks["candidate_id"].tolist() == ["66003", "66004"]
    assert picks["gain"].tolist() == [400, 100]
    assert picks["is_sample"].tolist() == [True, True]  # the web's CSV columns (geo.plan_files)
    assert "built_at" in picks.columns
    geojson = json.loads((out / "plan-KS-unserved-k2.geojson").read_text())
    assert geojson["csmap:assumptions"]["is_sample"] is True
    assert [f["properties"]["candidate_id"] for f in geojson["features"]] == ["66003", "66004"]
    lon, lat = geojson["features"][0]["geometry"]["coordinates"]
    assert (lat, lon) == pytest.approx(_at(50.0), abs=1e-6)


def test_plan_json_output(runner, data_dir, tmp_path):
    result = _invoke(
        runner, data_dir, tmp_path, "--state", "ks", "--k", "1", "--objective", "poverty", "--json"
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [p["candidate_id"] for p in document["picks"]] == ["66003"]
    assert document["picks"][0]["gain"] == 400
    assert document["before"]["high_poverty_children_within_reach"] == 300
    assert document["after"]["high_poverty_children_within_reach"] == 700
    assert document["assumptions"]["objective"] == "poverty"
    assert document["assumptions"]["is_sample"] is True
    assert document["assumptions"]["build_id"]


def test_what_if_with_a_candidates_file(runner, data_dir, tmp_path):
    path = tmp_path / "sites.csv"
    (a_lat, a_lon), (b_lat, b_lon) = _at(50.3), _at(0.25)
    path.write_text(f"name,lat,lon\nMidway,{a_lat},{a_lon}\nAt the school,{b_lat},{b_lon}\n")
    result = _invoke(
        runner,
        data_dir,
        tmp_path,
        "--state",
        "KS",
        "--candidates",
        str(path),
        "--what-if",
        "--json",
        "--no-files",
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [p["name"] for p in document["picks"]] == ["Midway", "At the school"]
    assert [p["gain"] for p in document["picks"]] == [500, 0]
    assert not (tmp_path / "out").exists()


def test_reach_option_is_applied(runner, data_dir, tmp_path):
    result = _invoke(
        runner, data_dir, tmp_path, "--state", "KS", "--k", "1", "--reach", "city=60", "--json", "--no-files"
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["assumptions"]["reach_miles"]["city"] == 60
    assert document["before"]["children_within_reach"] == 1000  # one school now reaches every ZCTA


def test_k_above_the_candidates_is_capped_and_said(runner, data_dir, tmp_path):
    result = _invoke(runner, data_dir, tmp_path, "--state", "KS", "--k", "9", "--json", "--no-files")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert len(document["picks"]) == document["assumptions"]["k"] == 4  # KS has 4 candidate ZCTAs here
    assert any("k=9 was asked" in note for note in document["assumptions"]["notes"])


@pytest.mark.parametrize(
    ("args", "exit_code", "needle"),
    [
        (["--state", "KS", "--k", "0"], 2, "k must be at least 1"),
        (["--state", "ZZ"], 2, "unknown state 'ZZ'"),
        (["--state", "KS", "--k", "x"], 2, "is not a valid integer"),
        (["--state", "KS", "--objective", "richest"], 2, "richest"),
        (["--state", "KS", "--poverty-threshold", "20"], 2, "poverty_threshold"),
        (["--state", "KS", "--reach", "metro=2"], 2, "metro=2"),
        (["--state", "KS", "--what-if"], 2, "--what-if needs --candidates"),
    ],
)
def test_usage_errors_are_messages(runner, data_dir, tmp_path, args, exit_code, needle):
    result = _invoke(runner, data_dir, tmp_path, *args)
    assert result.exit_code == exit_code
    assert needle in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    ("content", "needle"),
    [("name,lat\nA,38\n", "needs lat and lon"), ("name,lat,lon\nA,abc,-98\n", "row 2")],
)
def test_malformed_candidates_file_is_a_message(runner, data_dir, tmp_path, content, needle):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    result = _invoke(runner, data_dir, tmp_path, "--state", "KS", "--k", "1", "--candidates", str(path))
    assert result.exit_code in (1, 2)
    assert "bad.csv" in result.output and needle in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_missing_candidates_file_and_missing_build(runner, data_dir, tmp_path):
    result = _invoke(runner, data_dir, tmp_path, "--candidates", str(tmp_path / "none.csv"))
    assert result.exit_code in (1, 2) and "none.csv" in result.output and "does not exist" in result.output
    empty = runner.invoke(plan_command, ["--data-dir", str(tmp_path / "empty"), "--k", "1"])
    assert empty.exit_code == 1
    assert "csmap build" in empty.output
    assert isinstance(empty.exception, SystemExit)


def test_parse_reach():
    assert parse_reach(None) is None
    assert parse_reach("12") == 12.0
    assert parse_reach("city=1.5, rural=12") == {"city": 1.5, "rural": 12.0}
