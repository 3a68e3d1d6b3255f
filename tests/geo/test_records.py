"""Row accounting and checks of the record tables (issue 14, points 4-7), on constructed tables."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from geo.coalitions import import_coalitions, public_coalitions
from geo.communities import community_school_links, import_communities
from geo.partners import import_partner_schools, import_partners, partners_per_state, search_partners


def _raw(text_rows: list[dict[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(text_rows).fillna("").astype(str)


def _accounted(result) -> None:
    report = result.report
    assert report["loaded"] + report["merged"] + report["rejected"] == report["rows"]
    assert len(result.rejects) == report["rejected"]


def test_coalitions_migrate_status_to_stage_and_account_for_every_row():
    raw = _raw(
        [
            {"stusps": "IL", "status": "existing"},
            {"stusps": "IN", "status": "developing"},
            {"stusps": "OH", "stage": "Expanding", "status": "developing"},  # the stage wins
            {"stusps": "il", "status": "", "website": "https://example.org/il"},  # merged into IL
            {"stusps": "ZZ", "status": "existing"},
            {"stusps": "WI", "stage": "thriving"},
            {"stusps": "MI", "stage": "emerging", "contact_email": "not-an-email"},
        ]
    )
    result = import_coalitions(raw)
    _accounted(result)
    assert (
        result.report["rows"],
        result.report["loaded"],
        result.report["merged"],
        result.report["rejected"],
    ) == (
        7,
        3,
        1,
        3,
    )
    table = result.table.set_index("stusps")
    assert table.loc[["IL", "IN", "OH"], "stage"].tolist() == ["evolving", "emerging", "expanding"]
    assert table.loc[["IL", "IN", "OH"], "status"].tolist() == ["existing", "developing", "existing"]
    assert table.loc["IL", "website"] == "https://example.org/il"
    assert len(table) == 56 and table.loc["TX", "stage"] == "none"
    reasons = " | ".join(result.rejects["reason"])
    assert "'ZZ'" in reasons and "'thriving'" in reasons and "'not-an-email'" in reasons


def test_private_contacts_are_not_published():
    raw = _raw(
        [
            {
                "stusps": "IL",
                "stage": "evolving",
                "contact_name": "A",
                "contact_email": "a@x.org",
                "contact_public": "yes",
            },
            {
                "stusps": "IN",
                "stage": "emerging",
                "contact_name": "B",
                "contact_email": "b@x.org",
                "contact_public": "",
            },
        ]
    )
    published = public_coalitions(import_coalitions(raw).table).set_index("stusps")
    assert published.loc["IL", "contact_email"] == "a@x.org"
    assert pd.isna(published.loc["IN", "contact_email"]) and pd.isna(published.loc["IN", "contact_name"])


def test_communities_accounting_and_links():
    raw = _raw(
        [
            {"name": "North", "stusps": "IL", "lead_type": "United Way", "county_fips": "17031"},
            {
                "name": "North",
                "stusps": "IL",
                "lead_type": "united way",
                "county_fips": "17031",
                "website": "https://n.org",
            },
            {"name": "Valley", "stusps": "IL", "lead_type": "school district", "district": "Valley SD"},
            {"name": "Lost", "stusps": "IL", "lead_type": "nonprofit"},
            {"name": "Wrong", "stusps": "IL", "lead_type": "nonprofit", "county_fips": "18001"},
            {"name": "", "stusps": "IL", "lead_type": "other", "county_fips": "17031"},
        ]
    )
    result = import_communities(raw)
    _accounted(result)
    assert (result.report["loaded"], result.report["merged"], result.report["rejected"]) == (2, 1, 3)
    north = result.table.set_index("name").loc["North"]
    assert north["lead_type"] == "united_way" and north["website"] == "https://n.org"
    assert "'18001' is not a county of IL" in " ".join(result.rejects["reason"])
    schools = pd.DataFrame(
        {
            "school_id": ["a", "b", "c", "d"],
            "stusps": ["IL", "IL", "IL", "IN"],
            "county_fips": ["17031", "17043", "17043", "18001"],
            "district": ["X", "valley sd", "Other", "Valley SD"],
        }
    )
    links = community_school_links(result.table, schools)
    by = links.groupby("community_id")["school_id"].apply(sorted).to_dict()
    ids = result.table.set_index("name")["community_id"]
    assert by[ids["North"]] == ["a"]
    assert by[ids["Valley"]] == ["b"]  # same district name, same state only


def test_partners_and_links_accounting_and_distinct_partners_per_state():
    partners = import_partners(
        _raw(
            [
                {"name": "Helping Hands", "type": "Non-profit"},
                {
                    "name": "Helping Hands",
                    "type": "nonprofit",
                    "website": "https://hh.org",
                },  # same id: merged
                {"name": "City Clinic", "type": "health center", "state": "IL"},
                {"name": "Mystery", "type": "alien"},
            ]
        )
    )
    _accounted(partners)
    assert (partners.report["loaded"], partners.report["merged"], partners.report["rejected"]) == (2, 1, 1)
    ids = partners.table.set_index("name")["partner_id"]
    links = import_partner_schools(
        _raw(
            [
                {"partner_id": ids["Helping Hands"], "school_id": "a", "role": "lead"},
                {"partner_id": ids["Helping Hands"], "school_id": "b", "role": ""},
                {"partner_id": ids["City Clinic"], "school_id": "a", "role": "supporting"},
                {"partner_id": ids["City Clinic"], "school_id": "a", "role": "supporting"},
                {"partner_id": "p-nobody", "school_id": "a", "role": "lead"},
                {"partner_id": ids["City Clinic"], "school_id": "zzz", "role": "lead"},
                {"partner_id": ids["City Clinic"], "school_id": "b", "role": "boss"},
            ]
        ),
        partner_ids=set(ids),
        school_ids={"a", "b"},
    )
    _accounted(links)
    assert (links.report["loaded"], links.report["merged"], links.report["rejected"]) == (3, 1, 3)
    schools = pd.DataFrame({"school_id": ["a", "b"], "stusps": ["IL", "IN"]})
    per_state = partners_per_state(links.table, schools)
    assert per_state.to_dict() == {"IL": 2, "IN": 1}
    found = search_partners(partners.table, "clinic CITY")
    assert found["name"].tolist() == ["City Clinic"]


def test_sample_records_are_labelled_and_linked():
    from geo.sample_records import lead_partner_names, partner_type, sample_communities, sample_partners

    n = 400
    states = pd.Series(["IL" if i % 3 else "IN" for i in range(n)])
    cities = pd.Series([f"Town {i % 11}" for i in range(n)])
    leads = lead_partner_names(states, cities, n=30)
    schools = gpd.GeoDataFrame(
        {
            "school_id": [f"s{i}" for i in range(n)],
            "state": states,
            "stusps": states,
            "lead_partner": leads,
            "county_fips": [("17" if i % 3 else "18") + f"{(i % 7) * 2 + 1:03d}" for i in range(n)],
            "city": cities,
            "district": [f"Sample Town {i % 11} School District" for i in range(n)],
        },
        geometry=[Point(-88 + i / 1000, 40) for i in range(n)],
        crs="EPSG:4326",
    )
    counties = pd.DataFrame({"geoid": sorted(set(schools["county_fips"])), "name": "County"})
    communities = sample_communities(schools, counties, n=6)
    partners, links = sample_partners(schools)
    for frame in (communities, partners):
        assert frame["is_sample"].all() and frame["name"].str.startswith("Sample").all()
    assert 25 <= len(partners) <= 35 and set(partners["name"]) == set(leads)
    assert (partners["partner_type"] != "other").all()
    assert partner_type(partners["name"].iloc[0]) == partners["partner_type"].iloc[0]
    # Every school is linked to the lead partner its own row names, once, and supporters of its state.
    lead_links = links[links["role"] == "lead"].merge(partners[["partner_id", "name"]], on="partner_id")
    named = dict(zip(schools["school_id"], schools["lead_partner"], strict=True))
    assert len(lead_links) == n and all(
        named[s] == p for s, p in zip(lead_links["school_id"], lead_links["name"], strict=True)
    )
    home = dict(zip(partners["partner_id"], partners["stusps"], strict=True))
    state_of = dict(zip(schools["school_id"], schools["stusps"], strict=True))
    assert all(home[p] == state_of[s] for p, s in zip(links["partner_id"], links["school_id"], strict=True))
