"""The offline geocoding chain (and its hand-off to the online providers), on the tiny fixture world."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from geo.geocode import OUTSIDE_STATE_KM, city_table, geocode_schools, parse_degrees
from geo.schools import prepare_schools
from tests.fakes.fake_census import FakeCensus
from tests.geo import schools_fixture as fx

AGENT = "community-schools-map/test (+tests@example.org)"


@pytest.fixture(scope="module")
def reference():
    return fx.reference()


def fields(**columns) -> pd.DataFrame:
    """Normalized fields as geocode_schools receives them; absent columns are empty."""
    n = max(len(v) for v in columns.values())
    names = ("lat", "lon", "address", "city", "state", "zip", "zip_raw", "country")
    table = {name: columns.get(name, [""] * n) for name in names}
    if "zip_raw" not in columns:
        table["zip_raw"] = table["zip"]
    if "country" not in columns:
        table["country"] = ["US"] * n
    return pd.DataFrame(table).astype("str")


def one(reference, **values) -> pd.Series:
    placed, _ = geocode_schools(fields(**{k: [v] for k, v in values.items()}), reference)
    return placed.iloc[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("40.7128", 40.7128),
        ("-73.95", -73.95),
        ("40,7128", 40.7128),
        ("'-73.95", -73.95),
        ("73°57'W", -(73 + 57 / 60)),
        ("40° 42' 46\" N", 40 + 42 / 60 + 46 / 3600),
        ("W 73.5", -73.5),
        ("12 S", -12.0),
    ],
)
def test_parse_degrees(text, expected):
    assert parse_degrees(pd.Series([text])).iloc[0] == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "abc", "40.7.1", "1x", "40°75'N"])
def test_parse_degrees_rejects_non_coordinates(text):
    assert math.isnan(parse_degrees(pd.Series([text])).iloc[0])


def test_given_coordinates_inside_the_stated_state(reference):
    row = one(reference, lat="38.25", lon="-99.25", state="KS", zip="67001")
    assert (row["geocode_method"], row["precision"]) == ("given", "given")
    assert (row["lat"], row["lon"]) == (38.25, -99.25)
    assert row["geocode_note"] == ""


def test_swapped_out_of_range_is_fixed(reference):
    row = one(reference, lat="-99.25", lon="38.25", state="KS")
    assert row["geocode_method"] == "given-swapped"
    assert (row["lat"], row["lon"]) == (38.25, -99.25)
    assert "swapped" in row["geocode_note"]


def test_swapped_in_range_is_fixed_when_the_swap_lands_in_the_state(reference):
    # (-69, 45) is a valid point (Southern Ocean); swapped it is in ME, the stated state.
    row = one(reference, lat="-69", lon="45", state="ME")
    assert row["geocode_method"] == "given-swapped"
    assert (row["lat"], row["lon"]) == (45.0, -69.0)


def test_swapped_detected_without_a_stated_state(reference):
    row = one(reference, lat="-69", lon="45")
    assert row["geocode_method"] == "given-swapped"


def test_lost_minus_sign_is_fixed(reference):
    row = one(reference, lat="38.25", lon="99.25", state="KS")
    assert row["geocode_method"] == "given-fixed"
    assert row["lon"] == -99.25
    assert "sign" in row["geocode_note"]


def test_point_far_outside_stated_state_is_kept_and_flagged(reference):
    row = one(reference, lat="40.0", lon="-99.0", state="KS")  # in NE, 111 km north of KS
    assert row["geocode_method"] == "given"
    assert row["outside_state"]
    assert "111." in row["geocode_note"] and "outside the stated state KS" in row["geocode_note"]
    assert "it lies in NE" in row["geocode_note"]


def test_point_just_outside_the_state_edge_is_not_flagged(reference):
    # 0.5 km east of KS's east edge (lon -98) at lat 38: within the 1 km tolerance.
    lon = -98.0 + 0.5 / (111.32 * np.cos(np.radians(38.0)))
    row = one(reference, lat="38.0", lon=f"{lon:.6f}", state="KS")
    assert row["geocode_method"] == "given"
    assert not row["outside_state"]
    assert row["geocode_note"] == ""
    assert OUTSIDE_STATE_KM == 1.0


def test_point_in_the_ocean_falls_back_to_the_zip(reference):
    row = one(reference, lat="30.0", lon="-60.0", state="KS", zip="67001")
    assert (row["geocode_method"], row["precision"]) == ("zip-centroid", "zip")
    assert row["at_sea"]
    assert "more than 1 km from every US state" in row["geocode_note"]


def test_point_in_the_ocean_with_only_a_state_goes_to_the_state(reference):
    row = one(reference, lat="30.0", lon="-60.0", state="KS")
    assert (row["geocode_method"], row["precision"]) == ("state-centroid", "state")
    assert "at sea or abroad" in row["geocode_note"] and "only the state is known" in row["geocode_note"]


def test_point_in_the_ocean_without_an_address_is_rejected(reference):
    row = one(reference, lat="30.0", lon="-60.0")
    assert pd.isna(row["geocode_method"])
    assert "at sea or abroad" in row["reject_reason"]
    assert math.isnan(row["lat"])


def test_null_island_falls_back_or_is_rejected(reference):
    placed, _ = geocode_schools(fields(lat=["0", "0"], lon=["0", "0.0"], zip=["67002", ""]), reference)
    assert placed["geocode_method"].iloc[0] == "zip-centroid"
    assert "(0, 0) are a placeholder" in placed["geocode_note"].iloc[0]
    assert "(0, 0) are a placeholder" in placed["reject_reason"].iloc[1]


def test_non_numeric_coordinates(reference):
    row = one(reference, lat="north-ish", lon="-99")
    assert "coordinates ('north-ish', '-99') are not numbers" in row["reject_reason"]


def test_out_of_range_coordinates(reference):
    row = one(reference, lat="200", lon="300")
    assert "out of range" in row["reject_reason"]


def test_zip_centroid_and_zip_in_another_state(reference):
    placed, _ = geocode_schools(fields(zip=["67001", "00501", "68001"], state=["KS", "KS", "KS"]), reference)
    assert placed["geocode_method"].tolist() == ["zip-centroid"] * 3
    assert (placed["lat"].iloc[1], placed["lon"].iloc[1]) == (38.5, -99.2)  # from the zipcodes-only table
    assert placed["zip_state_mismatch"].tolist() == [False, False, True]
    assert placed["geocode_note"].iloc[2] == "ZIP 68001 is in NE, not the stated KS"


def test_unknown_zip_falls_back_to_city(reference):
    row = one(reference, zip="99999", city="Alpha", state="KS")
    assert (row["geocode_method"], row["precision"]) == ("gazetteer", "city")
    assert "ZIP '99999' is not in the ZIP table" in row["geocode_note"]


def test_city_takes_the_most_populous_match(reference):
    row = one(reference, city="  alpha ", state="KS")
    assert (row["lat"], row["lon"]) == (38.2, -99.4)


def test_city_from_zip_table_names(reference):
    row = one(reference, city="Beta", state="KS")  # not in the gazetteer; two ZIP points named Beta
    assert row["precision"] == "city"
    assert row["lat"] == pytest.approx((38.0 + 37.5) / 2)
    assert "mean of its ZIP points" in row["geocode_note"]


def test_city_table_prefers_the_gazetteer(reference):
    table = city_table(reference).set_index(["city_norm", "state"])
    assert table.loc[("alpha", "KS"), "source"] == "gazetteer"
    assert table.loc[("beta", "KS"), "source"] == "zip-cities"


def test_state_only_is_placed_inside_the_state_and_flagged(reference):
    row = one(reference, city="Nowhere", state="NE")
    assert (row["geocode_method"], row["precision"]) == ("state-centroid", "state")
    assert 39 < row["lat"] < 41 and -100 < row["lon"] < -98
    assert "city 'Nowhere' not found in NE" in row["geocode_note"]
    assert "only the state is known" in row["geocode_note"]


def test_nothing_usable_is_rejected_in_words(reference):
    row = one(reference, address="somewhere")
    assert (
        row["reject_reason"]
        == "cannot place the school: no coordinates, ZIP, city and state, or state to place it by"
    )


def test_canadian_postal_code_uses_the_city(reference):
    placed, _ = geocode_schools(
        fields(
            zip=["M5V 3L9", "K1A 0B1", "K1A 0B1"],
            city=["Toronto", "", "Ottawa"],
            state=["ON", "", ""],
            country=["CA", "CA", "CA"],
        ),
        reference,
    )
    assert placed["geocode_method"].iloc[0] == "gazetteer"
    assert placed["lat"].iloc[0] == pytest.approx(43.70643)
    assert "Canadian postal codes cannot be geocoded offline" in placed["reject_reason"].iloc[1]
    # A Canadian city with no province: the most populous Canadian place of that name.
    assert placed["lat"].iloc[2] == pytest.approx(45.41117)


def test_canadian_point_is_checked_against_canada(reference):
    placed, _ = geocode_schools(
        fields(lat=["43.65", "38.25"], lon=["-79.38", "-99.25"], state=["ON", "ON"], country=["CA", "CA"]),
        reference,
    )
    assert placed["geocode_method"].tolist() == ["given", "given"]
    assert placed["geocode_note"].iloc[0] == ""
    assert "point is not in Canada (it lies in KS)" in placed["geocode_note"].iloc[1]


def test_chain_is_vectorized_over_many_rows(reference):
    n = 20_000
    rng = np.random.default_rng(1)
    lat = rng.uniform(37.1, 38.9, n)
    lon = rng.uniform(-99.9, -98.1, n)
    table = fields(
        lat=np.char.mod("%.5f", lat).tolist(), lon=np.char.mod("%.5f", lon).tolist(), state=["KS"] * n
    )
    placed, _ = geocode_schools(table, reference)
    assert (placed["geocode_method"] == "given").all()
    np.testing.assert_allclose(placed["lat"], np.round(lat, 5))


# --------------------------------------------------------------------------
# Online hand-off: only rows with a street address not yet at street precision.


def test_online_census_places_street_addresses_only(reference, tmp_path):
    raw = pd.DataFrame(
        {
            "Name": ["Census HQ", "Given", "No street", "Unknown street"],
            "Address": ["4600 Silver Hill Rd", "4600 Silver Hill Rd", "", "1 Nowhere Ln"],
            "City": ["Washington", "Washington", "Alpha", "Alpha"],
            "State": ["DC", "KS", "KS", "KS"],
            "Zip": ["20233", "67001", "", "67001"],
            "Lat": ["", "38.1", "", ""],
            "Lon": ["", "-99.1", "", ""],
        }
    )
    with FakeCensus() as fake:
        result = prepare_schools(
            raw,
            reference,
            online="census",
            geocode_cache=tmp_path / "geocode.sqlite",
            online_base_url=fake.url,
            online_user_agent=AGENT,
        )
        sent = [record[1] for entry in fake.requests for record in entry.get("records", [])]
    schools = result.schools.set_index("name")
    assert schools.loc["Census HQ", "geocode_method"] == "census"
    assert schools.loc["Census HQ", "precision"] == "street"
    assert schools.loc["Census HQ", "lat"] == pytest.approx(38.845985)
    assert schools.loc["Given", "geocode_method"] == "given"
    assert schools.loc["Unknown street", "geocode_method"] == "zip-centroid"  # no match: offline result kept
    # Given coordinates and rows without a street are never sent.
    assert sorted(sent) == ["1 Nowhere Ln", "4600 Silver Hill Rd"]
    assert result.report["online"] == {"provider": "census", "asked": 2, "matched": 1}
    assert result.report["by_precision"]["street"] == 1


def test_online_failure_keeps_offline_results_with_a_warning(reference, tmp_path):
    raw = pd.DataFrame(
        {"Name": ["A"], "Address": ["1 Main St"], "City": ["Alpha"], "State": ["KS"], "Zip": ["67001"]}
    )
    with FakeCensus(fail_after=0) as fake:
        result = prepare_schools(
            raw,
            reference,
            online="census",
            geocode_cache=tmp_path / "geocode.sqlite",
            online_base_url=fake.url,
            online_user_agent=AGENT,
        )
    assert result.schools["geocode_method"].tolist() == ["zip-centroid"]
    assert any("online geocoding (census) failed" in w for w in result.report["warnings"])


def test_no_online_call_by_default(reference, tmp_path):
    raw = pd.DataFrame(
        {
            "Name": ["A"],
            "Address": ["4600 Silver Hill Rd"],
            "City": ["Washington"],
            "State": ["DC"],
            "Zip": ["20233"],
        }
    )
    with FakeCensus() as fake:
        result = prepare_schools(raw, reference, geocode_cache=tmp_path / "geocode.sqlite")
        assert fake.hits == 0
    assert "online" not in result.report


def test_online_needs_a_known_provider_and_a_cache(reference, tmp_path):
    from geo.errors import InvalidParameterError

    table = fields(zip=["67001"])
    with pytest.raises(InvalidParameterError, match="unknown online geocoder 'google'"):
        geocode_schools(table, reference, online="google", cache_path=tmp_path / "c.sqlite")
    with pytest.raises(InvalidParameterError, match="cache_path"):
        geocode_schools(table, reference, online="census")
