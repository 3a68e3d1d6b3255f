"""Enrichment of placed schools: state and county FIPS, nearest ZCTA, locale class.

State and county come from point-in-polygon against the full-resolution
Census 2016 boundaries (geopandas ``sjoin``, an STRtree underneath). The
ZCTA is the nearest ZCTA point on the sphere (a k-d tree over unit vectors:
the chord distance orders points as the great-circle distance does). The
locale is the NCES code in the file when valid, else the derived class of
the school's ZCTA (geo/locale.py, docs/LOCALE.md).
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geo.crs import WGS84, projected_crs_for_state, require_crs
from geo.locale import school_locale
from geo.reference import Reference
from geo.sphere import angle_to_chord, chord_to_angle, unit_vectors

logger = logging.getLogger(__name__)

#: How far outside every county polygon a US school may lie and still take the
#: nearest county: the 1:500k cartographic boundaries generalize coastlines, so
#: waterfront schools and some ZIP centroids fall a little offshore.
COASTAL_TOLERANCE_KM = 5.0
#: Canadian schools have no ZCTA; their locale comes from the population of the
#: largest gazetteer place near them, a rough stand-in for Statistics Canada's
#: population-centre classes (large urban >= 100,000; medium 30,000-99,999;
#: small 1,000-29,999): city from 100,000, town from 10,000, else rural.
CANADA_CITY_POPULATION = 100_000
CANADA_TOWN_POPULATION = 10_000
#: The places considered around a Canadian school: those within 10 km.
CANADA_PLACE_RADIUS_KM = 10.0
EARTH_RADIUS_KM = 6371.0088

ENRICH_COLUMNS = ("statefp", "county_fips", "zcta", "locale4", "locale", "locale_source")


def _points(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    points: np.ndarray = shapely.points(np.column_stack([lon, lat]))
    return points


def polygon_at(
    lon: np.ndarray,
    lat: np.ndarray,
    polygons: gpd.GeoDataFrame,
    column: str,
    *,
    points: np.ndarray | None = None,
) -> np.ndarray:
    """Return ``polygons[column]`` of the polygon holding each point (None outside all; NaN points give None).

    Parameters
    ----------
    lon, lat : ndarray
        WGS84 degrees.
    polygons : GeoDataFrame
        In EPSG:4326; its spatial index is built once and reused.
    column : str
        The attribute to return.
    points : ndarray of shapely Points, optional
        The same points, when already built (saves building them again).
    """
    require_crs(polygons, name="polygons")
    out = np.full(len(lon), None, dtype=object)
    valid = np.isfinite(lon) & np.isfinite(lat)
    if not valid.any() or polygons.empty:
        return out
    shapes = points[valid] if points is not None else gpd.points_from_xy(lon[valid], lat[valid])
    frame = gpd.GeoDataFrame(geometry=shapes, crs=polygons.crs)
    # sjoin picks the faster side to index (for "within": the points, queried by each polygon).
    joined = gpd.sjoin(frame, polygons[[column, polygons.geometry.name]], how="inner", predicate="within")
    # A point on a shared boundary matches two polygons; keep the first.
    joined = joined[~joined.index.duplicated(keep="first")]
    found = np.full(int(valid.sum()), None, dtype=object)
    found[joined.index.to_numpy()] = joined[column].to_numpy(dtype=object)
    out[valid] = found
    return out


def distance_to_state_km(
    lon: np.ndarray, lat: np.ndarray, codes: np.ndarray, states: gpd.GeoDataFrame
) -> np.ndarray:
    """Return each point's distance to the state named in ``codes``, in km (0 inside; NaN when unknown).

    Distances are measured in the state's projected CRS
    (:func:`geo.crs.projected_crs_for_state`), never in degrees.
    """
    out = np.full(len(lon), np.nan)
    by_code = states.set_index("stusps").geometry
    codes = np.asarray(codes, dtype=object)
    for code in pd.unique(codes[pd.notna(codes)]):
        if code not in by_code.index:
            continue
        mask = (codes == code) & np.isfinite(lon) & np.isfinite(lat)
        if not mask.any():
            continue
        crs = projected_crs_for_state(code)
        shape = gpd.GeoSeries([by_code[code]], crs=states.crs).to_crs(crs).iloc[0]
        points = gpd.GeoSeries(gpd.points_from_xy(lon[mask], lat[mask]), crs=WGS84).to_crs(crs)
        out[mask] = shapely.distance(points.to_numpy(), shape) / 1000.0
    return out


def nearest_state(
    lon: np.ndarray, lat: np.ndarray, states: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Return the nearest state (USPS code) of each point and its distance in km.

    The candidate is the nearest polygon in degrees (a spatial-index lookup);
    its distance is then measured in that state's projected CRS. Near a
    coast or border the two orders agree except for points almost equally
    far from two states, where either answer serves.
    """
    codes = np.full(len(lon), None, dtype=object)
    valid = np.isfinite(lon) & np.isfinite(lat)
    if valid.any() and not states.empty:
        index = states.sindex.nearest(_points(lon[valid], lat[valid]), return_all=False)
        codes[np.flatnonzero(valid)[index[0]]] = states["stusps"].to_numpy(dtype=object)[index[1]]
    return codes, distance_to_state_km(lon, lat, codes, states)


def nearest_points(
    lon: np.ndarray, lat: np.ndarray, ref_lon: np.ndarray, ref_lat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the index of the nearest reference point and the great-circle distance in km."""
    tree = cKDTree(unit_vectors(ref_lat, ref_lon))
    chord, index = tree.query(unit_vectors(lat, lon), k=1)
    return index, EARTH_RADIUS_KM * chord_to_angle(chord)


def _county_fips(
    lon: np.ndarray, lat: np.ndarray, us: np.ndarray, counties: gpd.GeoDataFrame, points: np.ndarray
) -> np.ndarray:
    county = polygon_at(lon, lat, counties, "geoid", points=points)
    missing = us & pd.isna(county) & np.isfinite(lon) & np.isfinite(lat)
    if missing.any():
        index = counties.sindex.nearest(_points(lon[missing], lat[missing]), return_all=False)
        candidate = counties["geoid"].to_numpy(dtype=object)[index[1]]
        state = counties["stusps"].to_numpy(dtype=object)[index[1]]
        rows = np.flatnonzero(missing)[index[0]]
        # Distance to the candidate county, measured in its state's projected CRS.
        distance = np.full(len(rows), np.inf)
        for code in pd.unique(state):
            pick = state == code
            crs = projected_crs_for_state(str(code))
            shapes = counties.geometry.iloc[index[1][pick]].to_crs(crs).to_numpy()
            pts = gpd.GeoSeries(gpd.points_from_xy(lon[rows[pick]], lat[rows[pick]]), crs=WGS84).to_crs(crs)
            distance[pick] = shapely.distance(pts.to_numpy(), shapes) / 1000.0
        near = distance <= COASTAL_TOLERANCE_KM
        county[rows[near]] = candidate[near]
        logger.debug(
            "%d schools outside every county; %d within %.0f km of one took it",
            int(missing.sum()),
            int(near.sum()),
            COASTAL_TOLERANCE_KM,
        )
    return county


def _canada_locale4(lon: np.ndarray, lat: np.ndarray, gazetteer: pd.DataFrame) -> np.ndarray:
    """Return city/town/rural from the largest gazetteer place near each point.

    GeoNames lists neighbourhoods as places of their own, so the nearest place
    can be a small part of a large city; the largest place within
    :data:`CANADA_PLACE_RADIUS_KM` stands for the settlement.
    """
    places = gazetteer[gazetteer["country"] == "CA"]
    out = np.full(len(lon), "rural", dtype=object)
    if places.empty or len(lon) == 0:
        return out
    tree = cKDTree(unit_vectors(places["lat"].to_numpy(float), places["lon"].to_numpy(float)))
    chord = float(angle_to_chord(CANADA_PLACE_RADIUS_KM / EARTH_RADIUS_KM))
    near = tree.query_ball_point(unit_vectors(lat, lon), r=chord)
    population = places["population"].to_numpy(float)
    # Canadian schools are a few dozen; a list per school is cheap.
    largest = np.array([population[i].max() if len(i) else 0.0 for i in near])
    out[largest >= CANADA_TOWN_POPULATION] = "town"
    out[largest >= CANADA_CITY_POPULATION] = "city"
    return out


def enrich_schools(schools: gpd.GeoDataFrame, reference: Reference) -> gpd.GeoDataFrame:
    """Return a copy of ``schools`` with ``statefp``, ``county_fips``, ``zcta`` and the locale columns.

    Parameters
    ----------
    schools : GeoDataFrame
        Points in EPSG:4326 with ``country`` (US/CA) and ``nces_locale``
        (NCES code 11-43 or NA). Not modified.
    reference : Reference
        ``counties`` (with ``geoid``, ``statefp``), ``zctas`` (with
        ``locale4``) and ``gazetteer``.

    Returns
    -------
    GeoDataFrame
        The input columns plus :data:`ENRICH_COLUMNS`. Canadian schools get
        no FIPS and no ZCTA; their locale comes from the nearest gazetteer
        place's population (docs/SCHOOLS.md).
    """
    require_crs(schools, name="schools")
    points = schools if schools.crs.equals(WGS84) else schools.to_crs(WGS84)
    lon = points.geometry.x.to_numpy(dtype=float)
    lat = points.geometry.y.to_numpy(dtype=float)
    us = schools["country"].astype("str").to_numpy() != "CA"
    counties = reference.counties
    county = _county_fips(lon, lat, us, counties, points.geometry.to_numpy())
    county[~us] = None
    statefp = np.where(pd.isna(county), None, pd.Series(county, dtype="str").str[:2].to_numpy(dtype=object))

    zctas = reference.zctas
    zcta = np.full(len(schools), None, dtype=object)
    derived = np.full(len(schools), "rural", dtype=object)
    if us.any() and len(zctas):
        index, _ = nearest_points(
            lon[us], lat[us], zctas["lon"].to_numpy(float), zctas["lat"].to_numpy(float)
        )
        zcta[us] = zctas["zcta"].to_numpy(dtype=object)[index]
        derived[us] = zctas["locale4"].to_numpy(dtype=object)[index]
    if (~us).any():
        derived[~us] = _canada_locale4(lon[~us], lat[~us], reference.gazetteer)
    locale = school_locale(schools["nces_locale"].reset_index(drop=True), pd.Series(derived, dtype="str"))

    out = schools.copy()
    out["statefp"] = pd.array(statefp, dtype="str")
    out["county_fips"] = pd.array(county, dtype="str")
    out["zcta"] = pd.array(zcta, dtype="str")
    for column in ("locale4", "locale", "locale_source"):
        out[column] = pd.array(locale[column].to_numpy(dtype=object), dtype="str")
    return out
