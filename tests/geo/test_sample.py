"""The labelled sample (schools and coalitions) and the coalitions table format."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import reference as ref
from geo.coalitions import COALITION_COLUMNS, coalition_areas, read_coalitions
from geo.enrich import polygon_at
from geo.errors import CRSError, SchoolDataError
from geo.sample import (
    SAMPLE_COLUMNS,
    generate_sample,
    sample_coalitions,
    states_without_sample_schools,
)
from geo.schools import prepare_schools, read_school_file
from tests.geo import schools_fixture as fx


@pytest.fixture(scope="module")
def tiny():
    return fx.reference()


@pytest.fixture(scope="module")
def national():
    """Real Census states and counties (read from plotly-geo in well under a second)."""
    return ref.load_states(), ref.load_counties()


# --------------------------------------------------------------------------
# Sample schools (tiny world)


def test_sample_is_deterministic_and_seeded(tiny):
    first = generate_sample(tiny, n=300, seed=7)
    pd.testing.assert_frame_equal(first, generate_sample(tiny, n=300, seed=7))
    assert not first.equals(generate_sample(tiny, n=300, seed=8))


def test_sample_shape_and_labels(tiny):
    sample = generate_sample(tiny, n=300, seed=7)
    assert list(sample.columns) == list(SAMPLE_COLUMNS)
    assert len(sample) == 300
    assert (sample["is_sample"] == "true").all()
    assert sample["School Name"].str.match(r"^Sample Community School \d{4} \(.+, [A-Z]{2}\)$").all()
    assert sample["School Name"].is_unique
    assert set(sample["Grades"]) <= {"PK-5", "K-5", "PK-8", "K-8", "6-8", "9-12", "PK-12", "K-12", "7-12"}
    assert sample["Lead Partner"].str.len().gt(0).all()


def test_sample_places_canadian_schools_in_large_cities(tiny):
    sample = generate_sample(tiny, n=300, seed=7, canada=36)
    canada = sample[sample["Country"] == "CA"]
    assert len(canada) == 36
    assert set(canada["City"]) <= {"Toronto", "Ottawa", "Mississauga"}
    assert (canada["ZIP"] == "").all()  # no postal codes are invented
    assert len(generate_sample(tiny, n=10, seed=7, canada=36).query("Country == 'CA'")) == 5  # at most half


def test_sample_skips_the_seeded_states_and_stays_inside_the_stated_state(tiny):
    sample = generate_sample(tiny, n=400, seed=7)
    skipped = states_without_sample_schools(tiny, seed=7)
    us = sample[sample["Country"] == "US"]
    assert len(skipped) == 3
    assert not set(us["State"]) & set(skipped)
    assert set(us["State"]) == set(tiny.states["stusps"]) - set(skipped)
    given = us[us["Latitude"] != ""]
    inside = polygon_at(
        given["Longitude"].astype(float).to_numpy(),
        given["Latitude"].astype(float).to_numpy(),
        tiny.states,
        "stusps",
    )
    assert (inside == given["State"].to_numpy()).all()
    # Jittered: schools do not sit on their ZCTA's point.
    zcta_points = set(zip(tiny.zctas["lat"].round(6), tiny.zctas["lon"].round(6), strict=True))
    pairs = set(zip(given["Latitude"].astype(float), given["Longitude"].astype(float), strict=True))
    assert len(pairs - zcta_points) > 0.9 * len(pairs)


def test_sample_weights_zctas_by_children(tiny):
    sample = generate_sample(tiny, n=4000, seed=3, canada=0)
    counts = sample["ZIP"][sample["ZIP"] != ""].value_counts()
    children = tiny.zctas.set_index("zcta")["children"]
    share = counts / counts.sum()
    expected = children[share.index] / children[share.index].sum()
    np.testing.assert_allclose(share.sort_index(), expected.sort_index(), atol=0.03)


def test_sample_mixes_coordinates_and_addresses(tiny):
    sample = generate_sample(tiny, n=2000, seed=7, canada=0)
    with_coordinates = sample["Latitude"] != ""
    zip_only = ~with_coordinates & (sample["ZIP"] != "")
    city_only = ~with_coordinates & (sample["ZIP"] == "")
    assert 0.80 < with_coordinates.mean() < 0.90
    assert zip_only.sum() > 100 and city_only.sum() > 40
    assert (sample.loc[city_only, "City"] != "").all()


def test_sample_round_trip_through_the_loader(tiny, tmp_path):
    path = tmp_path / "sample.csv"
    generate_sample(tiny, n=500, seed=7).to_csv(path, index=False)
    result = prepare_schools(read_school_file(path), tiny, is_sample=True)
    report = result.report
    assert (report["rows"], report["loaded"], report["rejected"], report["merged"]) == (500, 500, 0, 0)
    assert result.schools["is_sample"].all()
    assert report["by_precision"]["given"] > 0 and report["by_precision"]["zip"] > 0
    assert report["by_precision"]["city"] > 0
    assert report["warnings"] == []


def test_sample_size_must_be_positive(tiny):
    with pytest.raises(ValueError, match="at least 1"):
        generate_sample(tiny, n=0)


@pytest.mark.slow
def test_default_sample_on_national_data(tmp_path):
    from geo.locale import add_locale

    states, counties = ref.load_states(), ref.load_counties()
    zctas = gpd.GeoDataFrame(add_locale(ref.load_zctas()), geometry="geometry", crs=states.crs)
    national = ref.Reference(
        states=states,
        counties=counties,
        states_web=states,
        counties_web=counties,
        zctas=zctas,
        zip_points=ref.load_zip_points(zctas),
        gazetteer=ref.load_gazetteer(),
    )
    sample = generate_sample(national)
    assert len(sample) == 5589
    us = sample[sample["Country"] == "US"]
    assert us["State"].nunique() == 49 and {"DC", "PR"} <= set(us["State"])
    assert (sample["Country"] == "CA").sum() == 36
    skipped = states_without_sample_schools(national)
    assert skipped == ["AK", "OK", "VT"]  # documented in docs/SCHOOLS.md for the default seed
    path = tmp_path / "sample.csv"
    sample.to_csv(path, index=False)
    result = prepare_schools(read_school_file(path), national, is_sample=True)
    assert result.report["loaded"] == 5589
    placed = result.schools[result.schools["country"] == "US"]
    fips_to_usps = dict(zip(states["statefp"], states["stusps"], strict=True))
    assert (placed["statefp"].map(fips_to_usps) == placed["state"]).all()


# --------------------------------------------------------------------------
# Coalitions


def test_sample_coalitions(national):
    states, counties = national
    table = sample_coalitions(states, counties)
    assert list(table.columns) == list(COALITION_COLUMNS)
    assert len(table) == len(states) == 56
    assert table["stusps"].is_unique
    assert (table["status"] != "none").sum() == 40
    assert set(table["status"]) == {"existing", "developing", "none"}
    assert (table.set_index("stusps").loc[["GU", "VI", "AS", "MP"], "status"] == "none").all()
    assert table["is_sample"].all()
    regional = table[table["area_type"] == "counties"]
    assert len(regional) >= 3
    fips = dict(zip(states["stusps"], states["statefp"], strict=True))
    for _, row in regional.iterrows():
        codes = row["county_fips"].split(";")
        assert 1 < len(codes) <= 6 and all(code[:2] == fips[row["stusps"]] for code in codes)
        assert set(codes) <= set(counties["geoid"])
    pd.testing.assert_frame_equal(table, sample_coalitions(states, counties))


def test_coalitions_csv_round_trip(national, tmp_path):
    states, counties = national
    table = sample_coalitions(states, counties)
    path = tmp_path / "coalitions.csv"
    table.to_csv(path, index=False)
    back = read_coalitions(path, counties=counties)
    pd.testing.assert_frame_equal(back, table)


def _coalitions_csv(tmp_path, text: str):
    path = tmp_path / "coalitions.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stusps,status\nZZ,existing\n", "unknown state 'ZZ'"),
        ("stusps,status\nKS,active\n", "unknown status 'active'"),
        ("stusps,status,county_fips\nKS,existing,31001\n", "county FIPS '31001' is not a county of KS"),
        ("stusps,status,county_fips\nKS,existing,20999\n", "unknown county FIPS '20999'"),
        ("stusps,status,area_type\nKS,existing,counties\n", "needs county_fips"),
        ("stusps,status,area_type\nKS,existing,city\n", "unknown area_type 'city'"),
        ("stusps,status\nKS,existing\nKS,none\n", "'KS' appears more than once"),
        ("state_name,status\nKansas,existing\n", "lacks column 'stusps'"),
    ],
)
def test_read_coalitions_rejects_bad_values(national, tmp_path, text, message):
    with pytest.raises(SchoolDataError, match=message):
        read_coalitions(_coalitions_csv(tmp_path, text), counties=national[1])


def test_read_coalitions_fills_missing_states_and_lost_zeros(tmp_path):
    path = _coalitions_csv(
        tmp_path, "State,Status,County_FIPS,Coalition_Name\nal,Existing,1001;1003,Two counties\n"
    )
    table = read_coalitions(path)
    assert len(table) == 56
    alabama = table.set_index("stusps").loc["AL"]
    assert (alabama["status"], alabama["area_type"], alabama["county_fips"]) == (
        "existing",
        "counties",
        "01001;01003",
    )
    assert (table["status"] == "none").sum() == 55
    assert not table["is_sample"].any()


def test_read_coalitions_missing_file(tmp_path):
    with pytest.raises(SchoolDataError, match="does not exist"):
        read_coalitions(tmp_path / "nope.csv")


def test_coalition_areas_dissolve(national):
    states, counties = national
    table = sample_coalitions(states, counties)
    areas = coalition_areas(table, states, counties)
    assert len(areas) == 40
    assert areas.crs == states.crs
    assert set(areas["stusps"]) == set(table.loc[table["status"] != "none", "stusps"])
    regional = table[table["area_type"] == "counties"].iloc[0]
    area = areas.set_index("stusps").loc[regional["stusps"]]
    members = counties[counties["geoid"].isin(regional["county_fips"].split(";"))]
    union = shapely.union_all(members.geometry.to_numpy())
    assert area["county_count"] == len(members)
    assert (
        shapely.equals_exact(shapely.normalize(area.geometry), shapely.normalize(union), tolerance=1e-9)
        or abs(area.geometry.area - union.area) < 1e-9
    )
    whole = table[(table["area_type"] == "state")].iloc[0]
    state_shape = states.set_index("stusps").geometry[whole["stusps"]]
    assert areas.set_index("stusps").geometry[whole["stusps"]].area == pytest.approx(state_shape.area)


def test_coalition_areas_need_one_crs(national):
    states, counties = national
    with pytest.raises(CRSError):
        coalition_areas(sample_coalitions(states, counties), states, counties.to_crs("EPSG:5070"))


def test_coalition_areas_unknown_county(national):
    states, counties = national
    table = pd.DataFrame(
        {
            "stusps": ["KS"],
            "status": ["existing"],
            "coalition_name": ["x"],
            "area_type": ["counties"],
            "county_fips": ["20999"],
            "is_sample": [False],
        }
    )
    with pytest.raises(SchoolDataError, match="20999"):
        coalition_areas(table, states, counties)
