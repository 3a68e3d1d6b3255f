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


def lead_partner_names(
    states: pd.Series, cities: pd.Series, *, n: int = SAMPLE_PARTNERS, seed: int = SAMPLE_SEED
) -> pd.Series:
    """Return each sample school's lead partner: about ``n`` invented partners in all, by state.

    Each state (or province) gets partners in proportion to its schools (at
    least one), named after its cities with the most schools; a school takes one
    of its own city's partners when there is one, else one of its state's. The
    sample school list's ``Lead Partner`` column (:func:`geo.sample.generate_sample`)
    is this, so the partner records (:func:`sample_partners`) are its partners.

    Parameters
    ----------
    states, cities : Series
        Each school's state code and city (text), aligned.
    n, seed : int
        About how many partners, and the seed of the draw.
    """
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"state": states.astype("str").to_numpy(), "city": cities.astype("str").to_numpy()})
    per_state = frame.groupby("state").size()
    quota = np.maximum(1, np.round(per_state / per_state.sum() * n)).astype(int)
    names = np.empty(len(frame), dtype=object)
    for state, count in quota.items():
        rows = np.flatnonzero((frame["state"] == state).to_numpy())
        ranked = frame["city"].iloc[rows].value_counts().index.tolist()
        slots: list[tuple[str, str]] = []
        for j in range(int(count)):
            template, _ = PARTNER_KINDS[int(rng.integers(len(PARTNER_KINDS)))]
            city = ranked[j % len(ranked)]
            name = f"{template.format(place=city)} ({state})"
            slots.append((city, name if name not in {s for _, s in slots} else f"{name[:-1]}, {j + 1})"))
        slot_city = np.array([c for c, _ in slots], dtype=object)
        slot_name = np.array([s for _, s in slots], dtype=object)
        for row in rows:
            local = np.flatnonzero(slot_city == frame["city"].iat[row])
            names[row] = slot_name[rng.choice(local) if len(local) else rng.integers(len(slots))]
    return pd.Series(names, index=states.index, dtype="str")


def partner_type(name: str) -> str:
    """Return the type of a sample partner from its name (the :data:`PARTNER_KINDS` it was made from)."""
    for template, kind in PARTNER_KINDS:
        head, tail = template.split("{place}")
        bare = name.rsplit(" (", 1)[0]
        if bare.startswith(head) and bare.endswith(tail):
            return kind
    return "other"


def sample_partners(schools: pd.DataFrame, *, seed: int = SAMPLE_SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the sample partners and their links to the sample schools.

    The partners are the schools' lead partners (:func:`lead_partner_names`,
    the sample list's ``Lead Partner``); each school is linked to its lead
    partner and to 0–2 supporting partners of the same state.

    Parameters
    ----------
    schools : DataFrame
        The sample schools layer (``school_id``, ``lead_partner``, ``state``, ``stusps``).
    seed : int
        Seed of the supporting partners' draw.

    Returns
    -------
    (DataFrame, DataFrame)
        The partners (:data:`geo.partners.PARTNER_COLUMNS`) and the links
        (:data:`geo.partners.LINK_COLUMNS`); ``is_sample`` true.
    """
    rng = np.random.default_rng(seed + 1)
    named = schools[schools["lead_partner"].astype("str").str.startswith("Sample ")]
    frame = pd.DataFrame(
        {
            "school_id": named["school_id"].astype("str").to_numpy(),
            "lead": named["lead_partner"].astype("str").to_numpy(),
            "state": named["state"].astype("str").str.upper().to_numpy(),
        }
    )
    first = frame.drop_duplicates("lead").sort_values(["state", "lead"], ignore_index=True)
    ids = {
        name: f"sample-p-{state.lower()}-{slug(name.removeprefix('Sample '))}"
        for name, state in zip(first["lead"], first["state"], strict=True)
    }
    us = set(schools["stusps"].dropna().astype("str"))
    partners = pd.DataFrame(
        {
            "partner_id": first["lead"].map(ids),
            "name": first["lead"],
            "partner_type": first["lead"].map(partner_type),
            "website": "https://example.org/sample/partners/" + first["lead"].map(ids),
            "stusps": first["state"].where(first["state"].isin(us)),
            "school_count": 0,
            "lead_count": 0,
            "is_sample": True,
        },
        columns=list(PARTNER_COLUMNS),
    )
    pool = first.groupby("state")["lead"].apply(list).to_dict()
    supporting = rng.choice(list(SUPPORTING_PARTNERS), size=len(frame), p=list(SUPPORTING_PARTNERS.values()))
    links = []
    for school, lead, state, extra in zip(
        frame["school_id"], frame["lead"], frame["state"], supporting, strict=True
    ):
        links.append({"partner_id": ids[lead], "school_id": school, "role": "lead", "is_sample": True})
        others = [name for name in pool[state] if name != lead]
        for i in rng.permutation(len(others))[: int(extra)]:
            links.append(
                {
                    "partner_id": ids[others[int(i)]],
                    "school_id": school,
                    "role": "supporting",
                    "is_sample": True,
                }
            )
    for column in ("school_count", "lead_count"):
        partners[column] = partners[column].astype("int64")
    link_table = pd.DataFrame(links, columns=list(LINK_COLUMNS))
    logger.info("sample records: %d partners, %d partner links", len(partners), len(link_table))
    return (
        as_text_columns(partners, ("partner_id", "name", "partner_type", "website", "stusps")),
        as_text_columns(link_table, ("partner_id", "school_id", "role")),
    )
