"""One school in its setting: its coalition, Coalition Communities, partners and nearby schools.

What the school page (``/schools/<school_id>``) and ``/api/schools/<school_id>``
show beside a school's own fields. Every function is pure: tables in, new
tables (or plain values) out; the web layer caches the answers per build.
Distances are great-circle miles (:mod:`geo.query`'s index), never degrees.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from geo.communities import community_school_links
from geo.query import nearest_positions
from geo.reach import LatLonIndex

logger = logging.getLogger(__name__)

#: How many nearby Community Schools a school page lists, and within how many miles;
#: when none lies that close, the nearest few beyond are listed with their distance.
NEARBY_COUNT = 5
NEARBY_RADIUS_MI = 25.0
#: A school_id: ``nces-`` and the NCES id, or ``cs-`` and 16 hex digits of the row's hash,
#: with ``-2``, ``-3``... for equal keys (geo.schools). NCES ids are digits once normalized,
#: but a list may carry letters or dots; no id holds a space or a slash (a URL path segment).
SCHOOL_ID_PATTERN = r"(?:nces|cs)-[A-Za-z0-9._-]{1,64}"
_SCHOOL_ID = re.compile(SCHOOL_ID_PATTERN)


def is_school_id(text: str) -> bool:
    """Return whether ``text`` has the shape of a school_id (it may still be unknown)."""
    return _SCHOOL_ID.fullmatch(text) is not None


def nearby_positions(
    index: LatLonIndex,
    position: int,
    lat: float,
    lon: float,
    *,
    k: int = NEARBY_COUNT,
    radius_mi: float = NEARBY_RADIUS_MI,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Return ``(positions, miles, within)`` of the ``k`` schools nearest the school at ``position``.

    The school itself is left out. ``within`` is False when no other school lies
    within ``radius_mi``; the ``k`` nearest beyond are then returned.

    Parameters
    ----------
    index : LatLonIndex
        The nearest-school index over the schools layer.
    position : int
        The school's row in that layer.
    lat, lon : float
        Its point, WGS84 degrees.
    """
    positions, miles, _ = nearest_positions(index, lat, lon, k=k + 1)
    others = positions != position
    positions, miles = positions[others][:k], miles[others][:k]
    inside = miles <= radius_mi
    if inside.any():
        return positions[inside], miles[inside], True
    return positions, miles, False


def school_coalition(
    coalitions: pd.DataFrame, stusps: str | None, county_fips: str | None
) -> dict[str, Any] | None:
    """Return the state coalition of a school's state, or None when the state has none.

    Parameters
    ----------
    coalitions : DataFrame
        The published coalitions table (contacts already blanked unless public).
    stusps, county_fips : str or None
        The school's state and county.

    Returns
    -------
    dict or None
        The coalition's row, plus ``covers_school``: False when the coalition is
        regional (``area_type`` counties) and the school's county is not one of its.
    """
    if not stusps or coalitions.empty:
        return None
    rows = coalitions[coalitions["stusps"].astype("str") == stusps]
    rows = rows[~rows["stage"].astype("str").isin(["none", "", "nan"])] if "stage" in rows else rows
    if rows.empty:
        return None
    row = {k: (None if _missing(v) else v) for k, v in rows.iloc[0].to_dict().items()}
    counties = [c for c in str(row.get("county_fips") or "").split(";") if c]
    row["covers_school"] = row.get("area_type") != "counties" or (county_fips or "") in counties
    if not row.get("contact_public"):
        for column in ("contact_name", "contact_email", "contact_phone"):
            row[column] = None
    return row


def school_communities(communities: pd.DataFrame, school: pd.DataFrame) -> pd.DataFrame:
    """Return the Coalition Communities a school belongs to: by area, or linked by hand.

    Parameters
    ----------
    communities : DataFrame
        The communities table.
    school : DataFrame
        One row: ``school_id``, ``stusps``, ``county_fips`` and ``district``.
    """
    if communities.empty:
        return communities.iloc[0:0].copy()
    mine = communities[communities["stusps"].astype("str").isin(school["stusps"].astype("str"))]
    hand = (
        communities["school_ids"]
        .fillna("")
        .astype("str")
        .str.contains(re.escape(str(school["school_id"].iloc[0])), regex=True)
    )
    candidates = communities[communities.index.isin(mine.index) | hand.to_numpy()]
    links = community_school_links(candidates, school)
    out = candidates[candidates["community_id"].astype("str").isin(links["community_id"])]
    return out.sort_values("name", kind="stable").reset_index(drop=True)


def school_partners(partners: pd.DataFrame, links: pd.DataFrame, school_id: str) -> pd.DataFrame:
    """Return the partners working with a school, lead partners first, with their ``role``.

    Parameters
    ----------
    partners : DataFrame
        The partner directory (``partner_id``, ``name``, ``partner_type``...).
    links : DataFrame
        The partner–school links (``partner_id``, ``school_id``, ``role``).
    """
    mine = links[links["school_id"].astype("str") == school_id][["partner_id", "role"]].astype("str")
    partners = partners[partners["partner_id"].astype("str").isin(mine["partner_id"])]
    joined = mine.merge(partners.assign(partner_id=partners["partner_id"].astype("str")), on="partner_id")
    joined = joined.assign(_lead=joined["role"] != "lead")
    return joined.sort_values(["_lead", "name"], kind="stable").drop(columns="_lead").reset_index(drop=True)


def directions_links(lat: float, lon: float) -> dict[str, str]:
    """Return an OpenStreetMap directions URL to a point and a ``geo:`` URI (RFC 5870) for phones.

    OpenStreetMap's directions page takes its destination as ``to=LAT,LON``
    (https://wiki.openstreetmap.org/wiki/Browsing#Directions); 5 decimals is about 1 m.
    """
    point = f"{lat:.5f},{lon:.5f}"
    return {
        "osm": "https://www.openstreetmap.org/directions?to=" + quote(point, safe=""),
        "geo": f"geo:{point}",
    }


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
