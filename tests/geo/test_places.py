"""Naming a point by its nearest gazetteer place (geo.places)."""

from __future__ import annotations

import pandas as pd

from geo.places import nearest_place_names

GAZETTEER = pd.DataFrame(
    {
        "city": ["Columbus", "Dublin", "Providence", "Nowhere"],
        "state": ["OH", "OH", "RI", None],
        "lat": [39.9612, 40.0992, 41.8240, None],
        "lon": [-82.9988, -83.1141, -71.4128, None],
    }
)


def test_each_point_gets_its_nearest_place():
    names = nearest_place_names([40.09, 39.95, 41.80], [-83.12, -83.00, -71.40], GAZETTEER)
    assert names == ["Dublin, OH", "Columbus, OH", "Providence, RI"]


def test_antimeridian_and_empty_inputs():
    far = pd.DataFrame(
        {"city": ["Adak", "Tokyo"], "state": ["AK", "JP"], "lat": [51.88, 35.68], "lon": [-176.65, 139.69]}
    )
    # 179.9 E is 3.5 degrees from Adak across the antimeridian, and far from Tokyo.
    assert nearest_place_names([51.9], [179.9], far) == ["Adak, AK"]
    assert nearest_place_names([], [], GAZETTEER) == []
    assert nearest_place_names([40.0], [-83.0], GAZETTEER.iloc[0:0]) == [None]
