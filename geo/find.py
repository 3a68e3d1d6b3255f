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
_COUNTRY_SUFFIX = re.compile(r"\s*,?\s*(?:USA|U\.S\.A\.|US|United States|Canada)\s*$", re.IGNORECASE)
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
    """

    lat: float
    lon: float
    label: str
    precision: str


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
        found = _by_zip(trailing_zip.group(1), zip_points)
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


def _by_zip(code: str, zip_points: pd.DataFrame) -> Location | None:
    rows = zip_points[zip_points["zip"].astype(str) == code]
    if rows.empty:
        return None
    row = rows.iloc[0]
    place = ", ".join(str(v) for v in (row.get("city"), row.get("state")) if isinstance(v, str) and v)
    label = f"ZIP {code} ({place})" if place else f"ZIP {code}"
    return Location(float(row["lat"]), float(row["lon"]), label, "zip")


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
        rows = gazetteer[(gazetteer["city_norm"] == key) & (gazetteer["state"] == state)]
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
    rows = gazetteer[gazetteer["city_norm"] == key]
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
    """

    rows: list[dict[str, Any]]
    within_radius: bool


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
    if not within:
        positions, miles = positions[:beyond], miles[:beyond]
    points = schools.geometry.iloc[positions]
    rows = [
        {"row": int(position), "distance_mi": float(distance), "lat": float(y), "lon": float(x)}
        for position, distance, y, x in zip(
            positions, np.round(miles, 3), points.y.to_numpy(), points.x.to_numpy(), strict=True
        )
    ]
    return NearbySchools(rows, within)
