"""Resolve what a person types into "find schools near me" to a point, offline.

Accepted: a ZIP (``78701`` or ZIP+4 ``78701-1234``); ``City, ST`` or ``City ST``
(USPS state or Canadian province code, or the full name); a street address,
which is placed at the ZIP it contains or else at its city and state; a plain
city name (the most populous place of that name); and ``lat, lon``. The
tables come from the build (``zip_points`` and ``gazetteer`` layers, see
docs/SCHEMA.md); nothing here touches the network. A street address is never
placed more precisely than its ZIP or city: there is no offline street-level
geocoder (/work/shared/DATA-SOURCES.md).
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geo.query import nearest_positions
from geo.reach import LatLonIndex
from geo.reference import CANADA_PROVINCES, normalize_place

logger = logging.getLogger(__name__)

#: A ZIP or ZIP+4 at the end of the text, optionally followed by the country.
_TRAILING_ZIP = re.compile(
    r"(?:^|[\s,])(\d{5})(?:-\d{4})?\s*(?:,?\s*(?:USA|US|United States))?\s*$", re.IGNORECASE
)
#: The country at the end of the text, as a word of its own: never the end of "Columbus" or "Emmaus".
_COUNTRY_SUFFIX = re.compile(
    r"(?:^|\s*,\s*|\s+)(?:USA|U\.S\.A\.?|U\.S\.?|US|United States(?: of America)?|Canada)\s*$", re.IGNORECASE
)
#: A Canadian postal code (Canada Post: letter digit letter, space, digit letter digit; never D F I O Q U).
_CANADIAN_POSTAL_CODE = re.compile(
    r"\b([ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z])\s?(\d[ABCEGHJ-NPRSTV-Z]\d)\b", re.IGNORECASE
)
#: A postal code's first letter: its region (Canada Post's postal districts) and the region's largest
#: city, offered as a search instead (the letter is all an offline app can read from the code).
POSTAL_DISTRICTS = {
    "A": ("Newfoundland and Labrador", "St. John's, NL"),
    "B": ("Nova Scotia", "Halifax, NS"),
    "C": ("Prince Edward Island", "Charlottetown, PE"),
    "E": ("New Brunswick", "Moncton, NB"),
    "G": ("eastern Quebec", "Québec, QC"),
    "H": ("Montréal", "Montréal, QC"),
    "J": ("western Quebec", "Gatineau, QC"),
    "K": ("eastern Ontario", "Ottawa, ON"),
    "L": ("central Ontario", "Mississauga, ON"),
    "M": ("Toronto", "Toronto, ON"),
    "N": ("southwestern Ontario", "London, ON"),
    "P": ("northern Ontario", "Greater Sudbury, ON"),
    "R": ("Manitoba", "Winnipeg, MB"),
    "S": ("Saskatchewan", "Saskatoon, SK"),
    "T": ("Alberta", "Calgary, AB"),
    "V": ("British Columbia", "Vancouver, BC"),
    "X": ("the Northwest Territories and Nunavut", "Yellowknife, NT"),
    "Y": ("Yukon", "Whitehorse, YT"),
}
#: Everyday names that GeoNames spells otherwise (normalized): "New York" is "New York City" there.
PLACE_ALIASES = {"new york": "new york city", "nyc": "new york city", "new york ny": "new york city"}
_LAT_LON = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*[,\s]\s*(-?\d{1,3}(?:\.\d+)?)\s*$")
#: Longest city name tried when a city and state come without a comma ("Salt Lake City UT").
_MAX_CITY_WORDS = 4


@dataclass(frozen=True)
class Location:
    """A resolved query: where to search from, and how precisely it is known.

    Attributes
    ----------
    lat, lon : float
        WGS84 degrees.
    label : str
        What was found, in words (e.g. "ZIP 78701 (Austin, TX)").
    precision : str
        ``point`` (coordinates given), ``zip`` (ZIP centroid) or ``city``.
    note : str
        Something the person should know about the place, e.g. that a ZIP's
        centre lies far from its town; empty when there is nothing to say.
    """

    lat: float
    lon: float
    label: str
    precision: str
    note: str = ""


def _region_codes() -> dict[str, str]:
    """Map normalized state/province names and codes to their postal codes."""
    import us

    names = {s.name: s.abbr for s in us.states.STATES_AND_TERRITORIES}
    names |= {"District of Columbia": "DC", "Washington DC": "DC"} | CANADA_PROVINCES
    codes = {normalize_place(pd.Series([name]))[0]: code for name, code in names.items()}
    codes |= {code.lower(): code for code in names.values()}
    return codes


_REGIONS: dict[str, str] | None = None


def region_code(text: str) -> str | None:
    """Return the postal code of a US state or Canadian province given by code or name, else None."""
    global _REGIONS
    if _REGIONS is None:
        _REGIONS = _region_codes()
    key = normalize_place(pd.Series([text]))[0]
    # normalize_place turns "st" into "saint"; a bare code never needs that.
    return _REGIONS.get(text.strip().lower()) if len(text.strip()) == 2 else _REGIONS.get(key)


def resolve_query(text: str, zip_points: pd.DataFrame, gazetteer: pd.DataFrame) -> Location | None:
    """Resolve a ZIP, "City, ST", street address or "lat, lon" to a :class:`Location`.

    Parameters
    ----------
    text : str
        What the person typed.
    zip_points : DataFrame
        ``zip, city, state, lat, lon`` (the build's ``zip_points`` layer); an
        optional ``city_norm`` column (:func:`geo.reference.normalize_place`
        of ``city``) saves normalizing it on every call.
    gazetteer : DataFrame
        ``city, city_norm, state, lat, lon`` sorted most populous first (the
        build's ``gazetteer`` layer).

    Returns
    -------
    Location or None
        None when nothing matches; the caller then explains what to type.
    """
    query = " ".join(str(text or "").split())
    if not query:
        return None
    point = _lat_lon(query)
    if point is not None:
        return point
    trailing_zip = _TRAILING_ZIP.search(query)
    if trailing_zip:
        found = _by_zip(trailing_zip.group(1), zip_points, gazetteer)
        if found is not None or query[: trailing_zip.start()].strip(" ,") == "":
            return found
        query = query[: trailing_zip.start()]  # an unknown ZIP after a city: try the city
    query = _COUNTRY_SUFFIX.sub("", query).strip(" ,")
    if not query:
        return None
    found = _by_city_and_state(query, gazetteer, zip_points)
    if found is None:
        found = _by_city(query, gazetteer)
    logger.debug("resolved %r to %s", text, found)
    return found


def _lat_lon(query: str) -> Location | None:
    match = _LAT_LON.match(query)
    if not match or "." not in query:  # "12345 6789" is not a coordinate pair
        return None
    lat, lon = float(match.group(1)), float(match.group(2))
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return Location(lat, lon, f"{lat:.4f}, {lon:.4f}", "point")


def _by_zip(code: str, zip_points: pd.DataFrame, gazetteer: pd.DataFrame | None = None) -> Location | None:
    rows = zip_points[zip_points["zip"].astype(str) == code]
    if rows.empty:
        return None
    row = rows.iloc[0]
    place = ", ".join(str(v) for v in (row.get("city"), row.get("state")) if isinstance(v, str) and v)
    label = f"ZIP {code} ({place})" if place else f"ZIP {code}"
    lat, lon = float(row["lat"]), float(row["lon"])
    note = ""
    town = _town_of(row.get("city"), row.get("state"), gazetteer) if gazetteer is not None else None
    if town is not None:
        miles = great_circle_miles(lat, lon, float(town["lat"]), float(town["lon"]))
        if miles >= FAR_FROM_TOWN_MILES:
            note = (
                f"The centre of ZIP {code} is about {miles:.0f} mi from the centre of "
                f"{town['city']}, {town['state']}; schools are measured from the ZIP's centre."
            )
    return Location(lat, lon, label, "zip", note)


#: A ZIP centre this far from its town's centre gets a note (93706 is about 9 mi from downtown Fresno).
FAR_FROM_TOWN_MILES = 3.0
EARTH_RADIUS_MILES = 3958.8


def great_circle_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the haversine distance in miles between two WGS84 points (spherical Earth, R = 3,958.8 mi)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(h)))


def _town_of(city: Any, state: Any, gazetteer: pd.DataFrame) -> pd.Series | None:
    """Return the most populous gazetteer place named ``city`` in ``state``, if any."""
    if not isinstance(city, str) or not isinstance(state, str) or not city:
        return None
    keys = _place_keys(normalize_place(pd.Series([city]))[0])
    rows = gazetteer[gazetteer["city_norm"].isin(keys) & (gazetteer["state"] == state)]
    return None if rows.empty else rows.iloc[0]


def _place_keys(key: str) -> list[str]:
    """Return the normalized names to look a place up by: itself, and its GeoNames spelling."""
    return [key, PLACE_ALIASES[key]] if key in PLACE_ALIASES else [key]


def _split_city_state(query: str) -> list[tuple[str, str]]:
    """Return the (city, state code) readings of a query, the most likely first."""
    readings = []
    parts = [p.strip() for p in query.split(",") if p.strip()]
    if len(parts) >= 2:
        state = region_code(parts[-1])
        if state:
            readings.append((parts[-2], state))
    words = parts[-1].split() if parts else []
    # "City ST", "Street City ST", "City New York": the state is the last one to three words.
    for state_words in (1, 2, 3):
        if len(words) <= state_words:
            break
        state = region_code(" ".join(words[-state_words:]))
        if not state:
            continue
        rest = words[:-state_words]
        for size in range(min(_MAX_CITY_WORDS, len(rest)), 0, -1):
            readings.append((" ".join(rest[-size:]), state))
    return readings


def _by_city_and_state(query: str, gazetteer: pd.DataFrame, zip_points: pd.DataFrame) -> Location | None:
    for city, state in _split_city_state(query):
        key = normalize_place(pd.Series([city]))[0]
        if not key:
            continue
        rows = gazetteer[gazetteer["city_norm"].isin(_place_keys(key)) & (gazetteer["state"] == state)]
        if not rows.empty:
            row = rows.iloc[0]  # most populous of the same name
            return Location(float(row["lat"]), float(row["lon"]), f"{row['city']}, {state}", "city")
        # Places too small for the gazetteer may still be a ZIP's city: use their ZIPs' middle.
        names = (
            zip_points["city_norm"]
            if "city_norm" in zip_points.columns
            else normalize_place(zip_points["city"])
        )
        zips = zip_points[(names == key) & (zip_points["state"] == state)]
        if not zips.empty:
            label = f"{str(zips['city'].iloc[0]).title()}, {state}"
            return Location(float(zips["lat"].median()), float(zips["lon"].median()), label, "city")
    return None


def _by_city(query: str, gazetteer: pd.DataFrame) -> Location | None:
    key = normalize_place(pd.Series([query]))[0]
    if not key:
        return None
    rows = gazetteer[gazetteer["city_norm"].isin(_place_keys(key))]
    if rows.empty:
        return None
    row = rows.iloc[0]
    return Location(float(row["lat"]), float(row["lon"]), f"{row['city']}, {row['state']}", "city")


@dataclass(frozen=True)
class NearbySchools:
    """The schools to list for a place, closest first.

    Attributes
    ----------
    rows : list of dict
        One per school: ``row`` (its position in the schools layer),
        ``distance_mi`` (great-circle miles, 3 decimals), ``lat`` and ``lon``.
    within_radius : bool
        False when no school is within the radius and the nearest beyond it
        are listed instead.
    total_within : int
        Every school within the radius, listed or not (more than ``len(rows)``
        when the list stops at ``k``).
    """

    rows: list[dict[str, Any]]
    within_radius: bool
    total_within: int = 0


def nearby_schools(
    schools: pd.DataFrame,
    index: LatLonIndex,
    lat: float,
    lon: float,
    *,
    k: int,
    radius_mi: float,
    beyond: int,
) -> NearbySchools:
    """Return up to ``k`` schools within ``radius_mi`` of (lat, lon), or the ``beyond`` nearest past it.

    Parameters
    ----------
    schools : GeoDataFrame
        The schools layer (points, EPSG:4326) that ``index`` was built from.
    index : LatLonIndex
        The nearest-school index over ``schools``.
    lat, lon : float
        The place, WGS84 degrees.
    k : int
        Most schools listed within the radius.
    radius_mi : float
        Search radius in miles.
    beyond : int
        How many of the nearest schools to list when none is within the radius.

    Raises
    ------
    InvalidParameterError
        For coordinates out of range, or a k or radius that is not positive.
    """
    positions, miles, within = nearest_positions(index, lat, lon, k=k, radius_mi=radius_mi)
    total = len(positions) if within else 0
    if not within:
        positions, miles = positions[:beyond], miles[:beyond]
    elif len(positions) >= k:  # the list is full: count the schools within the radius it leaves out
        total = len(index.within(np.array([lat]), np.array([lon]), radius_mi)[0][0])
    points = schools.geometry.iloc[positions]
    rows = [
        {"row": int(position), "distance_mi": float(distance), "lat": float(y), "lon": float(x)}
        for position, distance, y, x in zip(
            positions, np.round(miles, 3), points.y.to_numpy(), points.x.to_numpy(), strict=True
        )
    ]
    return NearbySchools(rows, within, max(total, len(rows) if within else 0))


# --------------------------------------------------------------------------
# One search box: place, ZIP, address, state, school name or district


#: A place name shared by towns in several states is ambiguous unless the most populous of them
#: has this many times the people of the next (Houston, TX over Houston, MO; not Portland, OR over
#: Portland, ME, nor Columbus, OH over Columbus, GA).
AMBIGUITY_RATIO = 20
#: Most places in a pick list.
MAX_CHOICES = 12
#: A place with this many people wins over a state of the same name ("Washington": the capital).
CITY_OVER_STATE_POPULATION = 100_000
#: rapidfuzz WRatio score (0-100) from which a school or district name counts as a match.
NAME_SCORE_CUTOFF = 80
MAX_NAME_MATCHES = 8


@dataclass(frozen=True)
class PlaceChoice:
    """One of several places a name may mean (a pick list row), most populous first."""

    city: str
    state: str
    lat: float
    lon: float
    population: int

    @property
    def label(self) -> str:
        """The place as "City, ST"."""
        return f"{self.city}, {self.state}"


@dataclass(frozen=True)
class NameMatch:
    """A school or district whose name looks like the query.

    Attributes
    ----------
    kind : str
        ``school`` or ``district``.
    name, city, state : str
        What to show; a district's city and state are those of its first school.
    lat, lon : float
        The school, or the middle of the district's schools.
    count : int
        Schools it stands for (1 for a school).
    score : float
        rapidfuzz WRatio, 0-100.
    row : int or None
        A school's position in the schools table.
    """

    kind: str
    name: str
    city: str
    state: str
    lat: float
    lon: float
    count: int
    score: float
    row: int | None = None


@dataclass(frozen=True)
class Search:
    """What one search box query found; at most one of ``location`` and ``state`` is set.

    Attributes
    ----------
    location : Location or None
        Where to search from.
    state : str or None
        A US state (postal code) the query names: show its page.
    choices : tuple of PlaceChoice
        Places of that name in several states (ambiguous), most populous first;
        with a ``location``, the other places of the name.
    names : tuple of NameMatch
        Schools and districts whose names look like the query.
    state_also : str or None
        The query was also a state's name ("New York"): offer its page.
    message : str
        Why nothing could be placed, when there is a reason worth telling
        (a Canadian postal code).
    suggestion : str
        A query to offer instead (the city of the province of a postal code).
    """

    location: Location | None = None
    state: str | None = None
    choices: tuple[PlaceChoice, ...] = ()
    names: tuple[NameMatch, ...] = ()
    state_also: str | None = None
    message: str = ""
    suggestion: str = ""


def search(
    text: str,
    zip_points: pd.DataFrame,
    gazetteer: pd.DataFrame,
    schools: pd.DataFrame | None = None,
    *,
    us_states: frozenset[str] | None = None,
) -> Search:
    """Read one search box query: coordinates, ZIP, Canadian postal code, place, state or name.

    Parameters
    ----------
    text : str
        What the person typed.
    zip_points, gazetteer : DataFrame
        As for :func:`resolve_query`.
    schools : DataFrame, optional
        ``name``, ``district``, ``city``, ``state``, ``lat``, ``lon`` (and an
        optional ``name_norm``/``district_norm``) for the fuzzy name search.
    us_states : frozenset of str, optional
        The postal codes that have a state page; a state name outside it is not
        sent to a page. All US states and DC when omitted.

    Returns
    -------
    Search
        Empty (no location, state, choices or names) when nothing matches.
    """
    query = " ".join(str(text or "").split())
    if not query:
        return Search()
    if _LAT_LON.match(query) or _TRAILING_ZIP.search(query):
        return Search(location=resolve_query(query, zip_points, gazetteer))
    postal = _CANADIAN_POSTAL_CODE.search(query)
    if postal:
        rest = (query[: postal.start()] + " " + query[postal.end() :]).strip(" ,")
        found = resolve_query(rest, zip_points, gazetteer) if rest else None
        if found is not None:
            return Search(location=found)
        return _postal_code_message(postal.group(0).upper())
    plain = _COUNTRY_SUFFIX.sub("", query).strip(" ,")
    key = normalize_place(pd.Series([plain]))[0]
    state = region_code(plain) if plain else None
    if state is not None and (us_states is None or state in us_states) and len(plain) > 2:
        big = gazetteer[gazetteer["city_norm"].isin(_place_keys(key))]
        if big.empty or int(big["population"].iloc[0]) < CITY_OVER_STATE_POPULATION:
            return Search(state=state)
    if "," not in plain and key:
        places = gazetteer[gazetteer["city_norm"].isin(_place_keys(key))]
        choices = _choices(places)
        if len({c.state for c in choices}) > 1:
            first, second = choices[0].population, choices[1].population
            if first < AMBIGUITY_RATIO * max(second, 1):
                return Search(choices=choices, names=_names(plain, schools))
    found = resolve_query(query, zip_points, gazetteer)
    if found is not None:
        also = state if state is not None and (us_states is None or state in us_states) else None
        others: tuple[PlaceChoice, ...] = ()
        if found.precision == "city" and "," not in plain:
            others = tuple(c for c in _choices(gazetteer[gazetteer["city_norm"].isin(_place_keys(key))])[1:])
        return Search(location=found, choices=others, state_also=also)
    return Search(names=_names(plain, schools))


def _choices(places: pd.DataFrame) -> tuple[PlaceChoice, ...]:
    """One choice per state (its most populous place of the name), most populous first."""
    rows = places.sort_values("population", ascending=False, kind="stable").drop_duplicates("state")
    return tuple(
        PlaceChoice(str(r.city), str(r.state), float(r.lat), float(r.lon), int(r.population))
        for r in rows.head(MAX_CHOICES).itertuples(index=False)
    )


def _postal_code_message(code: str) -> Search:
    region, city = POSTAL_DISTRICTS.get(code[0], ("Canada", "Toronto, ON"))
    message = (
        f"Canadian postal codes such as {code} cannot be placed offline; only Canadian cities can. "
        f"Codes starting with {code[0]} are in {region}: search for your city instead."
    )
    return Search(message=message, suggestion=city)


def _names(query: str, schools: pd.DataFrame | None) -> tuple[NameMatch, ...]:
    """Schools and districts whose names look like ``query`` (rapidfuzz WRatio), best first.

    Ties (names sharing most of their words, as "… Elementary School" do) are broken by
    token set ratio, then plain ratio, so the name that holds the query whole comes first.
    """
    if schools is None or schools.empty or len(query) < 3:
        return ()
    from rapidfuzz import fuzz, process, utils

    wanted = utils.default_process(query)
    found: list[tuple[tuple[float, float, float], NameMatch]] = []

    def ranked(choices: list[str]) -> list[tuple[int, float, tuple[float, float, float]]]:
        hits = process.extract(
            wanted, choices, scorer=fuzz.WRatio, processor=None, score_cutoff=NAME_SCORE_CUTOFF, limit=50
        )
        return [
            (i, score, (score, fuzz.token_set_ratio(wanted, choices[i]), fuzz.ratio(wanted, choices[i])))
            for _, score, i in hits
        ]

    names = schools["name"].fillna("").astype(str)
    processed = (
        schools["name_norm"].tolist() if "name_norm" in schools else names.map(utils.default_process).tolist()
    )
    for position, score, rank in ranked(processed):
        row = schools.iloc[position]
        match = NameMatch(
            "school", names.iloc[position], str(row["city"] or ""), str(row["state"] or ""),
            float(row["lat"]), float(row["lon"]), 1, float(score), int(position),
        )  # fmt: skip
        found.append((rank, match))
    if "district" in schools.columns:
        districts = schools["district"].fillna("").astype(str)
        # The caller may keep the distinct districts, processed, in attrs (webmap.page_data.search_schools).
        unique, processed = schools.attrs.get("districts") or (None, None)
        if unique is None:
            unique = sorted(set(districts) - {""})
            processed = [utils.default_process(d) for d in unique]
        for position, score, rank in ranked(processed):
            members = schools[districts == unique[position]]
            first = members.iloc[0]
            match = NameMatch(
                "district", unique[position], str(first["city"] or ""), str(first["state"] or ""),
                float(members["lat"].median()), float(members["lon"].median()), len(members), float(score),
            )  # fmt: skip
            found.append((rank, match))
    found.sort(key=lambda item: (tuple(-v for v in item[0]), item[1].kind != "school", item[1].name))
    return tuple(match for _, match in found[:MAX_NAME_MATCHES])
