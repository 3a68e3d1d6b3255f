"""Benchmark: a school's page and JSON (issue 15), first and cached, against its map popup.

Run: ``.venv/bin/python scripts/bench/bench_school_page.py [--data-dir D] [--schools 60]``.

* One warm app (the build's layers and record tables read, one school answered first),
  through Flask's test client, so only the app's own work is timed.
* For ``--schools`` schools spread over the list: ``/api/schools/<id>`` the first time
  (joins and nearby search: :func:`webmap.school_page.school_detail`), ``/schools/<id>``
  the first time (its HTML and small map; the detail is then cached), and both again (per-build
  cache).
* Baseline, in the same run: the same schools' map popups, ``/map/schools/<row>``, one row of
  the layer with no joins.
* Target: the median first answer of the JSON at most 150 ms. Exit 1 when it is missed.
* Builds the sample into a temporary folder when ``--data-dir`` has no build.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

TARGET_MS = 150.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT / "data" / "build"))
    parser.add_argument("--schools", type=int, default=60)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from geo import store
    from geo.errors import NoBuildError
    from webmap import create_app

    data_dir = Path(args.data_dir)
    try:
        store.current_build_dir(data_dir)
    except NoBuildError:
        from geo.build import run_build

        data_dir = Path(tempfile.mkdtemp(prefix="csmap-bench-"))
        run_build(data_dir)
    client = create_app({"DATA_DIR": str(data_dir)}).test_client()
    total = client.get("/api/schools?limit=1").get_json()["total"]
    step = max(1, total // (args.schools + 1))
    rows = list(range(step, total, step))[: args.schools]
    ids = [client.get(f"/map/schools/{row}").get_json()["school_id"] for row in rows[1:]]
    client.get(f"/api/schools/{client.get(f'/map/schools/{rows[0]}').get_json()['school_id']}")  # warm

    def timed(url: str) -> float:
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
        return elapsed

    results = {
        "popup (baseline)": [timed(f"/map/schools/{row}") for row in rows[1:]],
        "json, first": [timed(f"/api/schools/{i}") for i in ids],
        "page, first": [timed(f"/schools/{i}") for i in ids],
        "json, cached": [timed(f"/api/schools/{i}") for i in ids],
        "page, cached": [timed(f"/schools/{i}") for i in ids],
    }
    summary = {
        name: {"median_ms": round(statistics.median(ms), 2), "max_ms": round(max(ms), 2)}
        for name, ms in results.items()
    }
    ok = summary["json, first"]["median_ms"] <= TARGET_MS
    if args.json:
        print(json.dumps({"schools": len(ids), "target_ms": TARGET_MS, "ok": ok, "results": summary}))
    else:
        print(f"{len(ids)} schools; target: median first JSON answer <= {TARGET_MS:.0f} ms")
        base = summary["popup (baseline)"]["median_ms"]
        for name, row in summary.items():
            print(
                f"  {name:<18} median {row['median_ms']:8.2f} ms   max {row['max_ms']:8.2f} ms"
                f"   x{row['median_ms'] / base:6.1f} the popup"
            )
        print("OK" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
