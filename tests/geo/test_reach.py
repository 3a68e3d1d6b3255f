"""Tests for geo.reach.LatLonIndex: the tree agrees with an all-pairs haversine scan."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.crs import EARTH_RADIUS_MILES
from geo.reach import LatLonIndex, coverage_lists, within_reach


def haversine_miles(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * np.arcsin(np.sqrt(h)) * EARTH_RADIUS_MILES


def test_nearest_matches_all_pairs_haversine():
    rng = np.random.default_rng(7)
    s_lat, s_lon = rng.uniform(25, 49, 300), rng.uniform(-125, -67, 300)
    q_lat, q_lon = rng.uniform(25, 49, 500), rng.uniform(-125, -67, 500)
    miles, idx = LatLonIndex(s_lat, s_lon).nearest(q_lat, q_lon, k=3)
    brute = haversine_miles(q_lat[:, None], q_lon[:, None], s_lat[None, :], s_lon[None, :])
    order = np.argsort(brute, axis=1)[:, :3]
    np.testing.assert_array_equal(idx, order)
    np.testing.assert_allclose(miles, np.take_along_axis(brute, order, axis=1), rtol=1e-9, atol=1e-9)


def test_distances_across_the_antimeridian_and_near_a_pole():
    index = LatLonIndex(np.array([51.0, 89.9]), np.array([179.9, 0.0]))
    miles, idx = index.nearest(np.array([51.0, 89.9]), np.array([-179.9, 180.0]), k=1)
    assert idx[:, 0].tolist() == [0, 1]
    np.testing.assert_allclose(
        miles[:, 0],
        [haversine_miles(51.0, 179.9, 51.0, -179.9), haversine_miles(89.9, 0.0, 89.9, 180.0)],
        rtol=1e-9,
    )
    assert miles[0, 0] == pytest.approx(8.70, abs=0.01)  # 0.2° of longitude at 51°N


def test_within_returns_sorted_great_circle_miles():
    # Schools due north of the query point at 0.5°, 0.01° and 0.2° of latitude (69.09 mi per degree).
    index = LatLonIndex(np.array([0.5, 0.01, 0.2]), np.zeros(3))
    idx, miles = index.within(np.array([0.0]), np.array([0.0]), 14.0)
    per_degree = np.pi / 180 * EARTH_RADIUS_MILES
    assert idx[0].tolist() == [1, 2]  # 0.69 and 13.82 miles; 34.5 miles is beyond 14
    np.testing.assert_allclose(miles[0], [0.01 * per_degree, 0.2 * per_degree], rtol=1e-9)


def test_empty_index_and_padding():
    empty = LatLonIndex(np.array([]), np.array([]))
    miles, idx = empty.nearest(np.array([1.0]), np.array([1.0]), k=2)
    assert np.isinf(miles).all() and (idx == -1).all()
    miles, idx = LatLonIndex(np.array([0.0]), np.array([0.0])).nearest(np.array([0.0]), np.array([1.0]), k=2)
    assert idx.tolist() == [[0, -1]] and np.isinf(miles[0, 1])


def test_within_reach_and_coverage_lists_agree():
    zctas = pd.DataFrame({"lat": [0.0, 0.05, 1.0], "lon": [0.0] * 3, "locale4": ["city", "suburb", "rural"]})
    sites = pd.DataFrame({"lat": [0.001, 0.95], "lon": [0.0, 0.0]})
    served = within_reach(zctas, sites)
    assert served.tolist() == [True, False, True]  # 0.07 mi <= 1; 3.39 mi > 3; 3.45 mi <= 10
    covered = coverage_lists(sites, zctas)
    assert [c.tolist() for c in covered] == [[0], [2]]
