"""Likely duplicates of a census answer in the current school list (issue 14, point 3).

A school answering the census may already be on the list: the same NCES id,
or a name that reads alike (rapidfuzz) at a place within 1 km. Staff see the
candidates beside each submission and choose: approve as new, or merge into
one of them. Pure: a frame in, a new frame out.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd
from rapidfuzz import fuzz

from geo.crs import EARTH_RADIUS_MILES
from geo.reference import normalize_place

logger = logging.getLogger(__name__)

#: "Within 1 km" (issue 14): a census answer placed by its address may sit a few hundred metres
#: from the list's point (ZIP centroid against street), rarely farther for the same school.
DUPLICATE_RADIUS_KM = 1.0
#: rapidfuzz's token_sort_ratio (0-100) at or above which two normalized names "read alike":
#: "Lincoln Elementary School" / "Lincoln Elem School" score 87, "Lincoln" / "Washington" 40.
NAME_SCORE = 80.0
EARTH_RADIUS_KM = EARTH_RADIUS_MILES * 1.609344
COLUMNS = ("school_id", "name", "reason", "name_score", "distance_km")


def _distance_km(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Great-circle distances (haversine, mean Earth radius) from one point to many, in km."""
    p1, p2 = np.radians(lat), np.radians(lats)
    dlat, dlon = p2 - p1, np.radians(lons - lon)
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


def likely_duplicates(
    school: Mapping[str, object],
    schools: pd.DataFrame,
    *,
    radius_km: float = DUPLICATE_RADIUS_KM,
    min_score: float = NAME_SCORE,
) -> pd.DataFrame:
    """Return the schools of ``schools`` that are likely the same school as ``school``.

    Parameters
    ----------
    school : mapping
        ``name``, ``nces_id`` (may be empty) and ``lat``/``lon`` in WGS84
        degrees (may be missing: then only the NCES id can match).
    schools : DataFrame
        The current list: ``school_id``, ``name``, ``nces_id``, ``lat``, ``lon``
        (WGS84 degrees; NaN where unknown). Not modified.
    radius_km : float
        How near a similar name must be.
    min_score : float
        The rapidfuzz ``token_sort_ratio`` of the normalized names at or above which names are similar.

    Returns
    -------
    DataFrame
        ``school_id``, ``name``, ``reason`` (``"same NCES id"`` or ``"similar name within 1 km"``),
        ``name_score`` and ``distance_km`` (NaN when unknown); same NCES id first, then by score.
    """
    if radius_km <= 0:
        msg = f"radius_km must be positive, got {radius_km!r}"
        raise ValueError(msg)
    if schools.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype="float64" if c in ("name_score", "distance_km") else "str") for c in COLUMNS}
        )
    target = normalize_place(pd.Series([str(school.get("name") or "")])).iloc[0]
    nces = str(school.get("nces_id") or "").strip()
    same_id = (
        (schools["nces_id"].fillna("").astype("str") == nces).to_numpy()
        if nces
        else np.zeros(len(schools), dtype=bool)
    )
    lat, lon = _float(school.get("lat")), _float(school.get("lon"))
    distance = np.full(len(schools), np.nan)
    near = np.zeros(len(schools), dtype=bool)
    if np.isfinite(lat) and np.isfinite(lon):
        lats = pd.to_numeric(schools["lat"], errors="coerce").to_numpy(dtype=float)
        lons = pd.to_numeric(schools["lon"], errors="coerce").to_numpy(dtype=float)
        distance = _distance_km(lat, lon, lats, lons)
        near = np.nan_to_num(distance, nan=np.inf) <= radius_km
    score = np.zeros(len(schools))
    candidates = np.flatnonzero(near | same_id)
    if target and len(candidates):
        # Only the few rows near the answer (or with its NCES id) are normalized and compared.
        names = normalize_place(schools["name"].iloc[candidates]).to_numpy()
        score[candidates] = [fuzz.token_sort_ratio(target, name) for name in names]
    similar = near & (score >= min_score)
    chosen = same_id | similar
    out = pd.DataFrame(
        {
            "school_id": schools["school_id"].astype("str").to_numpy()[chosen],
            "name": schools["name"].astype("str").to_numpy()[chosen],
            "reason": np.where(same_id[chosen], "same NCES id", f"similar name within {radius_km:g} km"),
            "name_score": score[chosen],
            "distance_km": distance[chosen],
        }
    )
    order = np.lexsort((-out["name_score"].to_numpy(), ~same_id[chosen]))
    return out.iloc[order].reset_index(drop=True)


def _float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")
