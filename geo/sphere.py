"""Great-circle geometry through unit vectors: the one primitive of every nearest-point search.

A WGS84 point (latitude, longitude; always in that order here) becomes a 3-D
unit vector. The straight-line (chord) distance between two unit vectors is
monotone in the great-circle angle between the points and converts to it
exactly, so a KD-tree over unit vectors (SciPy's ``cKDTree``, the project's one
tree library) finds great-circle neighbours without scanning all pairs.
Distances are on a sphere of the mean Earth radius (:mod:`geo.crs`).
"""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import ArrayLike

logger = logging.getLogger(__name__)


def unit_vectors(lat: ArrayLike, lon: ArrayLike) -> np.ndarray:
    """Return the points as rows ``(x, y, z)`` on the unit sphere.

    Parameters
    ----------
    lat, lon : array-like
        WGS84 degrees, latitude first.

    Returns
    -------
    ndarray
        Shape (n, 3).
    """
    phi = np.radians(np.asarray(lat, dtype=float))
    lam = np.radians(np.asarray(lon, dtype=float))
    cos_phi = np.cos(phi)
    return np.column_stack([cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)])


def chord_to_angle(chord: ArrayLike) -> np.ndarray:
    """Return the great-circle angle (radians) subtended by a chord of the unit sphere.

    A chord c subtends the angle 2·asin(c/2): exact, and monotone, so the
    nearest point by chord is the nearest by arc. Multiply by a radius for a distance.
    """
    return 2.0 * np.arcsin(np.clip(np.asarray(chord, dtype=float) / 2.0, 0.0, 1.0))


def angle_to_chord(angle: ArrayLike) -> np.ndarray:
    """Return the chord of the unit sphere for a great-circle angle in radians (the inverse)."""
    chord: np.ndarray = 2.0 * np.sin(np.clip(np.asarray(angle, dtype=float), 0.0, np.pi) / 2.0)
    return chord
