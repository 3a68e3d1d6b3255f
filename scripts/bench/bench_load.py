"""A realistic load mix against ``csmap serve``, at 16 and 64 connections, and a worker killed mid-run.

Run: ``.venv/bin/python scripts/bench/bench_load.py [--data-dir D] [--seconds 20] [--python-client]``.

* Starts ``csmap serve`` as ``make serve`` runs it (the buffering front, 2 web
  workers x 4 threads, the planner pool) on 127.0.0.1 at a free port.
* The mix (issue #17, point 10), as a fixed, shuffled list of 2,000 paths
  (seed 17): 15% the landing page; 15% state pages; 35%
  ``/api/schools/nearest`` around random points of the contiguous states; 25%
  OGC API items of the schools in random bounding boxes (0.2 to 4 degrees); 10%
  filtered downloads of the schools (by state, locale or both, CSV or GeoJSON).
* After an unmeasured warm-up pass, runs the mix for ``--seconds`` at 16 connections and at 64, with Debian's
  ``wrk`` (``apt-get install wrk``; each wrk thread starts at its own place in the
  list), or a threaded Python client with the same connections.
* Then once more at 16 connections, killing one web worker (SIGKILL, by PID) a
  third of the way in, and reports the requests lost: errors and non-2xx/3xx
  answers beyond those of the run without a kill (gunicorn starts a new worker;
  the front retries a GET once when a worker dies before answering).
* Target: p99 <= 150 ms and 0 errors at 16 connections. Exit 1 if missed. The 64
  connection figures and the lost requests are reported, not judged.

Loopback only; every run is bounded in time; the server is stopped by its PID.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
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
    served_parser,
    venv_tool,
)
from _wrk import parse_wrk

TARGET_P99_MS = 150.0
CONNECTIONS = (16, 64)
PATHS = 2000
MIX = {"landing": 0.15, "state": 0.15, "nearest": 0.35, "ogc_items": 0.25, "download": 0.10}
STATES = ["AL", "AZ", "CA", "CO", "FL", "GA", "IL", "MA", "MI", "MN", "NC", "NY", "OH", "PA", "TX", "WA"]
LOCALES = ["city", "suburb", "town", "rural"]

LUA = """
-- Cycle the paths listed in the file given after --; each thread starts at its own place.
local paths = {}
local threads = 0
setup = function(thread)
  thread:set("offset", threads * 997)
  threads = threads + 1
end
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  i = offset % #paths
end
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def mix_paths(count: int = PATHS, seed: int = 17) -> list[str]:
    """Return ``count`` request paths in the proportions of :data:`MIX`, shuffled."""
    rng = random.Random(seed)
    paths: list[str] = []
    for kind, share in MIX.items():
        for _ in range(round(count * share)):
            lat, lon = rng.uniform(26.0, 48.0), rng.uniform(-123.0, -70.0)
            if kind == "landing":
                paths.append("/")
            elif kind == "state":
                paths.append(f"/states/{rng.choice(STATES)}")
            elif kind == "nearest":
                paths.append(f"/api/schools/nearest?lat={lat:.4f}&lon={lon:.4f}&k=10")
            elif kind == "ogc_items":
                half = rng.uniform(0.1, 2.0)
                bbox = f"{lon - half:.3f},{lat - half:.3f},{lon + half:.3f},{lat + half:.3f}"
                paths.append(f"/ogcapi/collections/schools/items?bbox={bbox}&limit=100")
            else:
                fmt = rng.choice(["csv", "geojson"])
                query = rng.choice(
                    [
                        f"state={rng.choice(STATES)}",
                        f"locale={rng.choice(LOCALES)}",
                        f"state={rng.choice(STATES)}&locale={rng.choice(LOCALES)}",
                    ]
                )
                paths.append(f"/downloads/schools.{fmt}?{query}")
    rng.shuffle(paths)
    return paths


def check_paths(port: int, paths: list[str]) -> None:
    """Every kind of path answers 200 (or a 3xx) before the load starts."""
    seen: set[str] = set()
    for path in paths:
        kind = path.split("?")[0].rsplit("/", 1)[0]
        if kind in seen:
            continue
        seen.add(kind)
        status = get(port, path)[0]
        if not 200 <= status < 400:
            raise SystemExit(f"{path} answered {status} before the load; fix that first")


def run_wrk(port: int, connections: int, seconds: float, folder: Path) -> dict[str, Any]:
    script, listing = folder / "mix.lua", folder / "paths.txt"
    args = ["wrk", "--latency", "-t", "2", "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", "10s"]
    args += ["-s", str(script), f"http://{HOST}:{port}", "--", str(listing)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60, check=True)
    result = parse_wrk(proc.stdout)
    result["error_count"] = sum(result["errors"].values())
    return result


def run_python(port: int, paths: list[str], connections: int, seconds: float) -> dict[str, Any]:
    result = python_load(port, paths, seconds, connections=connections, stride=97)
    errors = {"non_2xx": result.pop("non_2xx"), "socket": result.pop("socket_errors")}
    return {**result, "errors": errors, "error_count": sum(errors.values())}


def web_workers(serve_pid: int) -> list[int]:
    """Return the PIDs of the web pool's gunicorn workers under ``csmap serve`` (from /proc)."""
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            commands[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    masters = [pid for pid, parent in parents.items() if parent == serve_pid and "web.sock" in commands[pid]]
    return sorted(pid for pid, parent in parents.items() if parent in masters)


def main(argv: list[str] | None = None) -> int:
    args = served_parser(__doc__.splitlines()[0], 20.0).parse_args(argv)
    data_dir = prepared_data_dir(args.data_dir)
    paths = mix_paths()
    use_wrk = shutil.which("wrk") is not None and not args.python_client
    results: dict[str, Any] = {"generator": "wrk" if use_wrk else "python", "seconds": args.seconds}
    port = free_port()
    command = [venv_tool("csmap"), "serve", "--data-dir", str(data_dir), "--host", HOST, "--port", str(port)]
    command += ["--workers", str(WORKERS), "--threads", str(THREADS)]
    with tempfile.TemporaryDirectory(prefix="bench-load-") as folder_name:
        folder = Path(folder_name)
        (folder / "mix.lua").write_text(LUA)
        (folder / "paths.txt").write_text("\n".join(paths) + "\n")

        def run(connections: int) -> dict[str, Any]:
            if use_wrk:
                return run_wrk(port, connections, args.seconds, folder)
            return run_python(port, paths, connections, args.seconds)

        with ChildServer(command, port=port, log=folder / "serve.log") as server:
            server.wait_ready(timeout=180.0)
            check_paths(port, paths)
            # Unmeasured: every path once through the caches (state pages, filtered downloads),
            # as a server that has been up for a while has them.
            warm = python_load(port, paths, min(args.seconds, 15.0), connections=8, stride=PATHS // 8)
            results["warm_up_requests"] = warm["requests"]
            for connections in CONNECTIONS:
                results[f"c{connections}"] = run(connections)
            workers = web_workers(server.process.pid)
            killed: list[int] = []

            def kill_one() -> None:
                time.sleep(args.seconds / 3)
                if workers:
                    os.kill(workers[0], signal.SIGKILL)
                    killed.append(workers[0])

            killer = threading.Thread(target=kill_one)
            killer.start()
            results["c16_kill"] = run(16)
            killer.join()
            results["killed_worker"] = killed[0] if killed else None
            results["workers_after"] = len(web_workers(server.process.pid))

    base, kill = results["c16"], results["c16_kill"]
    results["lost_requests"] = max(0, kill["error_count"] - base["error_count"])
    results["passed"] = base["p99_ms"] <= TARGET_P99_MS and base["error_count"] == 0
    print(
        f"mix of {len(paths):,} paths ({', '.join(f'{k} {v:.0%}' for k, v in MIX.items())}); "
        f"{results['generator']}, {args.seconds:g} s a run; csmap serve with {WORKERS} web workers x "
        f"{THREADS} threads on {os.cpu_count()} CPUs shared with the load generator"
    )
    print(f"{'run':<22}{'requests':>10}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}  errors")
    for name, label in (
        ("c16", "16 connections"),
        ("c64", "64 connections"),
        ("c16_kill", "16, worker killed"),
    ):
        row = results[name]
        print(
            f"{label:<22}{row['requests']:>10,}{row['rps']:>8.0f}{row['p50_ms']:>9.1f}{row['p99_ms']:>9.1f}"
            f"  {row['error_count']} {row['errors']}"
        )
    print(
        f"worker killed: pid {results['killed_worker']}; web workers afterwards: {results['workers_after']}; "
        f"requests lost: {results['lost_requests']}"
    )
    print(
        f"target: p99 <= {TARGET_P99_MS:.0f} ms and 0 errors at 16 connections: "
        f"{'PASS' if results['passed'] else 'FAIL'}"
    )
    if args.json:
        print(json.dumps(results, indent=1))
    return 0 if results["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
