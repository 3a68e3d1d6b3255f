"""geo.query.nearest_positions: the array form of nearest_schools used by the JSON API."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.errors import InvalidParameterError
from geo.query import nearest_positions, nearest_schools
from geo.reach import LatLonIndex

# lon, lat: Chicago Loop, Evanston (~12 mi north), Springfield IL (~180 mi SW)
POINTS = [(-87.63, 41.88), (-87.69, 42.05), (-89.65, 39.80)]


@pytest.fixture
def index() -> LatLonIndex:
    lon, lat = np.array(POINTS).T
    return LatLonIndex(lat, lon)


def test_positions_closest_first(index):
    positions, miles, within = nearest_positions(index, 41.88, -87.63, k=3)
    assert positions.tolist() == [0, 1, 2]
    assert miles[0] == pytest.approx(0.0, abs=1e-6) and 11 < miles[1] < 13 and 170 < miles[2] < 190
    assert within is True


def test_radius_keeps_only_schools_inside(index):
    positions, miles, within = nearest_positions(index, 41.88, -87.63, k=3, radius_mi=20)
    assert positions.tolist() == [0, 1] and within is True and (miles <= 20).all()


def test_nothing_inside_radius_gives_nearest_beyond(index):
    positions, miles, within = nearest_positions(index, 45.0, -93.0, k=2, radius_mi=5)
    assert within is False and len(positions) == 2 and (miles > 5).all()


def test_k_larger_than_schools(index):
    positions, _, _ = nearest_positions(index, 41.88, -87.63, k=10)
    assert len(positions) == 3


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"lat": 95.0, "lon": 0.0}, "lat"),
        ({"lat": 0.0, "lon": float("nan")}, "lon"),
        ({"lat": 0.0, "lon": 0.0, "k": 0}, "k"),
        ({"lat": 0.0, "lon": 0.0, "radius_mi": -1.0}, "radius_mi"),
    ],
)
def test_bad_arguments_name_the_parameter(index, kwargs, parameter):
    with pytest.raises(InvalidParameterError) as caught:
        nearest_positions(index, **kwargs)
    assert caught.value.parameter == parameter


def test_nearest_schools_agrees(index):
    lon, lat = np.array(POINTS).T
    schools = gpd.GeoDataFrame(
        {"name": ["a", "b", "c"], "lat": lat, "lon": lon}, geometry=shapely.points(lon, lat), crs="EPSG:4326"
    )
    result = nearest_schools(schools, index, 39.0, -89.0, k=2)
    positions, miles, _ = nearest_positions(index, 39.0, -89.0, k=2)
    assert result.schools["name"].tolist() == ["c", "a"] == schools["name"].iloc[positions].tolist()
    assert result.schools["distance_mi"].tolist() == pytest.approx(np.round(miles, 3).tolist())


def _frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["Loop", "Evanston", "Springfield"]},
        geometry=[shapely.Point(p) for p in POINTS],
        crs="EPSG:4326",
        index=[10, 20, 30],  # positions, not labels, come back
    )


def test_nearby_schools_rows_within_the_radius(index):
    from geo.find import nearby_schools

    nearby = nearby_schools(_frame(), index, 41.88, -87.63, k=10, radius_mi=20, beyond=1)
    assert nearby.within_radius is True
    assert [r["row"] for r in nearby.rows] == [0, 1]
    assert (nearby.rows[1]["lat"], nearby.rows[1]["lon"]) == (42.05, -87.69)
    expected = nearest_schools(_frame(), index, 41.88, -87.63, k=10, radius_mi=20).schools["distance_mi"]
    assert [r["distance_mi"] for r in nearby.rows] == expected.tolist()
    assert 11 < nearby.rows[1]["distance_mi"] < 13


def test_nearby_schools_beyond_the_radius_lists_only_the_nearest(index):
    from geo.find import nearby_schools

    nearby = nearby_schools(_frame(), index, 38.0, -90.0, k=10, radius_mi=5, beyond=2)
    assert nearby.within_radius is False
    assert [r["row"] for r in nearby.rows] == [2, 0]  # Springfield (~125 mi), then the Loop
    assert all(r["distance_mi"] > 5 for r in nearby.rows)
