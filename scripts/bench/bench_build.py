"""Benchmark `csmap build`: cold build, warm (unchanged) build, forced rebuild; web layer sizes.

The web-weight layers' sizes are those the app serves (``/downloads/*.geojson``; the
build writes no GeoJSON of its own), measured on the cold build.

Usage: .venv/bin/python scripts/bench/bench_build.py [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from _util import measure

BUILD = """
from geo.build import run_build
s = run_build({root!r}, force={force})
result = {{"skipped": s.skipped, "row_counts": s.manifest.get("row_counts")}}
"""

SERVED = """
from webmap import create_app
client = create_app({{"TESTING": True, "DATA_DIR": {root!r}}}).test_client()
result = {{f"{{name}}.geojson": len(client.get(f"/downloads/{{name}}.geojson").data)
          for name in ("states", "counties", "schools")}}
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="csmap-bench-build-"))
    try:
        cold = measure(BUILD.format(root=str(root), force=False))
        served = measure(SERVED.format(root=str(root)))
        warm = measure(BUILD.format(root=str(root), force=False))
        forced = measure(BUILD.format(root=str(root), force=True))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    report = {
        "cold": {k: cold[k] for k in ("wall_s", "peak_rss_mb")},
        "warm_unchanged": {k: warm[k] for k in ("wall_s", "peak_rss_mb")}
        | {"skipped": warm["result"]["skipped"]},
        "forced_with_reference_cache": {k: forced[k] for k in ("wall_s", "peak_rss_mb")},
        "web_layer_bytes": served["result"],
        "row_counts": cold["result"]["row_counts"],
    }
    if args.json:
        print(json.dumps(report, indent=1))
        return
    print("csmap build")
    for name in ("cold", "warm_unchanged", "forced_with_reference_cache"):
        r = report[name]
        print(f"  {name:30s} {r['wall_s']:7.2f} s   peak RSS {r['peak_rss_mb']:7.0f} MB")
    print("  web-weight layers, as served (/downloads):")
    for name, size in (report["web_layer_bytes"] or {}).items():
        print(f"    {name:24s} {size / 1e3:9.1f} KB")
    ok_states = report["web_layer_bytes"]["states.geojson"] <= 300_000
    ok_counties = report["web_layer_bytes"]["counties.geojson"] <= 3_000_000
    print(f"  states <= 300 KB: {ok_states}; counties <= 3 MB: {ok_counties}")


if __name__ == "__main__":
    main()
