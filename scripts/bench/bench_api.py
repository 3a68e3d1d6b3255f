"""Throughput of the served API: /api/schools/nearest against a trivial /healthz, in the same run.

Run: ``.venv/bin/python scripts/bench/bench_api.py [--data-dir D] [--seconds 10] [--json]``.

* Starts ``csmap serve`` (gunicorn, 2 workers, the served configuration) on
  127.0.0.1 at a free port, on a built data folder (built first when it has
  no build, as ``make serve`` does).
* Drives each endpoint for a fixed time with a bounded load generator on
  loopback: Debian's ``wrk`` when installed (``apt-get install -y wrk``), with
  a Lua script cycling a fixed list of points for /nearest; otherwise a
  threaded Python client doing the same.
* Reports requests per second, p50 and p99 latency and errors of each.
  Target (issue #5): nearest >= 50% of /healthz's requests per second, with
  no errors. Exit status 1 when the target is missed.
* Stops the server by its PID (SIGTERM to the gunicorn master, which stops
  its workers), whatever happens.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _server import (
    HOST,
    THREADS,
    WORKERS,
    ChildServer,
    free_port,
    get,
    prepared_data_dir,
    python_load,
    serve_args,
    served_parser,
)
from _wrk import parse_wrk

TARGET_RATIO = 0.5
#: Concurrent connections: a few per worker keeps both busy without an
#: unbounded queue; the same for both endpoints so the ratio is fair.
CONNECTIONS = 8
#: A fixed, varied list of (lat, lon) query points: large cities, small towns
#: and remote places (so some answers come from hundreds of miles away), plus
#: Anchorage, Honolulu and San Juan.
POINTS = [
    (40.7128, -74.0060),
    (41.8781, -87.6298),
    (34.0522, -118.2437),
    (29.7604, -95.3698),
    (33.4484, -112.0740),
    (39.9526, -75.1652),
    (47.6062, -122.3321),
    (39.7392, -104.9903),
    (25.7617, -80.1918),
    (44.9778, -93.2650),
    (35.2271, -80.8431),
    (38.6270, -90.1994),
    (46.8083, -100.7837),
    (43.6150, -116.2023),
    (31.5493, -97.1467),
    (44.2601, -72.5754),
    (37.2707, -119.2708),
    (47.9253, -97.0329),
    (61.2181, -149.9003),
    (21.3069, -157.8583),
    (18.4655, -66.1057),
    (36.1627, -86.7816),
    (42.3601, -71.0589),
    (32.2226, -110.9747),
]
RADII = (None, 5, 25)


def nearest_paths() -> list[str]:
    """The /nearest request paths the load cycles through."""
    paths = []
    for i, (lat, lon) in enumerate(POINTS):
        radius = RADII[i % len(RADII)]
        path = f"/api/schools/nearest?lat={lat}&lon={lon}&k=10"
        paths.append(path + (f"&radius_mi={radius}" if radius else ""))
    return paths


# --------------------------------------------------------------------------
# wrk


LUA_TEMPLATE = """
-- Cycle a fixed list of /nearest paths; each wrk thread keeps its own counter.
local paths = {{{paths}}}
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def run_wrk(port: int, path: str, seconds: float, lua: Path | None) -> dict[str, Any]:
    args = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--timeout", "5s", "--latency"]
    if lua is not None:
        args += ["-s", str(lua)]
    args.append(f"http://{HOST}:{port}{path}")
    proc = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 30)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed: {proc.stderr.strip()}")
    return parse_wrk(proc.stdout)


# --------------------------------------------------------------------------
# The Python fallback


def run_python(port: int, paths: list[str], seconds: float) -> dict[str, Any]:
    """A threaded closed-loop client: CONNECTIONS threads, each cycling ``paths`` for ``seconds``."""
    result = python_load(port, paths, seconds, connections=CONNECTIONS, timeout=5)
    errors = {"non_2xx": result.pop("non_2xx"), "socket": result.pop("socket_errors")}
    return {**result, "errors": errors}


# --------------------------------------------------------------------------


def check_answers(port: int) -> None:
    """Every /nearest path answers 200 with schools sorted by distance (before timing anything)."""
    for path in nearest_paths():
        status, body = get(port, path)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}: {body[:200]!r}")
        distances = [s["distance_mi"] for s in json.loads(body)["schools"]]
        if distances != sorted(distances):
            raise RuntimeError(f"{path}: schools not sorted by distance")


def warm_up(port: int, rounds: int = 40) -> None:
    """Fill every worker's per-build caches (school index, serialized records) before timing."""
    paths = nearest_paths()
    for i in range(rounds):
        get(port, paths[i % len(paths)])
        get(port, "/healthz")


def main(argv: list[str] | None = None) -> int:
    args = served_parser(__doc__.splitlines()[0], 10.0).parse_args(argv)
    data_dir = prepared_data_dir(args.data_dir)
    use_wrk = shutil.which("wrk") is not None and not args.python_client
    port = free_port()
    results: dict[str, Any] = {
        "generator": "wrk" if use_wrk else "python",
        "workers": WORKERS,
        "connections": CONNECTIONS,
        "seconds": args.seconds,
        "cpus": os.cpu_count(),
    }
    with tempfile.TemporaryDirectory(prefix="bench-api-") as folder:
        server = ChildServer(serve_args(data_dir, port), port=port, log=Path(folder) / "server.log")
        try:
            server.wait_ready(timeout=90.0)
            check_answers(port)
            warm_up(port)
            if use_wrk:
                lua = Path(folder) / "nearest.lua"
                lua.write_text(LUA_TEMPLATE.format(paths=", ".join(json.dumps(p) for p in nearest_paths())))
                results["healthz"] = run_wrk(port, "/healthz", args.seconds, None)
                results["nearest"] = run_wrk(port, "/", args.seconds, lua)
            else:
                results["healthz"] = run_python(port, ["/healthz"], args.seconds)
                results["nearest"] = run_python(port, nearest_paths(), args.seconds)
        finally:
            server.stop()
            if server.process.returncode not in (0, -signal.SIGTERM):
                tail = (Path(folder) / "server.log").read_text(errors="replace")[-2000:]
                print(f"server exit status {server.process.returncode}; log tail:\n{tail}", file=sys.stderr)

    ratio = results["nearest"]["rps"] / results["healthz"]["rps"]
    error_count = sum(sum(results[name]["errors"].values()) for name in ("healthz", "nearest"))
    results["ratio"] = ratio
    results["passed"] = ratio >= TARGET_RATIO and error_count == 0
    print(
        f"load generator: {results['generator']}, {CONNECTIONS} connections, "
        f"{args.seconds:g} s per endpoint, "
        f"gunicorn {WORKERS} workers x {THREADS} threads on {os.cpu_count()} CPUs "
        "(shared with the load generator)"
    )
    print(f"{'endpoint':<24}{'requests':>10}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}  errors")
    for name, label in (("healthz", "/healthz"), ("nearest", "/api/schools/nearest")):
        r = results[name]
        print(
            f"{label:<24}{r['requests']:>10,}{r['rps']:>10.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}  "
            f"{sum(r['errors'].values())} {r['errors']}"
        )
    print(
        f"nearest / healthz throughput: {ratio:.0%} (target >= {TARGET_RATIO:.0%}, no errors): "
        f"{'PASS' if results['passed'] else 'FAIL'}"
    )
    if args.json:
        print(json.dumps(results, indent=1))
    return 0 if results["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
