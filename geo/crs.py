"""Coordinate reference systems, and the checks that keep them explicit.

Storage and output are WGS84 lon/lat (EPSG:4326, RFC 7946). Areas and
distances are computed in an equal-area CRS suited to each region, or
geodesically; never in degrees.
"""

from __future__ import annotations

import logging

import geopandas as gpd

from geo.errors import CRSError

logger = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
NAD83 = "EPSG:4269"
#: Conterminous US Albers equal area (NAD83).
CONUS_ALBERS = "EPSG:5070"
#: Alaska Albers equal area (NAD83).
ALASKA_ALBERS = "EPSG:3338"
#: Hawaii: Old Hawaiian / UTM 4N is not equal-area; use a custom Albers
#: fitted to the islands (standard parallels 8N and 18N as in USGS practice).
HAWAII_ALBERS = (
    "+proj=aea +lat_1=8 +lat_2=18 +lat_0=13 +lon_0=-157 +x_0=0 +y_0=0 +datum=NAD83 +units=m +no_defs"
)
#: Puerto Rico and the US Virgin Islands: NAD83 / Puerto Rico & Virgin Is.
PUERTO_RICO = "EPSG:32161"

#: Mean Earth radius in miles (IUGG mean radius 6,371.0088 km).
EARTH_RADIUS_MILES = 3958.7613

REGION_CRS = {"AK": ALASKA_ALBERS, "HI": HAWAII_ALBERS, "PR": PUERTO_RICO, "VI": PUERTO_RICO}


def projected_crs_for_state(usps: str) -> str:
    """Return the equal-area CRS used for areas and distances in a state.

    Parameters
    ----------
    usps : str
        Two-letter USPS code.

    Returns
    -------
    str
        A CRS string pyproj understands.
    """
    return REGION_CRS.get(usps.upper(), CONUS_ALBERS)


def require_crs(frame: gpd.GeoDataFrame, *, name: str = "frame") -> gpd.GeoDataFrame:
    """Raise ``CRSError`` unless ``frame`` has a CRS; return it unchanged."""
    if frame.crs is None:
        msg = f"{name} has no CRS; set one explicitly (e.g. set_crs({NAD83!r}))"
        raise CRSError(msg)
    return frame


def require_same_crs(left: gpd.GeoDataFrame, right: gpd.GeoDataFrame) -> None:
    """Raise ``CRSError`` unless both frames have the same, non-empty CRS."""
    require_crs(left, name="left frame")
    require_crs(right, name="right frame")
    if not left.crs.equals(right.crs):
        msg = f"CRS mismatch: {left.crs.to_string()!r} vs {right.crs.to_string()!r}"
        raise CRSError(msg)


def to_wgs84(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``frame`` in EPSG:4326 (a copy), refusing frames with no CRS."""
    require_crs(frame)
    if frame.crs.equals(WGS84):
        return frame.copy()
    return frame.to_crs(WGS84)
