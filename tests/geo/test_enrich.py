"""Enrichment: county and state FIPS by point-in-polygon, nearest ZCTA, locale class."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal

from geo.enrich import (
    COASTAL_TOLERANCE_KM,
    distance_to_state_km,
    enrich_schools,
    nearest_points,
    nearest_state,
    polygon_at,
)
from geo.errors import CRSError
from tests.geo import schools_fixture as fx


@pytest.fixture(scope="module")
def reference():
    return fx.reference()


def schools(lat, lon, *, country=None, nces=None) -> gpd.GeoDataFrame:
    n = len(lat)
    return gpd.GeoDataFrame(
        {"country": country or ["US"] * n, "nces_locale": pd.array(nces or [pd.NA] * n, dtype="Int64")},
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )


def test_county_and_state_by_point_in_polygon(reference):
    out = enrich_schools(schools([38.0, 38.0, 40.0], [-99.5, -98.5, -99.0]), reference)
    assert out["county_fips"].tolist() == ["20001", "20003", "31001"]
    assert out["statefp"].tolist() == ["20", "20", "31"]


def test_nearest_zcta_and_derived_locale(reference):
    out = enrich_schools(schools([38.01, 37.9, 40.2], [-99.49, -98.6, -99.1]), reference)
    assert out["zcta"].tolist() == ["67001", "67002", "68001"]
    assert out["locale4"].tolist() == ["city", "rural", "suburb"]
    assert out["locale"].tolist() == ["urban", "rural", "suburban"]
    assert out["locale_source"].tolist() == ["derived"] * 3


def test_nces_locale_code_wins(reference):
    out = enrich_schools(schools([38.01, 38.01], [-99.49, -99.49], nces=[43, pd.NA]), reference)
    assert out["locale4"].tolist() == ["rural", "city"]
    assert out["locale_source"].tolist() == ["nces", "derived"]


def test_coastal_point_takes_the_nearest_county_within_tolerance(reference):
    # 2 km and 20 km east of KS's east edge at lat 38: outside every polygon.
    km = 111.32 * np.cos(np.radians(38.0))
    out = enrich_schools(schools([38.0, 38.0], [-98.0 + 2 / km, -98.0 + 20 / km]), reference)
    assert COASTAL_TOLERANCE_KM == 5.0
    assert out["county_fips"].iloc[0] == "20003"
    assert pd.isna(out["county_fips"].iloc[1]) and pd.isna(out["statefp"].iloc[1])


def test_canadian_school_has_no_fips_and_a_population_locale(reference):
    out = enrich_schools(schools([43.65, 50.0], [-79.38, -90.0], country=["CA", "CA"]), reference)
    assert out["county_fips"].isna().all() and out["zcta"].isna().all()
    assert out["locale4"].tolist() == ["city", "rural"]  # downtown Toronto; the far north


def test_input_not_modified_and_crs_required(reference):
    frame = schools([38.0], [-99.5])
    before = frame.copy()
    enrich_schools(frame, reference)
    assert_geodataframe_equal(frame, before)
    with pytest.raises(CRSError):
        enrich_schools(frame.set_crs(None, allow_override=True), reference)


def test_other_crs_is_converted(reference):
    out = enrich_schools(schools([38.0], [-99.5]).to_crs("EPSG:5070"), reference)
    assert out["county_fips"].tolist() == ["20001"]


def test_polygon_at_handles_missing_points(reference):
    codes = polygon_at(
        np.array([-99.5, np.nan, 0.0]), np.array([38.0, 38.0, 0.0]), reference.states, "stusps"
    )
    assert codes.tolist() == ["KS", None, None]


def test_distances_are_in_km_not_degrees(reference):
    # One degree of latitude north of NE's north edge is ~111 km, whatever the longitude scale.
    km = distance_to_state_km(
        np.array([-99.0]), np.array([42.0]), np.array(["NE"], dtype=object), reference.states
    )
    assert km[0] == pytest.approx(111.0, rel=0.01)
    codes, km = nearest_state(np.array([-97.0]), np.array([38.0]), reference.states)
    assert codes[0] == "KS" and km[0] == pytest.approx(87.8, rel=0.02)


def test_nearest_points_great_circle(reference):
    index, km = nearest_points(np.array([0.0]), np.array([0.0]), np.array([0.0, 1.0]), np.array([1.0, 0.0]))
    assert index[0] == 0
    assert km[0] == pytest.approx(111.19, rel=1e-3)
