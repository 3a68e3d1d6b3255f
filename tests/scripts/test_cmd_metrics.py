"""Tests for ``csmap metrics`` on a tiny build made from the hand-computed metrics fixture."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from click.testing import CliRunner
from shapely.geometry import box

from geo import store
from scripts.cmd_metrics import metrics_command
from tests.geo import metrics_fixture as fx


def _points(frame):
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326")


def _boxes(frame):
    return gpd.GeoDataFrame(frame, geometry=[box(i, 0, i + 1, 1) for i in range(len(frame))], crs="EPSG:4326")


@pytest.fixture
def data_dir(tmp_path):
    with store.new_build(tmp_path) as out:
        out.write_layer(_points(fx.zctas()), "zctas")
        # Schools without lat/lon columns: the command takes them from the point geometry.
        out.write_layer(_points(fx.schools()).drop(columns=["lat", "lon"]), "schools")
        out.write_layer(_boxes(fx.states()), "states")
        out.write_layer(_boxes(fx.counties()), "counties")
        out.write_layer(fx.coalitions(), "coalitions")
    return tmp_path


def invoke(data_dir, *args):
    return CliRunner().invoke(metrics_command, ["--data-dir", str(data_dir), *args])


def test_tables_show_the_nation_then_states_in_rank_order(data_dir):
    result = invoke(data_dir)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any("community_schools" in line and line.strip().endswith("3") for line in lines)
    assert "Canada: 1 community schools" in result.output
    state_lines = [line for line in lines if line.startswith(("AA ", "BB "))]
    assert [line[:2] for line in state_lines] == [
        "AA",
        "BB",
    ]  # AA: 2000 unserved high-poverty children, rank 1
    assert "28.6%" in state_lines[0]  # AA reach share 1000 / 3500


def test_sort_orders_and_reach_option(data_dir):
    result = invoke(data_dir, "--sort", "reach_share", "--reach-miles", "4")
    assert result.exit_code == 0, result.output
    states = [line[:2] for line in result.output.splitlines() if line.startswith(("AA ", "BB "))]
    assert states == ["AA", "BB"]  # 1500/3500 < 800/800: lowest reach first
    assert "city 4 mi" in result.output
    result = invoke(data_dir, "--sort", "community_schools")
    states = [line[:2] for line in result.output.splitlines() if line.startswith(("AA ", "BB "))]
    assert states == ["AA", "BB"]
    result = invoke(data_dir, "--sort", "schools_per_10k_children")
    states = [line[:2] for line in result.output.splitlines() if line.startswith(("AA ", "BB "))]
    assert states == ["AA", "BB"]  # 5.7 before 12.5


def test_bad_sort_is_a_usage_error(data_dir):
    result = invoke(data_dir, "--sort", "vibes")
    assert result.exit_code == 2
    assert "vibes" in result.output


def test_json_document(data_dir):
    result = invoke(data_dir, "--json", "--poverty-threshold", "0.3")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["national"]["community_schools"] == 3
    assert document["states"]["AA"]["high_poverty_children"] == 1000.0  # only Z1 at >= 0.30
    assert document["states"]["AA"]["coalition_status"] == "existing"
    assert "coverage_share" not in document["national"]


def test_public_schools_file_adds_coverage(data_dir, tmp_path):
    path = tmp_path / "public.csv"
    fx.public_schools().to_csv(path, index=False)
    result = invoke(data_dir, "--json", "--public-schools", str(path))
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["states"]["AA"]["coverage_share"] == pytest.approx(0.01)
    assert document["national"]["coverage_share"] == pytest.approx(3 / 240)
    table = invoke(data_dir, "--public-schools", str(path), "--sort", "coverage_share")
    assert table.exit_code == 0, table.output
    assert "coverage_share" in table.output


def test_coverage_sort_needs_public_schools(data_dir):
    result = invoke(data_dir, "--sort", "coverage_share")
    assert result.exit_code == 2
    assert "--public-schools" in result.output


def test_bad_public_schools_file_is_a_clear_error(data_dir, tmp_path):
    path = tmp_path / "public.csv"
    path.write_text("state,locale,public_schools\nAA,99,3\n")
    result = invoke(data_dir, "--public-schools", str(path))
    assert result.exit_code == 1
    assert "'99'" in result.output
    assert "Traceback" not in result.output


def test_one_state_shows_its_locales_and_counties(data_dir):
    result = invoke(data_dir, "--state", "aa")
    assert result.exit_code == 0, result.output
    assert "Locales" in result.output and "Counties (2;" in result.output
    assert "1.75" in result.output  # AA city representation
    county_lines = [line for line in result.output.splitlines() if line.startswith("010")]
    assert [line[:5] for line in county_lines] == ["01002", "01001"]  # most unserved first
    assert "yes" in county_lines[0]  # the desert


def test_one_state_as_json(data_dir):
    document = json.loads(invoke(data_dir, "--state", "AA", "--json").output)
    assert document["state"]["stusps"] == "AA"
    assert [c["geoid"] for c in document["counties"]] == ["01001", "01002"]
    assert [d["geoid"] for d in document["deserts"]] == ["01002"]
    assert document["locales"]["locale4"]["city"]["representation"] == pytest.approx(1.75)


@pytest.mark.parametrize(("code", "why"), [("ZZ", "not a known state"), ("TT", "territory")])
def test_unknown_or_uncovered_state_is_named(data_dir, code, why):
    result = invoke(data_dir, "--state", code)
    assert result.exit_code == 2
    assert repr(code) in result.output and why in result.output


def test_no_build_says_what_to_do(tmp_path):
    result = invoke(tmp_path / "empty")
    assert result.exit_code == 1
    assert "csmap build" in result.output
