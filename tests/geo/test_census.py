"""The census form's check (geo.census) and duplicate detection on constructed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.census import CENSUS_FIELDS, check_census, other_partner_list, school_values
from geo.census_duplicates import likely_duplicates

GOOD = {
    "name": "Lincoln Elementary",
    "nces_id": "1709 9300 0708",
    "address": "1 Main St",
    "city": "Chicago",
    "state": "illinois",
    "zip": "60614-1234",
    "country": "US",
    "contact_name": "Ada Lovelace",
    "contact_email": "ada@example.org",
    "grades": "pk - 5, 9-12",
    "setting": "urban",
    "element_coordination": "yes",
    "element_leadership": "in_progress",
    "element_planning": "no",
    "stage": "emerging",
    "other_partners": "Sample Food Bank\n\n; Sample YMCA",
}


def test_a_good_answer_is_normalized_and_the_setting_is_kept_as_reported() -> None:
    check = check_census(GOOD)
    assert check.ok, check.errors
    values = check.values
    assert (values["state"], values["zip"], values["nces_id"]) == ("IL", "60614", "170993000708")
    assert values["grades"] == "PK-5, 9-12"
    assert values["setting"] == "urban" and "locale" not in values  # the reported setting, not a locale
    assert other_partner_list(values["other_partners"]) == ["Sample Food Bank", "Sample YMCA"]
    assert school_values(values)["state"] == "IL" and "setting" not in school_values(values)


def test_every_bad_field_gets_its_own_message_quoting_the_value_and_the_typed_text_is_kept() -> None:
    bad = GOOD | {
        "name": "",
        "contact_email": "ada at example",
        "zip": "6061",
        "grades": "K to 8",
        "stage": "finished",
        "element_planning": "maybe",
        "state": "Ontario",
        "city": "x" * 101,
    }
    check = check_census(bad)
    assert set(check.errors) == {
        "name",
        "contact_email",
        "zip",
        "grades",
        "stage",
        "element_planning",
        "state",
        "city",
    }
    assert "'ada at example'" in check.errors["contact_email"]
    assert "'finished'" in check.errors["stage"] and "'maybe'" in check.errors["element_planning"]
    assert "101 characters, at most 100" in check.errors["city"]
    assert "'Ontario' is not in US" in check.errors["state"]
    assert check.typed["grades"] == "K to 8"  # what was typed comes back as typed
    assert not set(check.errors) & set(check.values)


def test_a_canadian_school_takes_a_postal_code() -> None:
    check = check_census(GOOD | {"country": "CA", "state": "Ontario", "zip": "k1a0b1", "city": "Ottawa"})
    assert check.ok, check.errors
    assert (check.values["state"], check.values["zip"]) == ("ON", "K1A 0B1")


def test_every_field_has_a_limit_and_choices_are_checked() -> None:
    for spec in CENSUS_FIELDS:
        check = check_census(GOOD | {spec.name: "y" * (spec.max_length + 1)})
        assert spec.name in check.errors, spec.name


LIST = pd.DataFrame(
    {
        "school_id": ["near-same", "near-other", "far-same", "by-id", "no-place"],
        "name": [
            "Lincoln Elementary School",
            "Washington High School",
            "Lincoln Elementary School",
            "Roosevelt Academy",
            "Lincoln Elementary School",
        ],
        "nces_id": ["", "", "", "170993000708", ""],
        # 0.5 km north, 0.3 km east, 2 km north of the answer (41.9000, -87.6500); 200 km away; unknown.
        "lat": [41.9045, 41.9000, 41.9180, 40.1, np.nan],
        "lon": [-87.6500, -87.6464, -87.6500, -88.2, np.nan],
    }
)
ANSWER = {"name": "Lincoln Elementary", "nces_id": "", "lat": 41.9, "lon": -87.65}


def test_a_similar_name_within_1_km_is_a_likely_duplicate_and_farther_or_different_is_not() -> None:
    found = likely_duplicates(ANSWER, LIST)
    assert found["school_id"].tolist() == ["near-same"]
    assert found["reason"].iloc[0] == "similar name within 1 km"
    assert 0.45 < found["distance_km"].iloc[0] < 0.55
    wider = likely_duplicates(ANSWER, LIST, radius_km=3)
    assert set(wider["school_id"]) == {"near-same", "far-same"}


def test_the_same_nces_id_matches_at_any_distance_and_comes_first() -> None:
    found = likely_duplicates(ANSWER | {"nces_id": "170993000708"}, LIST)
    assert found["school_id"].tolist() == ["by-id", "near-same"]
    assert found["reason"].tolist() == ["same NCES id", "similar name within 1 km"]


def test_an_answer_with_no_place_matches_by_nces_id_only_and_the_input_is_unchanged() -> None:
    before = LIST.copy()
    assert likely_duplicates({"name": "Lincoln Elementary School"}, LIST).empty
    assert likely_duplicates({"name": "x", "nces_id": "170993000708"}, LIST)["school_id"].tolist() == [
        "by-id"
    ]
    pd.testing.assert_frame_equal(LIST, before)
    assert likely_duplicates(ANSWER, LIST.iloc[:0]).empty
    with pytest.raises(ValueError, match="radius_km must be positive, got 0"):
        likely_duplicates(ANSWER, LIST, radius_km=0)
