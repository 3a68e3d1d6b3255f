"""Queries on the schools layer: filters, bounding boxes, nearest schools.

Used alike by the API, the downloads and the OGC API, so every interface
answers the same question the same way. Bounding boxes use the layer's
spatial index (an STRtree); nearest search uses a great-circle spatial tree (geo.reach.LatLonIndex).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import InvalidParameterError
from geo.reach import LatLonIndex

logger = logging.getLogger(__name__)

LOCALES = ("urban", "suburban", "rural", "city", "suburb", "town")


def parse_bbox(text: str | None, *, parameter: str = "bbox") -> tuple[float, float, float, float] | None:
    """Parse ``minx,miny,maxx,maxy`` (or the 6-number 3D form) in WGS84 degrees.

    Raises
    ------
    InvalidParameterError
        For anything that is not 4 or 6 finite numbers in range with min <= max
        (latitudes); a west edge greater than the east edge is accepted as a box
        crossing the antimeridian, as OGC API – Features allows.
    """
    if text is None or text == "":
        return None
    parts = text.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        msg = f"{parameter} must be 4 or 6 comma-separated numbers, got {text!r}"
        raise InvalidParameterError(parameter, msg) from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    elif len(numbers) != 4:
        msg = f"{parameter} must be 4 or 6 comma-separated numbers, got {len(numbers)} in {text!r}"
        raise InvalidParameterError(parameter, msg)
    minx, miny, maxx, maxy = numbers
    if not all(math.isfinite(v) for v in numbers):
        msg = f"{parameter} values must be finite numbers, got {text!r}"
        raise InvalidParameterError(parameter, msg)
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        msg = f"{parameter} is out of range for WGS84 lon/lat: {text!r}"
        raise InvalidParameterError(parameter, msg)
    if miny > maxy:
        msg = f"{parameter} has its south edge above its north edge: {text!r}"
        raise InvalidParameterError(parameter, msg)
    return minx, miny, maxx, maxy


def bbox_positions(frame: gpd.GeoDataFrame, bbox: Sequence[float]) -> np.ndarray:
    """Return the sorted positional indices of features intersecting ``bbox`` (via the STRtree)."""
    minx, miny, maxx, maxy = bbox
    if minx <= maxx:
        boxes = [(minx, miny, maxx, maxy)]
    else:  # crosses the antimeridian
        boxes = [(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)]
    hits = [frame.sindex.query(_box(b), predicate="intersects") for b in boxes]
    return np.unique(np.concatenate(hits)) if hits else np.empty(0, dtype=int)


def _box(b: Sequence[float]) -> Any:
    import shapely

    return shapely.box(*b)


def filter_schools(
    schools: gpd.GeoDataFrame,
    *,
    state: str | None = None,
    locale: str | None = None,
    bbox: Sequence[float] | None = None,
) -> gpd.GeoDataFrame:
    """Return the schools matching every given filter (a new frame, input order kept).

    Parameters
    ----------
    state : str, optional
        USPS code (case-insensitive), matched against the point-in-polygon
        state (``stusps`` when present, else the file's ``state``); "CA-"
        provinces match ``state`` for Canadian schools.
    locale : str, optional
        urban/suburban/rural or city/suburb/town/rural.
    bbox : (minx, miny, maxx, maxy), optional
    """
    mask = np.ones(len(schools), dtype=bool)
    if state:
        code = state.strip().upper()
        if len(code) != 2 or not code.isalpha():
            msg = f"state must be a two-letter USPS code, got {state!r}"
            raise InvalidParameterError("state", msg)
        column = schools["stusps"] if "stusps" in schools.columns else schools["state"]
        mask &= (column.fillna(schools["state"]).astype(str).str.upper() == code).to_numpy()
    if locale:
        value = locale.strip().lower()
        if value not in LOCALES:
            msg = f"locale must be one of {', '.join(LOCALES)}; got {locale!r}"
            raise InvalidParameterError("locale", msg)
        column = "locale4" if value in ("city", "suburb", "town") else "locale"
        if value == "rural":
            mask &= (schools["locale"] == "rural").fillna(False).to_numpy()
        else:
            mask &= (schools[column] == value).fillna(False).to_numpy()
    if bbox is not None:
        inside = np.zeros(len(schools), dtype=bool)
        inside[bbox_positions(schools, bbox)] = True
        mask &= inside
    return schools[mask]


@dataclass
class NearestResult:
    """Schools ordered by distance from a point, with distances in miles."""

    schools: pd.DataFrame
    within_radius: bool


def nearest_positions(
    index: LatLonIndex,
    lat: float,
    lon: float,
    *,
    k: int = 10,
    radius_mi: float | None = None,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Return ``(positions, miles, within_radius)`` of up to ``k`` schools nearest to (lat, lon).

    The array form of :func:`nearest_schools`, with no frame indexing, for
    callers that keep per-school results pre-serialized (the JSON API).
    Positions index the frame the :class:`LatLonIndex` was built from;
    distances are great-circle miles, closest first.
    """
    if not (-90 <= lat <= 90) or not math.isfinite(lat):
        raise InvalidParameterError("lat", f"lat must be a number from -90 to 90, got {lat!r}")
    if not (-180 <= lon <= 180) or not math.isfinite(lon):
        raise InvalidParameterError("lon", f"lon must be a number from -180 to 180, got {lon!r}")
    if k < 1:
        raise InvalidParameterError("k", f"k must be a positive whole number, got {k!r}")
    if radius_mi is not None and (not math.isfinite(radius_mi) or radius_mi <= 0):
        raise InvalidParameterError("radius_mi", f"radius_mi must be a positive number, got {radius_mi!r}")
    dist, idx = index.nearest(np.array([lat]), np.array([lon]), k=k)
    dist, idx = dist[0], idx[0]
    keep = idx >= 0
    dist, idx = dist[keep], idx[keep]
    within = True
    if radius_mi is not None:
        inside = dist <= radius_mi
        if inside.any():
            dist, idx = dist[inside], idx[inside]
        else:
            within = False
    return idx, dist, within


def nearest_schools(
    schools: pd.DataFrame,
    index: LatLonIndex,
    lat: float,
    lon: float,
    *,
    k: int = 10,
    radius_mi: float | None = None,
) -> NearestResult:
    """Return up to ``k`` schools nearest to (lat, lon), closest first.

    With ``radius_mi``, only schools within that radius are returned; when
    none are, the ``k`` nearest beyond it are returned with
    ``within_radius=False``, so a caller can say so and still help.
    The result carries a ``distance_mi`` column (great-circle miles).
    """
    idx, dist, within = nearest_positions(index, lat, lon, k=k, radius_mi=radius_mi)
    found = schools.iloc[idx].copy()
    found["distance_mi"] = np.round(dist, 3)
    return NearestResult(found, within)
