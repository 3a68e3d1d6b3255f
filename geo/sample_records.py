"""The sample's movement records: coalition stages, Coalition Communities and partners.

Like the sample schools (:mod:`geo.sample`), every record is invented, seeded
and labelled: ``is_sample`` is true and every name starts with "Sample". The
communities and partners are drawn from the sample schools themselves, so
they link to them: about :data:`SAMPLE_COMMUNITIES` communities (most over a
few neighbouring counties, some over one sample school district) and about
:data:`SAMPLE_PARTNERS` partners, each school with one lead partner and up to
two supporting ones in its state.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from geo.communities import COMMUNITY_COLUMNS, slug
from geo.partners import LINK_COLUMNS, PARTNER_COLUMNS
from geo.records import as_text_columns

logger = logging.getLogger(__name__)

SAMPLE_COMMUNITIES = 60
SAMPLE_PARTNERS = 300
#: Share of sample communities defined by a school district rather than counties.
SHARE_DISTRICT_COMMUNITIES = 0.3
#: Each school's supporting partners: 0, 1 or 2 with these chances.
SUPPORTING_PARTNERS = {0: 0.35, 1: 0.45, 2: 0.20}
#: Invented partner kinds and their types (no real organization is named).
PARTNER_KINDS = (
    ("Sample United Way of {place}", "united_way"),
    ("Sample {place} YMCA", "nonprofit"),
    ("Sample Boys & Girls Club of {place}", "nonprofit"),
    ("Sample {place} Community Health Center", "health"),
    ("Sample {place} Family Resource Center", "nonprofit"),
    ("Sample {place} Community Action Agency", "government"),
    ("Sample University Partnership ({place})", "university"),
    ("Sample {place} Public Library", "government"),
    ("Sample {place} Food Bank", "nonprofit"),
    ("Sample {place} Faith Alliance", "faith"),
    ("Sample {place} Business Roundtable", "business"),
)
COMMUNITY_KINDS = (
    ("Sample {place} Community Schools Initiative", "nonprofit"),
    ("Sample {place} Full-Service Schools", "district"),
    ("Sample {place} County Community Schools", "county"),
    ("Sample {place} University-Assisted Community Schools", "university"),
    ("Sample United Way {place} Community Schools", "united_way"),
    ("Sample {place} Children's Cabinet", "other"),
)
SAMPLE_SEED = 20261130
#: How a sample community's lead organization is named, by lead type.
LEAD_NAMES = {
    "district": "School District",
    "county": "County Government",
    "university": "University",
    "united_way": "United Way",
    "nonprofit": "Community Partnership",
}


def _placed(schools: pd.DataFrame) -> pd.DataFrame:
    keep = schools["stusps"].notna() & schools["county_fips"].notna()
    return schools.loc[keep, ["school_id", "stusps", "county_fips", "city", "district"]].astype("str")


def sample_communities(
    schools: pd.DataFrame, counties: pd.DataFrame, *, n: int = SAMPLE_COMMUNITIES, seed: int = SAMPLE_SEED
) -> pd.DataFrame:
    """Return about ``n`` sample Coalition Communities over the sample schools' counties and districts.

    Parameters
    ----------
    schools : DataFrame
        The schools layer (``school_id``, ``stusps``, ``county_fips``, ``city``, ``district``).
    counties : DataFrame
        ``geoid``, ``statefp``, ``name`` (for county names).
    n : int
        How many communities.
    seed : int
        Seed of the draw; equal seeds give equal tables.

    Returns
    -------
    DataFrame
        :data:`geo.communities.COMMUNITY_COLUMNS`; ``is_sample`` true.
    """
    rng = np.random.default_rng(seed)
    placed = _placed(schools)
    by_county = placed.groupby("county_fips").size().sort_values(ascending=False, kind="stable")
    county_names = counties.set_index("geoid")["name"].astype("str")
    # The busiest counties (most sample schools), then neighbours by FIPS within the state.
    pool = by_county.index[: max(3 * n, 1)].to_numpy()
    chosen = rng.choice(pool, size=min(n, len(pool)), replace=False)
    rows, used = [], set()
    for i, county in enumerate(sorted(chosen)):
        state = placed.loc[placed["county_fips"] == county, "stusps"].iloc[0]
        template, lead_type = COMMUNITY_KINDS[i % len(COMMUNITY_KINDS)]
        as_district = rng.random() < SHARE_DISTRICT_COMMUNITIES
        here = placed[placed["county_fips"] == county]
        if as_district:
            district = here["district"].value_counts().index[0]
            place = district.removeprefix("Sample ").removesuffix(" School District")
            row = {
                "area_type": "district",
                "district": district,
                "county_fips": None,
                "lead_type": "district",
            }
            name = f"Sample {place} District Community Schools"
        else:
            siblings = sorted(c for c in by_county.index if c[:2] == county[:2] and c not in used)
            extra = [c for c in siblings if c != county][: int(rng.integers(0, 3))]
            codes = [county, *extra]
            place = county_names.get(county, county)
            row = {
                "area_type": "counties",
                "district": None,
                "county_fips": ";".join(codes),
                "lead_type": lead_type,
            }
            name = template.format(place=place)
            used.update(codes)
        rows.append(
            {
                "community_id": f"sample-c-{state.lower()}-{slug(name.removeprefix('Sample '))}",
                "name": name,
                "stusps": state,
                "lead_organization": f"Sample {place} {LEAD_NAMES.get(str(row['lead_type']), 'Partnership')}",
                "school_ids": None,
                "website": f"https://example.org/sample/communities/{slug(name)}",
                "school_count": 0,
                "is_sample": True,
                **row,
            }
        )
    table = pd.DataFrame(rows, columns=list(COMMUNITY_COLUMNS)).drop_duplicates(
        "community_id", ignore_index=True
    )
    table["school_count"] = table["school_count"].astype("int64")
    return as_text_columns(table, [c for c in COMMUNITY_COLUMNS if c not in ("school_count", "is_sample")])


def sample_partners(
    schools: pd.DataFrame, *, n: int = SAMPLE_PARTNERS, seed: int = SAMPLE_SEED
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return about ``n`` sample partners and their links to the sample schools.

    Each state gets partners in proportion to its schools (at least one), named
    after its cities with the most sample schools. Every school gets one lead
    partner from its state (one of its own city's when there is one) and up to
    two supporting partners.

    Returns
    -------
    (DataFrame, DataFrame)
        The partners (:data:`geo.partners.PARTNER_COLUMNS`) and the links
        (:data:`geo.partners.LINK_COLUMNS`); ``is_sample`` true.
    """
    rng = np.random.default_rng(seed + 1)
    placed = _placed(schools).reset_index(drop=True)
    per_state = placed.groupby("stusps").size()
    quota = np.maximum(1, np.round(per_state / per_state.sum() * n)).astype(int)
    partners, links = [], []
    for state, count in quota.items():
        mine = placed[placed["stusps"] == state]
        cities = mine["city"].value_counts().index.tolist()
        names: list[tuple[str, str, str]] = []
        for j in range(int(count)):
            template, kind = PARTNER_KINDS[int(rng.integers(len(PARTNER_KINDS)))]
            city = cities[j % len(cities)]
            name = template.format(place=city) + f" ({state})"
            if any(name == existing for existing, _, _ in names):
                name = template.format(place=city) + f" ({state}, {j + 1})"
            names.append((name, kind, city))
        ids = [f"sample-p-{state.lower()}-{j + 1:03d}" for j in range(len(names))]
        for pid, (name, kind, _) in zip(ids, names, strict=True):
            partners.append(
                {
                    "partner_id": pid,
                    "name": name,
                    "partner_type": kind,
                    "website": f"https://example.org/sample/partners/{pid}",
                    "stusps": state,
                    "school_count": 0,
                    "lead_count": 0,
                    "is_sample": True,
                }
            )
        city_of = np.array([c for _, _, c in names], dtype=object)
        supporting = rng.choice(
            list(SUPPORTING_PARTNERS), size=len(mine), p=list(SUPPORTING_PARTNERS.values())
        )
        for school, city, extra in zip(mine["school_id"], mine["city"], supporting, strict=True):
            local = np.flatnonzero(city_of == city)
            lead = int(rng.choice(local)) if len(local) else int(rng.integers(len(ids)))
            links.append({"partner_id": ids[lead], "school_id": school, "role": "lead", "is_sample": True})
            others = [i for i in range(len(ids)) if i != lead]
            for i in rng.permutation(others)[: int(extra)]:
                links.append(
                    {"partner_id": ids[int(i)], "school_id": school, "role": "supporting", "is_sample": True}
                )
    partner_table = pd.DataFrame(partners, columns=list(PARTNER_COLUMNS))
    for column in ("school_count", "lead_count"):
        partner_table[column] = partner_table[column].astype("int64")
    link_table = pd.DataFrame(links, columns=list(LINK_COLUMNS))
    logger.info("sample records: %d partners, %d partner links", len(partner_table), len(link_table))
    return (
        as_text_columns(partner_table, ("partner_id", "name", "partner_type", "website", "stusps")),
        as_text_columns(link_table, ("partner_id", "school_id", "role")),
    )
