"""One school in its setting: nearby schools, coalition, communities, partners, directions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.reach import LatLonIndex
from geo.school_profile import (
    directions_links,
    is_school_id,
    nearby_positions,
    school_coalition,
    school_communities,
    school_partners,
)


def haversine_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle oracle, written out (mean Earth radius, IUGG: 3,958.7613 mi)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return float(2 * 3958.7613 * np.arcsin(np.sqrt(a)))


def test_nearby_leaves_the_school_out_and_sorts_by_great_circle_miles():
    lat = np.array([40.0, 40.1, 40.0, 41.0, 40.02])
    lon = np.array([-83.0, -83.0, -83.3, -83.0, -83.0])
    index = LatLonIndex(lat, lon)
    positions, miles, within = nearby_positions(index, 0, 40.0, -83.0, k=3, radius_mi=25)
    assert 0 not in positions.tolist()
    assert positions.tolist() == [4, 1, 2]
    expected = [haversine_miles(40.0, -83.0, lat[p], lon[p]) for p in positions]
    np.testing.assert_allclose(miles, expected, rtol=1e-6)
    assert within


def test_nearby_beyond_the_radius_lists_the_nearest_with_within_false():
    index = LatLonIndex(np.array([40.0, 45.0, 46.0]), np.array([-83.0, -83.0, -83.0]))
    positions, miles, within = nearby_positions(index, 0, 40.0, -83.0, k=5, radius_mi=25)
    assert positions.tolist() == [1, 2] and not within
    assert miles[0] > 300


COALITIONS = pd.DataFrame(
    {
        "stusps": ["OH", "IL", "TX"],
        "stage": ["expanding", "emerging", "none"],
        "coalition_name": ["Ohio Coalition", "Chicago Area Coalition", None],
        "lead_organizations": ["OEA", "CPS", None],
        "contact_name": ["Ann", "Bo", None],
        "contact_email": ["ann@example.org", "bo@example.org", None],
        "contact_phone": [None, None, None],
        "contact_public": [True, False, False],
        "join_url": ["https://example.org/join", None, None],
        "area_type": ["state", "counties", None],
        "county_fips": [None, "17031;17043", None],
    }
)


def test_coalition_of_the_school_state_with_public_contact_only():
    ohio = school_coalition(COALITIONS, "OH", "39049")
    assert ohio["coalition_name"] == "Ohio Coalition" and ohio["covers_school"]
    assert ohio["contact_email"] == "ann@example.org" and ohio["join_url"] == "https://example.org/join"
    illinois = school_coalition(COALITIONS, "IL", "17001")
    assert illinois["contact_email"] is None and illinois["contact_name"] is None  # not public
    assert not illinois["covers_school"]  # a regional coalition, another county
    assert school_coalition(COALITIONS, "IL", "17031")["covers_school"]
    assert school_coalition(COALITIONS, "TX", "48001") is None  # stage none: no coalition
    assert school_coalition(COALITIONS, None, None) is None


def test_communities_by_area_district_or_by_hand():
    communities = pd.DataFrame(
        {
            "community_id": ["c1", "c2", "c3", "c4"],
            "name": ["Cook", "Springfield District", "Hand-picked", "Elsewhere"],
            "stusps": ["IL", "IL", "OH", "IL"],
            "lead_organization": ["A", "B", "C", "D"],
            "lead_type": ["county"] * 4,
            "area_type": ["counties", "district", "counties", "counties"],
            "county_fips": ["17031", None, "39001", "17099"],
            "district": [None, "Springfield SD 186", None, None],
            "school_ids": [None, None, "cs-00000000000000aa", None],
        }
    )
    school = pd.DataFrame(
        {
            "school_id": ["cs-00000000000000aa"],
            "stusps": ["IL"],
            "county_fips": ["17031"],
            "district": ["springfield sd 186"],
        }
    )
    found = school_communities(communities, school)
    assert found["community_id"].tolist() == ["c1", "c3", "c2"]  # sorted by name
    assert school_communities(communities.iloc[0:0], school).empty


def test_partners_lead_first_with_their_role():
    partners = pd.DataFrame(
        {
            "partner_id": ["p1", "p2", "p3"],
            "name": ["Zed Health", "Acme Club", "Other"],
            "partner_type": ["health"] * 3,
        }
    )
    links = pd.DataFrame(
        {
            "partner_id": ["p2", "p1", "p3"],
            "school_id": ["s1", "s1", "s2"],
            "role": ["supporting", "lead", "lead"],
        }
    )
    found = school_partners(partners, links, "s1")
    assert found[["partner_id", "role"]].to_dict("records") == [
        {"partner_id": "p1", "role": "lead"},
        {"partner_id": "p2", "role": "supporting"},
    ]
    assert school_partners(partners, links, "nobody").empty


def test_directions_link_and_geo_uri():
    links = directions_links(40.244434, -82.809933)
    assert links["osm"] == "https://www.openstreetmap.org/directions?to=40.24443%2C-82.80993"
    assert links["geo"] == "geo:40.24443,-82.80993"


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("cs-59f28c7ab68ee74a", True),
        ("nces-200000100001", True),
        ("cs-59f28c7ab68ee74a-2", True),
        ("bad id", False),
        ("nearest", False),
        ("cs-", False),
        ("cs-a/b", False),
    ],
)
def test_school_id_shape(text, ok):
    assert is_school_id(text) is ok
