"""Name a point by its nearest populated place (GeoNames cities1000, the build's gazetteer).

Used to name the planner's what-if sites ("near Dublin, OH") instead of "Your site 3"
(issue 16). Great-circle nearest by unit vectors (:mod:`geo.sphere`): the largest dot
product is the smallest angle, so no projection and no degree distances are needed.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from geo.sphere import unit_vectors

logger = logging.getLogger(__name__)


def nearest_place_names(lat: ArrayLike, lon: ArrayLike, gazetteer: pd.DataFrame) -> list[str | None]:
    """Return "City, ST" of the gazetteer place nearest each point (None when the gazetteer is empty).

    Parameters
    ----------
    lat, lon : array-like
        WGS84 degrees of the points.
    gazetteer : DataFrame
        ``city``, ``state`` (USPS or province code), ``lat``, ``lon``; rows without a location are skipped.

    Returns
    -------
    list of str or None
        One name per point, in order.
    """
    points = unit_vectors(lat, lon)
    places = gazetteer.dropna(subset=["lat", "lon"])
    if places.empty or len(points) == 0:
        return [None] * len(points)
    vectors = unit_vectors(places["lat"].to_numpy(float), places["lon"].to_numpy(float))
    nearest = np.argmax(points @ vectors.T, axis=1)
    cities = places["city"].astype(str).to_numpy()
    states = places["state"].fillna("").astype(str).to_numpy()
    return [f"{cities[i]}, {states[i]}" if states[i] else cities[i] for i in nearest]
