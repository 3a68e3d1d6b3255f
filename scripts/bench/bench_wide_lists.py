"""Benchmark a very wide school list: 100,000 columns (issue 11, point 7).

In one fresh process (the real national reference layers):

- wide: a CSV of 6 schools and 100,004 columns (name, ZIP, latitude,
  longitude and 100,000 other columns): read (``read_school_file``) and
  prepare (``prepare_schools``);
- baseline, in the same run: a CSV holding the same number of cells in 13
  columns (46,158 rows), read and prepared the same way, so the wide file is
  compared with the cost of its cells rather than with an absolute figure;
- ``csmap load`` of the wide file, end to end (a build on the reference layers
  above), counting how many times the file is opened (an audit hook on
  ``open``): the target is once.

Targets: the wide file read + prepared in under 10 s (it took 431 s before
issue 11), and opened once by ``csmap load``.

Usage: .venv/bin/python scripts/bench/bench_wide_lists.py [--json] [--columns 100000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from _util import measure

COLUMNS = 100_000
ROWS = 6
TARGET_SECONDS = 10.0
TARGET_OPENS = 1

BODY = """
import csv, sys, time
import geopandas as gpd
from click.testing import CliRunner
from geo import build
from geo import reference as ref
from geo.locale import add_locale
from geo.schools import prepare_schools, read_school_file
from scripts.cmd_load import load_command

states = ref.load_states()
counties = ref.load_counties()
zctas = gpd.GeoDataFrame(add_locale(ref.load_zctas()), geometry="geometry", crs=states.crs)
reference = ref.Reference(states=states, counties=counties, states_web=states, counties_web=counties,
                          zctas=zctas, zip_points=ref.load_zip_points(zctas), gazetteer=ref.load_gazetteer())

folder = {folder!r}
wide, long = folder + "/wide.csv", folder + "/long.csv"
places = [("Lincoln School", "60614", "41.92", "-87.65"), ("Adams School", "10001", "40.75", "-73.99"),
          ("Baker School", "94103", "37.77", "-122.41"), ("Carver School", "73301", "30.27", "-97.74"),
          ("Dewey School", "02134", "42.35", "-71.13"), ("Eliot School", "98101", "47.61", "-122.33")]
with open(wide, "w", newline="", encoding="utf-8") as handle:
    out = csv.writer(handle)
    survey = [f"Survey Q{{i}}" for i in range({columns})]
    out.writerow(["School Name", "ZIP", "Latitude", "Longitude", *survey])
    for r in range({rows}):
        out.writerow([*places[r % len(places)], *(str((r * 7 + i) % 5) for i in range({columns}))])
cells = {rows} * ({columns} + 4)
long_rows = cells // 13
with open(long, "w", newline="", encoding="utf-8") as handle:
    out = csv.writer(handle)
    out.writerow(["School Name", "ZIP", "Latitude", "Longitude", *(f"Note {{i}}" for i in range(9))])
    for r in range(long_rows):
        name, zip_code, lat, lon = places[r % len(places)]
        out.writerow([f"{{name}} {{r}}", zip_code, lat, lon, *(str((r + i) % 5) for i in range(9))])

def timed(path):
    t0, c0 = time.perf_counter(), time.process_time()
    raw = read_school_file(path)
    t1 = time.perf_counter()
    loaded = prepare_schools(raw, reference)
    t2, c2 = time.perf_counter(), time.process_time()
    return {{"read_s": t1 - t0, "prepare_s": t2 - t1, "load_s": t2 - t0, "cpu_s": c2 - c0,
            "rows": loaded.report["rows"], "columns": raw.shape[1] - 1, "loaded": loaded.report["loaded"]}}

prepare_schools(read_school_file(long).head(50), reference)  # imports and caches, outside the timings
baseline = timed(long)
wide_run = timed(wide)

opens = []
def hook(event, args):
    if event == "open" and args and str(args[0]) == wide:
        opens.append(args[1])
sys.addaudithook(hook)
build.load_reference = lambda root, progress=None: reference
t0, c0 = time.perf_counter(), time.process_time()
cli = CliRunner().invoke(load_command, [wide, "--json", "--data-dir", folder + "/data"])
load_wall, load_cpu = time.perf_counter() - t0, time.process_time() - c0
result = {{"wide": wide_run, "baseline": baseline, "csmap_load_s": load_wall, "csmap_load_cpu_s": load_cpu,
          "opens": len(opens),
          "csmap_load_exit": cli.exit_code, "csmap_load_output": cli.output[-2000:]}}
"""


def run(columns: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="csmap-bench-wide-"))
    try:
        measured = measure(BODY.format(folder=str(folder), columns=columns, rows=ROWS))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report = dict(measured["result"])
    report["peak_rss_mb"] = measured["peak_rss_mb"]
    report["ratio_wide_to_baseline"] = report["wide"]["load_s"] / report["baseline"]["load_s"]
    report["target_seconds_ok"] = report["wide"]["load_s"] < TARGET_SECONDS
    report["target_cpu_seconds_ok"] = report["wide"]["cpu_s"] < TARGET_SECONDS
    report["target_opens_ok"] = report["opens"] == TARGET_OPENS
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--columns", type=int, default=COLUMNS)
    args = parser.parse_args()
    report = run(args.columns)
    if args.json:
        print(json.dumps(report, indent=1))
        return
    print("wide school list: read -> prepare; baseline: the same number of cells in 13 columns")
    print(f"  {'file':>9} {'rows':>7} {'columns':>8} {'read':>7} {'prepare':>8} {'load':>7} {'CPU':>7}")
    for name in ("wide", "baseline"):
        r = report[name]
        print(
            f"  {name:>9} {r['rows']:7,} {r['columns']:8,} {r['read_s']:6.2f}s {r['prepare_s']:7.2f}s "
            f"{r['load_s']:6.2f}s {r['cpu_s']:6.2f}s"
        )
    print(f"  wide / baseline: {report['ratio_wide_to_baseline']:.2f}")
    print(
        f"  {args.columns:,} columns read + prepared < {TARGET_SECONDS:.0f} s: {report['target_seconds_ok']} "
        f"(CPU: {report['target_cpu_seconds_ok']})"
    )
    print(
        f"  csmap load (whole build on the national layers): {report['csmap_load_s']:.1f} s "
        f"({report['csmap_load_cpu_s']:.1f} s CPU), exit "
        f"{report['csmap_load_exit']}, file opened {report['opens']} time(s) (target {TARGET_OPENS}): "
        f"{report['target_opens_ok']}; peak RSS {report['peak_rss_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
