"""Where schools and states are on the maps: each school's state, and a state's map extent.

The pages ask these of every build (:mod:`webmap.page_data` caches the answers);
they are geometry work, so they live here rather than in the web layer.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import geopandas as gpd
import pandas as pd
import shapely

from geo.errors import NotFoundError

logger = logging.getLogger(__name__)


def school_states(schools: pd.DataFrame, usps_by_statefp: Mapping[str, str]) -> pd.Series:
    """Return each school's USPS state code as the metrics count it: by point-in-polygon ``statefp``.

    Parameters
    ----------
    schools : DataFrame
        The ``schools`` layer: ``statefp`` (the state the point falls in), else
        ``stusps``, else ``state`` as written in the school list.
    usps_by_statefp : mapping
        USPS code by state FIPS, for the states the metrics cover (a school in
        any other, or in none, gets "").

    Returns
    -------
    Series of str
        One code per school, on the schools' index; "" where there is none.
    """
    if "statefp" in schools.columns:
        return schools["statefp"].astype("string").map(dict(usps_by_statefp)).fillna("")
    column = "stusps" if "stusps" in schools.columns else "state"
    return schools[column].astype("string").str.upper().fillna("")


def state_bounds(states: gpd.GeoDataFrame, code: str) -> list[list[float]]:
    """Return ``[[south, west], [north, east]]`` of the state ``code`` (folium's order).

    A state crossing the antimeridian (Alaska's Aleutians) would span the whole
    world; its western-hemisphere part is used instead.

    Parameters
    ----------
    states : GeoDataFrame
        State polygons in EPSG:4326 with ``stusps``.
    code : str
        USPS code.

    Raises
    ------
    NotFoundError
        For a code with no polygon.
    """
    rows = states[states["stusps"].astype(str) == code]
    if rows.empty:
        msg = f"unknown state {code!r}"
        raise NotFoundError(msg)
    geometry = rows.geometry.union_all()
    west, south, east, north = geometry.bounds
    if east - west > 180:
        west, south, east, north = shapely.clip_by_rect(geometry, -180, -90, 0, 90).bounds
    return [[south, west], [north, east]]
