"""Tables around the metrics core: optional inputs, the result, its JSON and export joins.

:mod:`geo.metrics` computes the figures; this module normalizes the optional
``public_schools`` and ``coalitions`` tables, holds the result type
(:class:`MetricsResult`, which :mod:`geo.metrics` imports, never the other
way round), turns result frames into JSON-safe documents, and joins the
figures onto web-weight polygons.
Definitions live in docs/METRICS.md.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.crs import to_wgs84
from geo.errors import InvalidParameterError
from geo.store import json_safe

logger = logging.getLogger(__name__)

LOCALE4 = ("city", "suburb", "town", "rural")
#: NCES four-class locales rolled up to three (docs/DATA-SOURCES: town and rural -> rural).
ROLLUP = {"city": "urban", "suburb": "suburban", "town": "rural", "rural": "rural"}

#: NCES EDGE locale codes (first digit = class): 11-13 city, 21-23 suburb,
#: 31-33 town, 41-43 rural. Source: NCES, "Locale Classifications and Criteria".
NCES_LOCALE_CODES = {
    code: cls
    for first, cls in zip((1, 2, 3, 4), LOCALE4, strict=True)
    for code in (first * 10 + 1, first * 10 + 2, first * 10 + 3)
}

LOCALE3 = ("urban", "suburban", "rural")
#: The seven locale rows: NCES-style four classes, then the three-class roll-up.
#: The scheme names are the column names in docs/SCHEMA.md (locale4, locale).
LOCALE_ROWS = tuple([("locale4", c) for c in LOCALE4] + [("locale", c) for c in LOCALE3])

COALITION_STATUSES = ("existing", "developing", "none")

#: Words in a ``public_schools`` locale cell meaning "all locales of the state".
_TOTAL_WORDS = ("", "all", "total")


def _locale4_of(cell: Any) -> str | None:
    """Return the locale4 class of one ``public_schools`` locale cell; None = state total."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)) or cell is pd.NA:
        return None
    text = str(cell).strip().lower()
    if text in _TOTAL_WORDS:
        return None
    if text in LOCALE4:
        return text
    try:
        code = int(float(text))
    except ValueError:
        code = None
    if code in NCES_LOCALE_CODES:
        return NCES_LOCALE_CODES[code]
    msg = (
        f"unknown locale {cell!r} in public_schools; use an NCES locale code 11-43, "
        f"one of {LOCALE4}, or leave it empty for a state total"
    )
    raise InvalidParameterError("public_schools", msg)


def normalize_public_schools(public_schools: pd.DataFrame) -> pd.DataFrame:
    """Return the optional public-school denominators in a canonical shape.

    Parameters
    ----------
    public_schools : DataFrame
        NCES CCD-style counts: ``state`` (or ``stusps``; USPS code),
        ``public_schools`` (count) and optionally ``locale`` (NCES code 11-43,
        a locale4 name, or empty/"all"/"total" for a state total). A state is
        given either as one total row or as rows by locale, never both.

    Returns
    -------
    DataFrame
        stusps, locale4 (None for state-total rows), public_schools (float).
    """
    state_col = "state" if "state" in public_schools.columns else "stusps"
    for column in (state_col, "public_schools"):
        if column not in public_schools.columns:
            msg = f"public_schools lacks column {column!r}; found {list(public_schools.columns)}"
            raise InvalidParameterError("public_schools", msg)
    counts = pd.to_numeric(public_schools["public_schools"], errors="coerce")
    bad = counts.isna() | (counts < 0)
    if bad.any():
        value = public_schools.loc[bad, "public_schools"].iloc[0]
        msg = f"public_schools count must be a number >= 0, got {value!r}"
        raise InvalidParameterError("public_schools", msg)
    locales = (
        public_schools["locale"]
        if "locale" in public_schools.columns
        else pd.Series(None, index=public_schools.index, dtype=object)
    )
    out = pd.DataFrame(
        {
            "stusps": public_schools[state_col].astype(str).str.strip().str.upper().to_numpy(),
            "locale4": [_locale4_of(cell) for cell in locales.astype(object)],
            "public_schools": counts.astype(float).to_numpy(),
        }
    )
    is_total = out["locale4"].isna()
    mixed = sorted(set(out.loc[is_total, "stusps"]) & set(out.loc[~is_total, "stusps"]))
    if mixed:
        msg = (
            f"public_schools gives both a state total and locale rows for {mixed[0]!r}; give one or the other"
        )
        raise InvalidParameterError("public_schools", msg)
    return out


def public_school_denominators(public_schools: pd.DataFrame, in_scope: list[str]) -> pd.DataFrame:
    """Return public-school counts by state: a "total" column and one column per locale row.

    Parameters
    ----------
    public_schools : DataFrame
        See :func:`normalize_public_schools`.
    in_scope : list of str
        USPS codes of the states to report (the index, in this order).

    Returns
    -------
    DataFrame
        Index ``stusps``; columns ``total`` and ``"<scheme>:<class>"``.

    Notes
    -----
    A missing figure stays NaN, and so does a roll-up with a missing member class.
    """
    ps = normalize_public_schools(public_schools)
    ps = ps[ps["stusps"].isin(in_scope)]
    wide = pd.DataFrame(index=pd.Index(in_scope, name="stusps"))
    wide["total"] = ps.groupby("stusps")["public_schools"].sum()
    by_class = ps[ps["locale4"].notna()].groupby(["stusps", "locale4"])["public_schools"].sum().unstack()
    by_class = by_class.reindex(index=wide.index, columns=list(LOCALE4))
    for scheme, cls in LOCALE_ROWS:
        members = [c for c in LOCALE4 if (c if scheme == "locale4" else ROLLUP[c]) == cls]
        wide[f"{scheme}:{cls}"] = by_class[members].sum(axis=1, skipna=False)
    return wide


def coalition_status_by_state(coalitions: pd.DataFrame) -> pd.Series:
    """Return one status per USPS code; a state with several rows takes the most advanced.

    Order: existing > developing > none (a state-wide "developing" row and a
    county "existing" row mean a coalition exists there).
    """
    for column in ("stusps", "status"):
        if column not in coalitions.columns:
            msg = f"coalitions lacks column {column!r}; found {list(coalitions.columns)}"
            raise InvalidParameterError("coalitions", msg)
    status = coalitions["status"].fillna("none").astype(str).str.strip().str.lower()
    unknown = sorted(set(status) - set(COALITION_STATUSES))
    if unknown:
        msg = f"unknown coalition status {unknown[0]!r}; expected one of {COALITION_STATUSES}"
        raise InvalidParameterError("coalitions", msg)
    rank = status.map({s: i for i, s in enumerate(COALITION_STATUSES)})
    frame = pd.DataFrame(
        {"stusps": coalitions["stusps"].astype(str).str.upper().to_numpy(), "rank": rank.to_numpy()}
    )
    best = frame.groupby("stusps")["rank"].min()
    return best.map(dict(enumerate(COALITION_STATUSES))).astype(object)


# --------------------------------------------------------------------------
# JSON


@dataclass(frozen=True)
class MetricsResult:
    """The metrics at every level (columns in docs/METRICS.md).

    Attributes
    ----------
    national : DataFrame
        One row: the 50 states, DC and PR together.
    states : DataFrame
        One row per in-scope state, ordered by FIPS.
    locales : DataFrame
        Seven rows: ``locale_scheme`` "locale4" (city, suburb, town, rural)
        and "locale" (urban, suburban, rural).
    state_locales : DataFrame
        Seven rows per in-scope state.
    counties : DataFrame
        One row per county of an in-scope state.
    canada : DataFrame
        One row: the count of Canadian schools.
    deserts : DataFrame
        The desert counties, most children first.
    parameters : dict
        The parameters used (reach table, thresholds).
    """

    national: pd.DataFrame
    states: pd.DataFrame
    locales: pd.DataFrame
    state_locales: pd.DataFrame
    counties: pd.DataFrame
    canada: pd.DataFrame
    deserts: pd.DataFrame
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON document (no NaN: missing values are None; keys in docs/METRICS.md)."""
        return metrics_json(self)


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the rows of ``frame`` as JSON-safe dicts (column order kept)."""
    columns = [c for c in frame.columns if c != "geometry"]
    values = frame[columns].astype(object).to_numpy()
    return [{c: json_safe(v) for c, v in zip(columns, row, strict=True)} for row in values]


def metrics_json(result: MetricsResult) -> dict[str, Any]:
    """Return the JSON document of a :class:`MetricsResult` (keys in docs/METRICS.md)."""
    national = frame_records(result.national)[0]
    states = {row["stusps"]: row for row in frame_records(result.states)}
    locales: dict[str, dict[str, Any]] = {}
    for row in frame_records(result.locales):
        locales.setdefault(row["locale_scheme"], {})[row["locale_class"]] = row
    state_locales: dict[str, dict[str, dict[str, Any]]] = {}
    for row in frame_records(result.state_locales):
        by_scheme = state_locales.setdefault(row["stusps"], {})
        by_scheme.setdefault(row["locale_scheme"], {})[row["locale_class"]] = row
    return {
        "parameters": json_safe(result.parameters),
        "national": national,
        "states": states,
        "locales": locales,
        "state_locales": state_locales,
        "canada": frame_records(result.canada)[0],
        "deserts": frame_records(result.deserts),
    }


# --------------------------------------------------------------------------
# Export


def metrics_tables_for_export(
    result: MetricsResult,
    states_web: gpd.GeoDataFrame,
    counties_web: gpd.GeoDataFrame,
) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """Join the metrics onto web-weight polygons, ready to write.

    Parameters
    ----------
    result : MetricsResult
        From :func:`geo.metrics.compute_metrics`.
    states_web, counties_web : GeoDataFrame
        Web-weight polygons with ``statefp`` / ``geoid`` (any CRS; output is EPSG:4326).

    Returns
    -------
    dict
        ``state_metrics`` and ``county_metrics`` (GeoDataFrames in EPSG:4326,
        one row per in-scope state / county with polygons; inner join, so
        territories are left out), and the plain tables ``national_metrics``,
        ``locale_metrics``, ``state_locale_metrics``, ``desert_counties`` and
        ``canada_metrics``. Key ``X`` is written as ``X.csv`` (docs/SCHEMA.md).
    """
    states_geo = to_wgs84(states_web)[["statefp", "geometry"]]
    counties_geo = to_wgs84(counties_web)[["geoid", "geometry"]]
    state_metrics = states_geo.merge(result.states, on="statefp", how="inner", validate="one_to_one")
    county_metrics = counties_geo.merge(result.counties, on="geoid", how="inner", validate="one_to_one")
    missing = len(result.states) - len(state_metrics)
    if missing:
        logger.warning("%d in-scope states have no web polygon and are left out of state_metrics", missing)
    front = ["statefp", "stusps", "name"]
    state_metrics = state_metrics[front + [c for c in state_metrics.columns if c not in front]]
    county_front = ["geoid", "statefp", "stusps", "name"]
    county_metrics = county_metrics[
        county_front + [c for c in county_metrics.columns if c not in county_front]
    ]
    return {
        "state_metrics": gpd.GeoDataFrame(
            state_metrics.sort_values("statefp", ignore_index=True), geometry="geometry", crs=states_geo.crs
        ),
        "county_metrics": gpd.GeoDataFrame(
            county_metrics.sort_values("geoid", ignore_index=True), geometry="geometry", crs=counties_geo.crs
        ),
        "national_metrics": result.national.copy(),
        "locale_metrics": result.locales.copy(),
        "state_locale_metrics": result.state_locales.copy(),
        "desert_counties": result.deserts.copy(),
        "canada_metrics": result.canada.copy(),
    }
