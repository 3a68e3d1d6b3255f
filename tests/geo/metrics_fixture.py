"""A tiny, hand-computable world for the metrics tests (no real data).

Two in-scope fake states, AA (FIPS 01) and BB (02), and one out-of-scope
territory TT (60). Every point lies on the prime meridian (lon 0), so the
great-circle distance between two points is |Δlat| × 69.0934 miles
(π/180 × 3958.7613, the mean Earth radius in geo.crs).

ZCTAs                                                      nearest serving school
  Z1 AA 01001 city    lat 0.00  1000 children  pov 0.30    S1 at 0 mi      -> within 1 mi
  Z2 AA 01001 suburb  lat 0.05   500 children  pov 0.10    S6 at 3.3856 mi -> beyond 3 mi
  Z3 AA 01002 rural   lat 1.00  2000 children  pov 0.25    S6 at 69.02 mi  -> beyond 10 mi
  Z4 BB 02001 town    lat 2.00   800 children  pov NA      S2 at 3.4547 mi -> within 5 mi
  Z5 BB 02001 rural   lat 3.00     0 children  pov NA      S2 at 65.64 mi  -> beyond 10 mi
  Z6 TT 60001 rural   lat 20.0   100 children  pov 0.50    (territory: out of scope)

Schools
  S1 AA 01001 city   lat 0.000 US
  S6 AA 01001 suburb lat 0.001 US
  S2 BB 02001 town   lat 2.050 US
  S3 (none)   city   lat 0.050 CA   (Canadian: counted apart; sits on Z2 but serves no one)
  S4 (none)   rural  lat 10.00 US   (outside every state polygon)
  S5 TT 60001 rural  lat 20.00 US   (territory)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MILES_PER_DEGREE = np.pi / 180 * 3958.7613


def zctas() -> pd.DataFrame:
    """Return the six fixture ZCTAs."""
    return pd.DataFrame(
        {
            "zcta": ["00001", "00002", "00003", "00004", "00005", "00006"],
            "stusps": ["AA", "AA", "AA", "BB", "BB", "TT"],
            "county_fips": ["01001", "01001", "01002", "02001", "02001", "60001"],
            "lat": [0.0, 0.05, 1.0, 2.0, 3.0, 20.0],
            "lon": [0.0] * 6,
            "children": [1000.0, 500.0, 2000.0, 800.0, 0.0, 100.0],
            "pct_below_poverty": [0.30, 0.10, 0.25, np.nan, np.nan, 0.50],
            "locale4": ["city", "suburb", "rural", "town", "rural", "rural"],
            "locale": ["urban", "suburban", "rural", "rural", "rural", "rural"],
        }
    )


def schools() -> pd.DataFrame:
    """Return the six fixture schools."""
    return pd.DataFrame(
        {
            "school_id": ["s1", "s6", "s2", "s3", "s4", "s5"],
            "lat": [0.0, 0.001, 2.05, 0.05, 10.0, 20.0],
            "lon": [0.0] * 6,
            "state": ["AA", "AA", "BB", "ON", "AA", "TT"],
            "statefp": ["01", "01", "02", None, None, "60"],
            "county_fips": ["01001", "01001", "02001", None, None, "60001"],
            "locale4": ["city", "suburb", "town", "city", "rural", "rural"],
            "locale": ["urban", "suburban", "rural", "urban", "rural", "rural"],
            "country": ["US", "US", "US", "CA", "US", "US"],
        }
    )


def states() -> pd.DataFrame:
    """Return the three fixture states (TT is a territory, out of scope)."""
    return pd.DataFrame(
        {
            "statefp": ["01", "02", "60"],
            "stusps": ["AA", "BB", "TT"],
            "name": ["Alpha", "Beta", "Tee"],
            "in_scope": [True, True, False],
        }
    )


def counties() -> pd.DataFrame:
    """Return the four fixture counties."""
    return pd.DataFrame(
        {
            "geoid": ["01001", "01002", "02001", "60001"],
            "statefp": ["01", "01", "02", "60"],
            "stusps": ["AA", "AA", "BB", "TT"],
            "name": ["Alpha One", "Alpha Two", "Beta One", "Tee One"],
        }
    )


def coalitions() -> pd.DataFrame:
    """AA has a developing state-wide row and an existing county row; BB has none."""
    return pd.DataFrame({"stusps": ["AA", "AA"], "status": ["developing", "existing"]})


def public_schools() -> pd.DataFrame:
    """AA by locale (codes and names mixed), BB as a state total only."""
    return pd.DataFrame(
        {
            "state": ["AA", "AA", "AA", "AA", "BB"],
            "locale": ["11", "21", "town", "43", None],
            "public_schools": [100, 50, 25, 25, 40],
        }
    )
