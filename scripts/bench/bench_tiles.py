"""Throughput of the embedded basemap: /tiles/{z}/{x}/{y}.png against a trivial /healthz, in one run.

Run: ``.venv/bin/python scripts/bench/bench_tiles.py [--data-dir D] [--seconds 10] [--json]``.

The same harness as bench_api.py (``csmap serve`` with gunicorn, Debian's ``wrk`` when
installed, else a threaded Python client, loopback only, the server stopped by PID):
the load cycles through the tiles a visitor's national and state maps ask for (zooms
3-6 over the lower 48, Alaska, Hawaii and Puerto Rico). Target (issue 15, point 8):
tiles >= 50% of /healthz's requests per second, with no errors. Exit status 1 when missed.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from _server import (
    THREADS,
    WORKERS,
    ChildServer,
    free_port,
    get,
    prepared_data_dir,
    serve_args,
    served_parser,
)
from bench_api import (  # type: ignore[import-not-found]  # a sibling script
    CONNECTIONS,
    LUA_TEMPLATE,
    TARGET_RATIO,
    run_python,
    run_wrk,
)

#: Places whose tiles the load asks for, at zooms 3 to 6 (lat, lon).
PLACES = [(39.5, -98.35), (40.71, -74.0), (34.05, -118.24), (41.88, -87.63), (29.76, -95.37),
          (61.2, -149.9), (21.3, -157.86), (18.47, -66.1), (47.6, -122.3), (33.75, -84.39)]  # fmt: skip


def tile_of(lat: float, lon: float, zoom: int) -> tuple[int, int]:
    """The XYZ (slippy map) tile holding a point: OpenStreetMap's formula."""
    n = 2**zoom
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def tile_paths() -> list[str]:
    """The tile paths the load cycles through (a 3 x 3 block round each place at each zoom)."""
    paths = []
    for zoom in (3, 4, 5, 6):
        for lat, lon in PLACES:
            cx, cy = tile_of(lat, lon, zoom)
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    x, y = (cx + dx) % 2**zoom, min(max(cy + dy, 0), 2**zoom - 1)
                    paths.append(f"/tiles/{zoom}/{x}/{y}.png")
    return sorted(set(paths))


def main(argv: list[str] | None = None) -> int:
    args = served_parser(__doc__.splitlines()[0], 10.0).parse_args(argv)
    data_dir = prepared_data_dir(args.data_dir)
    use_wrk = shutil.which("wrk") is not None and not args.python_client
    port = free_port()
    paths = tile_paths()
    results: dict[str, Any] = {"generator": "wrk" if use_wrk else "python", "tiles": len(paths)}
    with tempfile.TemporaryDirectory(prefix="bench-tiles-") as folder:
        server = ChildServer(serve_args(data_dir, port), port=port, log=Path(folder) / "server.log")
        try:
            server.wait_ready(timeout=90.0)
            for path in paths:  # every tile answers before anything is timed
                status, body = get(port, path)
                if status != 200 or not body.startswith(b"\x89PNG"):
                    raise RuntimeError(f"{path} answered {status}")
            if use_wrk:
                lua = Path(folder) / "tiles.lua"
                lua.write_text(LUA_TEMPLATE.format(paths=", ".join(json.dumps(p) for p in paths)))
                results["healthz"] = run_wrk(port, "/healthz", args.seconds, None)
                results["tiles_rps"] = run_wrk(port, "/", args.seconds, lua)
            else:
                results["healthz"] = run_python(port, ["/healthz"], args.seconds)
                results["tiles_rps"] = run_python(port, paths, args.seconds)
        finally:
            server.stop()
            if server.process.returncode not in (0, -signal.SIGTERM):
                tail = (Path(folder) / "server.log").read_text(errors="replace")[-2000:]
                print(f"server exit status {server.process.returncode}; log tail:\n{tail}", file=sys.stderr)

    ratio = results["tiles_rps"]["rps"] / results["healthz"]["rps"]
    errors = sum(sum(results[name]["errors"].values()) for name in ("healthz", "tiles_rps"))
    results["ratio"] = ratio
    results["passed"] = ratio >= TARGET_RATIO and errors == 0
    print(
        f"load generator: {results['generator']}, {CONNECTIONS} connections, "
        f"{args.seconds:g} s per endpoint, gunicorn {WORKERS} workers x {THREADS} threads "
        f"on {os.cpu_count()} CPUs; {len(paths)} distinct tiles"
    )
    for name, label in (("healthz", "/healthz"), ("tiles_rps", "/tiles/{z}/{x}/{y}.png")):
        r = results[name]
        print(
            f"{label:<24}{r['requests']:>10,}{r['rps']:>10.0f}"
            f"{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}  {r['errors']}"
        )
    verdict = "PASS" if results["passed"] else "FAIL"
    print(f"tiles / healthz throughput: {ratio:.0%} (target >= {TARGET_RATIO:.0%}, no errors): {verdict}")
    if args.json:
        print(json.dumps(results, indent=1))
    return 0 if results["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
