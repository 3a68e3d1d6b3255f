"""resolve_query: ZIPs, cities, street addresses and coordinates, against tiny inline tables."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.find import Location, region_code, resolve_query

# Real ZIP centroids, rounded (zipcodes package); the last row's city is in no gazetteer row.
ZIPS = pd.DataFrame(
    {
        "zip": ["78701", "60601", "12345", "97201", "59001"],
        "city": ["Austin", "Chicago", "Schenectady", "Portland", "Absarokee"],
        "state": ["TX", "IL", "NY", "OR", "MT"],
        "lat": [30.27, 41.89, 42.81, 45.51, 45.52],
        "lon": [-97.74, -87.62, -73.94, -122.69, -109.44],
    }
)
# Most populous first, as the build's gazetteer layer is sorted.
GAZETTEER = pd.DataFrame(
    {
        "city": [
            "Chicago",
            "Austin",
            "Portland",
            "Salt Lake City",
            "Toronto",
            "Springfield",
            "Springfield",
            "Saint Louis",
            "Portland",
        ],
        "city_norm": [
            "chicago",
            "austin",
            "portland",
            "salt lake city",
            "toronto",
            "springfield",
            "springfield",
            "saint louis",
            "portland",
        ],
        "state": ["IL", "TX", "OR", "UT", "ON", "MO", "IL", "MO", "ME"],
        "country": ["US", "US", "US", "US", "CA", "US", "US", "US", "US"],
        "lat": [41.85, 30.27, 45.52, 40.76, 43.70, 37.22, 39.80, 38.63, 43.66],
        "lon": [-87.65, -97.74, -122.68, -111.89, -79.42, -93.30, -89.64, -90.20, -70.26],
        "population": [2_700_000, 960_000, 650_000, 200_000, 2_600_000, 167_000, 114_000, 300_000, 66_000],
    }
)


def resolve(text: str) -> Location | None:
    return resolve_query(text, ZIPS, GAZETTEER)


@pytest.mark.parametrize("text", ["78701", " 78701 ", "78701-1234", "78701 USA"])
def test_zip_and_zip_plus_4(text):
    found = resolve(text)
    assert found == Location(30.27, -97.74, "ZIP 78701 (Austin, TX)", "zip")


def test_unknown_zip_is_none():
    assert resolve("00000") is None


@pytest.mark.parametrize(
    ("text", "state", "lat"),
    [
        ("Springfield, IL", "IL", 39.80),
        ("springfield il", "IL", 39.80),
        ("Springfield, Illinois", "IL", 39.80),
        ("Springfield MO", "MO", 37.22),
        ("Portland, ME", "ME", 43.66),
        ("Portland Oregon", "OR", 45.52),
        ("Salt Lake City UT", "UT", 40.76),
        ("St. Louis, MO", "MO", 38.63),
        ("Toronto, ON", "ON", 43.70),
        ("Toronto Ontario Canada", "ON", 43.70),
    ],
)
def test_city_and_state(text, state, lat):
    found = resolve(text)
    assert found is not None and found.precision == "city"
    assert found.label.endswith(f", {state}")
    assert found.lat == lat


def test_street_address_uses_its_zip_not_the_house_number():
    # 12345 is a real ZIP (Schenectady, NY) but here it is a house number.
    found = resolve("12345 Congress Ave, Austin, TX 78701")
    assert found is not None and found.label.startswith("ZIP 78701")


def test_street_address_without_zip_falls_back_to_city():
    found = resolve("12345 Congress Ave, Austin, TX")
    assert found == Location(30.27, -97.74, "Austin, TX", "city")
    found = resolve("233 S Wacker Dr Chicago IL")
    assert found is not None and found.label == "Chicago, IL"


def test_unknown_zip_after_a_city_falls_back_to_the_city():
    found = resolve("Austin, TX 78799")
    assert found is not None and found.label == "Austin, TX"


def test_city_known_only_from_zips():
    found = resolve("Absarokee, MT")
    assert found is not None and found.precision == "city" and found.lat == 45.52


def test_city_without_state_takes_the_most_populous():
    found = resolve("Springfield")
    assert found is not None and found.label == "Springfield, MO"


def test_coordinates():
    assert resolve("40.7128, -74.0060") == Location(40.7128, -74.006, "40.7128, -74.0060", "point")
    assert resolve("140.5, -74.0") is None


@pytest.mark.parametrize("text", ["", "   ", "Atlantis", "Nowhere, ZZ", "<script>alert(1)</script>"])
def test_ungeocodable_is_none(text):
    assert resolve(text) is None


def test_region_code():
    assert region_code("tx") == "TX"
    assert region_code("New York") == "NY"
    assert region_code("Quebec") == "QC"
    assert region_code("Texass") is None


def test_inputs_are_not_changed():
    before = ZIPS.copy()
    resolve("Absarokee, MT")
    pd.testing.assert_frame_equal(ZIPS, before)
