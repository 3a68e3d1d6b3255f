"""Benchmark reading an uploaded candidate list: in memory against the former temporary-file round trip.

Run: ``.venv/bin/python scripts/bench/bench_candidates.py [--json]``.

``/api/plan`` used to write every upload into a temporary folder and read it
back by path, because :func:`geo.candidates.read_candidates` took only paths;
it now reads the bytes. Both ways are timed here in the same run on the same
uploads (the baseline re-creates the old code path): a CSV at the upload cap
(100,000 rows, about 4 MB) and at a typical size (500 rows), and a GeoJSON of
2,000 points. Each figure is the best of several repeats; both ways must give
the same frame.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file (scripts/bench/run_all.py): make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from geo.candidates import read_candidates  # noqa: E402

REPEATS = 7


def _csv(n: int, rng: np.random.Generator) -> bytes:
    lat, lon = rng.uniform(25, 49, n), rng.uniform(-124, -67, n)
    lines = [
        "name,lat,lon",
        *(f"Site {i},{a:.6f},{o:.6f}" for i, (a, o) in enumerate(zip(lat, lon, strict=True))),
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _geojson(n: int, rng: np.random.Generator) -> bytes:
    features = [
        {
            "type": "Feature",
            "properties": {"name": f"Site {i}"},
            "geometry": {"type": "Point", "coordinates": [float(o), float(a)]},
        }
        for i, (a, o) in enumerate(zip(rng.uniform(25, 49, n), rng.uniform(-124, -67, n), strict=True))
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode("utf-8")


def _via_temporary_folder(content: bytes, name: str) -> pd.DataFrame:
    """The former webmap.plan._read_candidates_bytes: write the upload out, read it back by path."""
    with tempfile.TemporaryDirectory(prefix="csmap-candidates-") as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        return read_candidates(path)


def _best(function, *args, **kwargs) -> tuple[float, pd.DataFrame]:
    best, frame = float("inf"), None
    for _ in range(REPEATS):
        started = time.perf_counter()
        frame = function(*args, **kwargs)
        best = min(best, time.perf_counter() - started)
    return best, frame


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(20261130)
    uploads = {
        "csv, 100,000 rows": (_csv(100_000, rng), "sites.csv"),
        "csv, 500 rows": (_csv(500, rng), "sites.csv"),
        "geojson, 2,000 points": (_geojson(2_000, rng), "sites.geojson"),
    }
    report = {}
    for label, (content, name) in uploads.items():
        baseline, old = _best(_via_temporary_folder, content, name)
        in_memory, new = _best(read_candidates, content, name=name)
        pd.testing.assert_frame_equal(new, old)
        report[label] = {
            "bytes": len(content),
            "temporary_folder_ms": round(baseline * 1000, 2),
            "in_memory_ms": round(in_memory * 1000, 2),
            "speedup": round(baseline / in_memory, 2),
        }
    if args.json:
        print(json.dumps(report, indent=1))
        return
    print(f"reading an uploaded candidate list (best of {REPEATS}; same frames both ways)")
    for label, r in report.items():
        print(
            f"  {label:24s} {r['bytes'] / 1e3:8.0f} KB   temporary folder {r['temporary_folder_ms']:8.2f} ms"
            f"   in memory {r['in_memory_ms']:8.2f} ms   x{r['speedup']:.2f}"
        )


if __name__ == "__main__":
    main()
