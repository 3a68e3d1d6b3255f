"""The labelled synthetic sample: schools and coalitions, plus the coalitions table format.

The real list of Community Schools cannot be had here, so the service ships
a deterministic, seeded, clearly labelled sample as its default
(docs/SCHOOLS.md, "The sample"). It has the shape of a real school list and
goes through the very loader a real list uses. Every record says it is a
sample: ``is_sample`` is true and every name starts with "Sample".

The sample coalitions table has the documented format of a real one
(:mod:`geo.coalitions`, which reads, validates and dissolves either).
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.coalitions import COALITION_COLUMNS
from geo.coalitions import TEXT_COLUMNS as COALITION_TEXT_COLUMNS
from geo.enrich import polygon_at
from geo.reference import Reference

logger = logging.getLogger(__name__)

#: The notice every download of sample data carries (GeoJSON ``notice``, GeoPackage ``about``).
SAMPLE_NOTICE = (
    "SAMPLE DATA: these schools are generated for demonstration and are not a real list of Community Schools"
)
#: The Coalition's count of Community Schools, the default sample size.
SAMPLE_SIZE = 5_589
SAMPLE_SEED = 20261128
#: "A few dozen" schools in Canadian cities (issue #3).
SAMPLE_CANADA = 36
#: Of the 50 states, this many get no sample school (issue #3: schools in 47
#: states, DC and PR). They are drawn with the seed; docs/SCHOOLS.md names them.
STATES_WITHOUT_SCHOOLS = 3
#: Share of sample rows given as coordinates; the rest carry an address only, to
#: exercise the geocoding chain: ZIP (most of the rest) or city and state.
SHARE_WITH_COORDINATES = 0.85
SHARE_ZIP_ONLY = 0.10
#: Grade spans and their shares, loosely after the mix of US public schools
#: (elementary most common, then high and middle schools; NCES Digest table 216.20).
GRADES = {
    "PK-5": 0.26,
    "K-5": 0.16,
    "PK-8": 0.06,
    "K-8": 0.08,
    "6-8": 0.17,
    "9-12": 0.18,
    "PK-12": 0.03,
    "K-12": 0.03,
    "7-12": 0.03,
}
#: The earlier invented partner kinds, kept only for the size of the draw that picked them
#: (the lead partners now come from :mod:`geo.sample_records`).
PARTNERS = (
    "United Way of {city}",
    "{city} YMCA",
    "Boys & Girls Club of {city}",
    "{city} Community Health Center",
    "{city} Family Resource Center",
    "{city} Community Action Agency",
    "University partnership ({city})",
    "{city} Public Library",
    "{city} Food Bank",
)
STREETS = (
    "Main St",
    "School St",
    "Oak Ave",
    "Maple Ave",
    "Park Ave",
    "Washington St",
    "Lincoln Ave",
    "Church St",
    "Elm St",
    "High St",
    "Cedar Rd",
    "Lake Dr",
    "Hill Rd",
    "Union St",
    "Pine St",
)
#: Sample schools are spread around their ZCTA's point by a normal jitter whose
#: scale is a quarter of the ZCTA's width, within these bounds (km).
JITTER_KM = (0.2, 4.0)
KM_PER_DEGREE = 111.32
SAMPLE_COLUMNS = (
    "School Name",
    "Address",
    "City",
    "State",
    "ZIP",
    "Latitude",
    "Longitude",
    "Grades",
    "Lead Partner",
    "District",
    "Year Started",
    "Country",
    "is_sample",
)

#: Coalitions: the Coalition reports 40 states and territories with an
#: existing or developing statewide coalition (issue #3).
COALITIONS_ACTIVE = 40
COALITIONS_EXISTING = 27
#: How many sample coalitions cover a list of counties (regional/local) rather than a whole state.
COALITIONS_REGIONAL = 4
REGIONAL_MAX_COUNTIES = 6
REGIONAL_MIN_STATE_COUNTIES = 20


def _sample_states(states: gpd.GeoDataFrame, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    scope = states[states["in_scope"]].sort_values("statefp")
    fifty = scope[~scope["stusps"].isin(["DC", "PR"])]["stusps"].tolist()
    skipped = sorted(rng.choice(fifty, size=STATES_WITHOUT_SCHOOLS, replace=False).tolist())
    return [s for s in scope["stusps"] if s not in skipped], skipped


def states_without_sample_schools(reference: Reference, *, seed: int = SAMPLE_SEED) -> list[str]:
    """Return the three states the sample leaves without schools for ``seed``."""
    return _sample_states(reference.states, np.random.default_rng(seed))[1]


def _jitter_inside(
    lon: np.ndarray,
    lat: np.ndarray,
    scale_km: np.ndarray,
    codes: np.ndarray,
    states: gpd.GeoDataFrame,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Jitter points, keeping each inside the state named in ``codes`` (retries halve the scale)."""
    out_lon, out_lat = lon.copy(), lat.copy()
    todo = np.arange(len(lon))
    scale = scale_km.copy()
    for _ in range(6):
        if len(todo) == 0:
            break
        d_lat = rng.normal(0.0, 1.0, len(todo)) * scale[todo] / KM_PER_DEGREE
        d_lon = (
            rng.normal(0.0, 1.0, len(todo)) * scale[todo] / (KM_PER_DEGREE * np.cos(np.radians(lat[todo])))
        )
        cand_lon, cand_lat = lon[todo] + d_lon, lat[todo] + d_lat
        inside = polygon_at(cand_lon, cand_lat, states, "stusps") == codes[todo]
        out_lon[todo[inside]], out_lat[todo[inside]] = cand_lon[inside], cand_lat[inside]
        todo = todo[~inside]
        scale[todo] /= 2.0
    # Still outside after the retries: the ZCTA's own point, which lies inside the state.
    return out_lon, out_lat


def _pick_zctas(reference: Reference, areas: list[str], count: int, rng: np.random.Generator) -> pd.DataFrame:
    zctas = reference.zctas
    pool = pd.DataFrame(zctas.drop(columns=zctas.geometry.name)).sort_values("zcta", ignore_index=True)
    pool = pool[pool["stusps"].isin(areas) & (pool["children"] > 0) & pool["city"].notna()]
    # Only ZCTAs whose point lies in their own state, so an unjittered school is inside too.
    inside = polygon_at(pool["lon"].to_numpy(float), pool["lat"].to_numpy(float), reference.states, "stusps")
    pool = pool[inside == pool["stusps"].to_numpy(dtype=object)].reset_index(drop=True)
    weight = pool["children"].to_numpy(float)
    picks = []
    if count >= len(areas):
        # One school in each area first (weighted within the area), so all 49 appear.
        for _, group in pool.groupby("stusps", sort=True):
            picks.append(
                rng.choice(group.index.to_numpy(), p=weight[group.index] / weight[group.index].sum())
            )
    rest = count - len(picks)
    chosen = np.concatenate(
        [np.array(picks, dtype=int), rng.choice(len(pool), size=rest, p=weight / weight.sum())]
    )
    return pool.iloc[chosen].reset_index(drop=True)


def _choice(rng: np.random.Generator, options: dict[str, float] | tuple[str, ...], size: int) -> np.ndarray:
    if isinstance(options, dict):
        keys = list(options)
        p = np.array([options[k] for k in keys])
        return np.array(keys, dtype=object)[rng.choice(len(keys), size=size, p=p / p.sum())]
    return np.array(options, dtype=object)[rng.integers(0, len(options), size=size)]


def _lead_partners(rng: np.random.Generator, rows: pd.DataFrame, seed: int) -> pd.Series:
    """Return each school's invented lead partner, one of about 300 sample partners (issue 14).

    The partners come from :func:`geo.sample_records.lead_partner_names` (its own
    generator), so the partner records link to these very names. One draw of the
    main generator is still taken, as before, so the rest of the sample is unchanged.
    """
    from geo.sample_records import lead_partner_names

    rng.integers(0, len(PARTNERS), size=len(rows))
    return lead_partner_names(rows["State"], rows["City"], seed=seed + 11)


def generate_sample(
    reference: Reference, *, n: int = SAMPLE_SIZE, seed: int = SAMPLE_SEED, canada: int = SAMPLE_CANADA
) -> pd.DataFrame:
    """Return a deterministic synthetic school list, shaped like a real input file.

    Parameters
    ----------
    reference : Reference
        ``states`` (with ``in_scope``), ``zctas`` (with ``children``) and the
        ``gazetteer``.
    n : int
        Number of schools.
    seed : int
        Seed of the random generator; equal seeds give equal tables.
    canada : int
        Schools in Canadian cities (at most half of ``n``).

    Returns
    -------
    DataFrame
        Text columns :data:`SAMPLE_COLUMNS`, ``is_sample`` "true" on every
        row. US schools sit in 47 states, DC and PR, at ZCTAs drawn by child
        population and jittered inside the right state; most rows give
        coordinates, some only an address (ZIP, or city and state).
    """
    if n < 1:
        msg = f"sample size must be at least 1, got {n!r}"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    areas, skipped = _sample_states(reference.states, rng)
    n_canada = min(max(int(canada), 0), n // 2)
    us = _pick_zctas(reference, areas, n - n_canada, rng)
    us = us.sort_values(["stusps", "zcta"], kind="stable", ignore_index=True)
    width_km = np.sqrt(us["land_area_sq_mi"].fillna(1.0).clip(lower=0.01).to_numpy(float) * 2.58999)
    scale = np.clip(width_km / 4.0, *JITTER_KM)
    codes = us["stusps"].to_numpy(dtype=object)
    lon, lat = _jitter_inside(
        us["lon"].to_numpy(float), us["lat"].to_numpy(float), scale, codes, reference.states, rng
    )
    us_rows = pd.DataFrame(
        {
            "City": us["city"].astype("str"),
            "State": us["stusps"].astype("str"),
            "ZIP": us["zcta"].astype("str"),
            "lat": lat,
            "lon": lon,
            "Country": "US",
        }
    )

    places = reference.gazetteer
    places = places[(places["country"] == "CA") & (places["population"] >= 50_000)].reset_index(drop=True)
    if n_canada and places.empty:
        msg = "the gazetteer has no Canadian cities to place the Canadian sample schools in"
        raise ValueError(msg)
    pick = (
        rng.choice(len(places), size=n_canada, p=places["population"] / places["population"].sum())
        if n_canada
        else np.array([], dtype=int)
    )
    ca = places.iloc[pick].sort_values(["state", "city"], kind="stable", ignore_index=True)
    spread = rng.normal(0.0, 1.0, (2, len(ca))) * 1.5 / KM_PER_DEGREE
    ca_rows = pd.DataFrame(
        {
            "City": ca["city"].astype("str"),
            "State": ca["state"].astype("str"),
            "ZIP": "",
            "lat": ca["lat"].to_numpy(float) + spread[0],
            "lon": ca["lon"].to_numpy(float) + spread[1] / np.cos(np.radians(ca["lat"].to_numpy(float))),
            "Country": "CA",
        }
    )
    rows = pd.concat([us_rows, ca_rows], ignore_index=True)
    total = len(rows)

    width = max(4, len(str(total)))
    number = pd.Series(np.arange(1, total + 1)).astype("str").str.zfill(width)
    kind = rng.random(total)
    with_coordinates = kind < SHARE_WITH_COORDINATES
    zip_only = ~with_coordinates & (kind < SHARE_WITH_COORDINATES + SHARE_ZIP_ONLY)
    # Canadian rows have no postal code (none can be placed offline): coordinates or city only.
    has_zip = (rows["Country"] == "US").to_numpy() & (with_coordinates | zip_only)
    street = (
        pd.Series(rng.integers(1, 9_900, total)).astype("str")
        + " "
        + pd.Series(_choice(rng, STREETS, total), dtype="str")
    )
    year = 2026 - np.floor(np.sqrt(rng.random(total)) * 18).astype(int)  # more recent starts are commoner
    sample = pd.DataFrame(
        {
            "School Name": "Sample Community School "
            + number
            + " ("
            + rows["City"]
            + ", "
            + rows["State"]
            + ")",
            "Address": street,
            "City": rows["City"],
            "State": rows["State"],
            "ZIP": rows["ZIP"].where(has_zip, ""),
            "Latitude": pd.Series(np.char.mod("%.6f", rows["lat"].to_numpy(float))).where(
                with_coordinates, ""
            ),
            "Longitude": pd.Series(np.char.mod("%.6f", rows["lon"].to_numpy(float))).where(
                with_coordinates, ""
            ),
            "Grades": pd.Series(_choice(rng, GRADES, total), dtype="str"),
            "Lead Partner": _lead_partners(rng, rows, seed),
            "District": "Sample " + rows["City"] + " School District",
            "Year Started": pd.Series(year).astype("str"),
            "Country": rows["Country"],
            "is_sample": "true",
        }
    )
    logger.info(
        "sample: %d schools (%d in Canada), seed %d; states without schools: %s",
        total,
        n_canada,
        seed,
        ", ".join(skipped),
    )
    return sample.astype("str")[list(SAMPLE_COLUMNS)]


# --------------------------------------------------------------------------
# Coalitions.


def _neighbours(counties: gpd.GeoDataFrame, start: int, limit: int) -> list[int]:
    """Return ``start`` and up to ``limit - 1`` counties touching it (same state), in index order."""
    shape = counties.geometry.iloc[start]
    touching = counties.sindex.query(shape, predicate="intersects")
    others = sorted(int(i) for i in touching if i != start)
    return [start, *others[: limit - 1]]


def sample_coalitions(
    states: gpd.GeoDataFrame, counties: gpd.GeoDataFrame, *, seed: int = SAMPLE_SEED
) -> pd.DataFrame:
    """Return the sample coalitions table: one row per state and territory.

    Exactly :data:`COALITIONS_ACTIVE` of the 52 in-scope areas (50 states,
    DC, PR) have a coalition at one of the four stages (:data:`COALITIONS_EXISTING`
    of them evolving or expanding, the rest exploring or emerging); a few of them
    (:data:`COALITIONS_REGIONAL`) cover a list of neighbouring counties
    rather than the whole state. The island territories have none.

    Parameters
    ----------
    states, counties : GeoDataFrame
        The reference layers (``stusps``, ``name``, ``in_scope``; ``geoid``,
        ``statefp``, ``name``).
    seed : int
        Seed of the random draw.

    Returns
    -------
    DataFrame
        :data:`COALITION_COLUMNS`, in state FIPS order; ``is_sample`` true.
    """
    rng = np.random.default_rng(seed)
    ordered = states.sort_values("statefp", ignore_index=True)
    scope = ordered[ordered["in_scope"]]["stusps"].tolist()
    active = rng.choice(scope, size=min(COALITIONS_ACTIVE, len(scope)), replace=False).tolist()
    existing = set(active[:COALITIONS_EXISTING])
    # Regional coalitions only where a state has counties enough to list a region of them.
    county_counts = counties["statefp"].value_counts()
    big = [
        c
        for c in active
        if county_counts.get(ordered.set_index("stusps").at[c, "statefp"], 0) >= REGIONAL_MIN_STATE_COUNTIES
    ]
    regional = set(rng.choice(big, size=min(COALITIONS_REGIONAL, len(big)), replace=False).tolist())
    # The stages (docs/RECORDS.md): the "existing" draw splits into evolving and expanding, the
    # "developing" one into exploring and emerging, by a second generator so the draws above stay put.
    stage_rng = np.random.default_rng(seed + 7)
    # (A small test world may have fewer active states than COALITIONS_EXISTING.)
    established, starting = active[:COALITIONS_EXISTING], active[COALITIONS_EXISTING:]
    later = dict(
        zip(
            established,
            stage_rng.choice(["evolving", "expanding"], len(established), p=[0.6, 0.4]),
            strict=True,
        )
    )
    earlier = dict(
        zip(starting, stage_rng.choice(["exploring", "emerging"], len(starting), p=[0.4, 0.6]), strict=True)
    )
    rows = []
    for i, (_, state) in enumerate(ordered.iterrows()):  # one row per state: 56 iterations
        code = state["stusps"]
        status = "existing" if code in existing else "developing" if code in active else "none"
        stage = later.get(code) or earlier.get(code) or "none"
        row = {
            "stusps": code,
            "stage": stage,
            "status": status,
            "coalition_name": None,
            "lead_organizations": None,
            "contact_name": None,
            "contact_email": None,
            "contact_phone": None,
            "contact_public": False,
            "website": None,
            "join_url": None,
            "area_type": None,
            "county_fips": None,
            "is_sample": True,
        }
        if status != "none":
            key = code.lower()
            row.update(
                coalition_name=f"Sample {state['name']} Coalition for Community Schools",
                area_type="state",
                lead_organizations=f"Sample {state['name']} Community Schools Partnership; "
                f"Sample {state['name']} Education Association",
                contact_name=f"Sample Contact ({code})",
                contact_email=f"coalition-{key}@example.org",
                # Every other coalition agrees to show its contact, so both cases are in the sample.
                contact_public=i % 2 == 0,
                website=f"https://example.org/sample/coalitions/{key}",
                join_url=f"https://example.org/sample/coalitions/{key}/join",
            )
        if code in regional:
            local = counties[counties["statefp"] == state["statefp"]].sort_values("geoid", ignore_index=True)
            if len(local):
                start = int(rng.integers(len(local)))
                members = _neighbours(local, start, REGIONAL_MAX_COUNTIES)
                row.update(
                    area_type="counties",
                    county_fips=";".join(local["geoid"].iloc[members]),
                    coalition_name=f"Sample {local['name'].iloc[start]} Area Community Schools Network",
                )
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(COALITION_COLUMNS))
    for column in COALITION_TEXT_COLUMNS:
        table[column] = table[column].astype("str")
    return table
