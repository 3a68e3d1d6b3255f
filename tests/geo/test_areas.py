"""geo.areas: each school's state as the metrics count it, and a state's map extent."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, Point, box

from geo.areas import school_states, state_bounds
from geo.errors import NotFoundError


def _schools(**columns) -> gpd.GeoDataFrame:
    n = len(next(iter(columns.values())))
    return gpd.GeoDataFrame(columns, geometry=[Point(-98, 38)] * n, crs="EPSG:4326")


def test_school_states_follow_the_point_in_polygon_fips():
    # The list says TX for the second school, but its point falls in Oklahoma (40): the metrics count OK.
    schools = _schools(statefp=["48", "40", None, "72"], state=["TX", "TX", "TX", "PR"])
    codes = school_states(schools, {"48": "TX", "40": "OK"})
    assert codes.tolist() == ["TX", "OK", "", ""]  # no polygon, or a state the metrics leave out: ""
    assert codes.index.equals(schools.index)


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ({"stusps": ["tx", None], "state": ["OK", "OK"]}, ["TX", ""]),
        ({"state": ["ok", "Tx"]}, ["OK", "TX"]),
    ],
)
def test_school_states_fall_back_to_the_written_state(columns, expected):
    assert school_states(_schools(**columns), {}).tolist() == expected


def test_state_bounds_are_south_west_north_east():
    states = gpd.GeoDataFrame(
        {"stusps": ["KS", "CO"]}, geometry=[box(-102.05, 36.99, -94.59, 40.0), box(-109, 37, -102, 41)]
    )
    assert state_bounds(states.set_crs("EPSG:4326"), "KS") == [[36.99, -102.05], [40.0, -94.59]]


def test_state_bounds_of_a_state_across_the_antimeridian_keep_the_western_hemisphere():
    # Alaska's Aleutians reach past 180°: the whole-world box would be useless for a map.
    alaska = MultiPolygon([box(-170, 52, -130, 71), box(172, 51, 180, 53)])
    states = gpd.GeoDataFrame({"stusps": ["AK"]}, geometry=[alaska], crs="EPSG:4326")
    assert state_bounds(states, "AK") == [[52.0, -170.0], [71.0, -130.0]]


def test_state_bounds_of_an_unknown_state():
    states = gpd.GeoDataFrame({"stusps": pd.Series([], dtype=str)}, geometry=[], crs="EPSG:4326")
    with pytest.raises(NotFoundError, match="'ZZ'"):
        state_bounds(states, "ZZ")
