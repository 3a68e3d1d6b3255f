"""OGC API – Features throughput: /ogcapi against pygeoapi and a trivial Flask route, in the same run.

Run: ``.venv/bin/python scripts/bench/bench_ogcapi.py [--data-dir D] [--seconds 10] [--json]``.

* **The peer.** pygeoapi from PyPI in its own venv, made with Debian's
  ``/usr/bin/python3`` (the only interpreter here that can load SQLite
  extensions) under ``$CSMAP_BENCH_DIR`` (default ``/tmp/csmap-bench``); it is
  created once and reused. Its SQLiteGPKG provider needs SpatiaLite
  (``apt-get install -y libsqlite3-mod-spatialite``, done here when root). It
  serves a copy of the build's ``csmap.gpkg`` (pygeoapi's GeoPackage support
  creates virtual tables, so the build itself is never opened by it), layer
  ``schools``, id field ``school_id``.
* **The servers.** All three run under the same gunicorn version and
  options: 2 workers of 4 threads (as csmap serve), ``--preload``, no access log, on
  127.0.0.1 at a free port; one at a time, so they never share the CPU.
* **The load.** The same fixed 200 bbox queries with ``limit=100`` (seeded;
  boxes of 0.1° to 4° around schools), replayed by Debian's ``wrk`` with 16
  connections for a bounded time (a threaded Python client if wrk is
  missing). First every query is fetched once from both services, and the
  feature ids compared with each other and with the GeoPackage.
* **Targets (issue #6).** At least 20× pygeoapi's requests per second, at
  least 30% of the trivial route's, zero errors, p50 and p99 reported. Exit
  status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _wrk
from _server import HOST, ROOT, THREADS, WORKERS, ChildServer, free_port, get, gunicorn_args, python_load

CONNECTIONS = 16
QUERIES = 200
LIMIT = 100
#: pygeoapi release benchmarked (PyPI); pinned so runs compare.
PYGEOAPI = "pygeoapi==0.21.0"
SPATIALITE = Path("/usr/lib/x86_64-linux-gnu/mod_spatialite.so")
TARGET_VS_PEER = 20.0
TARGET_VS_TRIVIAL = 0.30
#: Half-widths (degrees) of the query boxes: a city block of schools up to a few states.
HALF_WIDTHS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0)


def trivial_app():
    """A Flask app with one route returning two bytes: the ceiling of this server setup."""
    from flask import Flask

    app = Flask("trivial")

    @app.get("/")
    def ok():
        return "ok", 200, {"Content-Type": "text/plain"}

    return app


# --------------------------------------------------------------------------
# Setup: data, pygeoapi venv, queries


def bench_dir() -> Path:
    """Where the pygeoapi venv and its data copy live (``$CSMAP_BENCH_DIR`` or /tmp/csmap-bench)."""
    path = Path(os.environ.get("CSMAP_BENCH_DIR") or Path(tempfile.gettempdir()) / "csmap-bench")
    path.mkdir(parents=True, exist_ok=True)
    return path


def ensure_build(data_dir: Path) -> Path:
    """Return the current build folder, building the data folder first when it has none."""
    sys.path.insert(0, str(ROOT))
    from geo import store
    from geo.errors import NoBuildError

    try:
        return store.current_build_dir(data_dir)
    except NoBuildError:
        from geo.build import run_build

        print(f"no build in {data_dir}: building it first", flush=True)
        run_build(data_dir, progress=lambda line: print(f"  build: {line}", flush=True))
        return store.current_build_dir(data_dir)


def ensure_spatialite() -> None:
    """Install SpatiaLite for pygeoapi's SQLite provider when missing (root only)."""
    if SPATIALITE.exists():
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing libsqlite3-mod-spatialite (apt-get)", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "libsqlite3-mod-spatialite"],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
    if not SPATIALITE.exists():
        raise SystemExit(f"{SPATIALITE} is missing: apt-get install -y libsqlite3-mod-spatialite")


def ensure_pygeoapi_venv(base: Path, gunicorn_version: str) -> Path:
    """Create (once) a venv with pygeoapi and the same gunicorn as ours; return its bin folder."""
    venv = base / "pygeoapi-venv"
    wanted = f"{PYGEOAPI} gunicorn=={gunicorn_version}"
    marker = venv / ".csmap-installed"
    if marker.exists() and marker.read_text() == wanted:
        return venv / "bin"
    python = Path("/usr/bin/python3")
    check = "import sqlite3; sqlite3.connect(':memory:').enable_load_extension(True)"
    if subprocess.run([str(python), "-c", check], capture_output=True).returncode != 0:
        raise SystemExit(f"{python} cannot load SQLite extensions; pygeoapi's SQLiteGPKG provider needs it")
    print(f"creating {venv} with {python} and installing {wanted}", flush=True)
    subprocess.run([str(python), "-m", "venv", "--clear", str(venv)], check=True)
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", PYGEOAPI, f"gunicorn=={gunicorn_version}"],
        capture_output=True,
        text=True,
    )
    if pip.returncode != 0:
        raise SystemExit(f"installing {wanted} failed:\n{pip.stderr[-3000:]}")
    marker.write_text(wanted)
    return venv / "bin"


def copy_geopackage(build: Path, base: Path) -> Path:
    """Copy the build's GeoPackage for pygeoapi (once per build)."""
    target = base / "data" / f"{build.name}.gpkg"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        for old in target.parent.glob("*.gpkg"):
            old.unlink()
        tmp = target.with_suffix(".tmp")
        shutil.copyfile(build / "csmap.gpkg", tmp)
        os.replace(tmp, target)
    return target


def bbox_queries(gpkg: Path, *, count: int = QUERIES, seed: int = 6) -> tuple[list[str], list[list[str]]]:
    """The fixed bbox query strings, and the ids each should return (the first LIMIT, layer order)."""
    import numpy as np
    import pyogrio
    import shapely

    schools = pyogrio.read_dataframe(gpkg, layer="schools", columns=["school_id"])
    rng = np.random.default_rng(seed)
    centres = rng.integers(0, len(schools), size=count)
    halves = rng.choice(HALF_WIDTHS, size=count)
    boxes, expected = [], []
    for centre, half in zip(centres, halves, strict=True):
        point = schools.geometry.iloc[centre]
        box = (
            round(max(point.x - half, -180), 4),
            round(max(point.y - half, -90), 4),
            round(min(point.x + half, 180), 4),
            round(min(point.y + half, 90), 4),
        )
        inside = schools.geometry.intersects(shapely.box(*box)).to_numpy()
        boxes.append(",".join(str(v) for v in box))  # exactly the box tested above
        expected.append(schools["school_id"].to_numpy()[inside][:LIMIT].tolist())
    return boxes, expected


def pygeoapi_config(folder: Path, gpkg: Path, port: int) -> tuple[Path, Path]:
    """Write pygeoapi's configuration (JSON is valid YAML) and return (config, openapi) paths."""
    config = {
        "server": {
            "bind": {"host": HOST, "port": port},
            "url": f"http://{HOST}:{port}",
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "language": "en-US",
            "pretty_print": False,
            "limits": {"default_items": 10, "max_items": 10000},
            "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "attribution": "OpenStreetMap"},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": "csmap bench",
                "description": "bench",
                "keywords": ["schools"],
                "keywords_type": "theme",
                "terms_of_service": "none",
                "url": "http://localhost",
            },
            "license": {"name": "none", "url": "http://localhost"},
            "provider": {"name": "bench", "url": "http://localhost"},
            "contact": {"name": "bench", "url": "http://localhost"},
        },
        "resources": {
            "schools": {
                "type": "collection",
                "title": "Schools",
                "description": "Community Schools",
                "keywords": ["schools"],
                "extents": {
                    "spatial": {
                        "bbox": [-180, -90, 180, 90],
                        "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                    }
                },
                "providers": [
                    {
                        "type": "feature",
                        "name": "SQLiteGPKG",
                        "data": str(gpkg),
                        "id_field": "school_id",
                        "table": "schools",
                    }
                ],
            },
        },
    }
    config_path = folder / "pygeoapi-config.yml"
    config_path.write_text(json.dumps(config, indent=1))
    return config_path, folder / "pygeoapi-openapi.yml"


# --------------------------------------------------------------------------
# Servers


def feature_ids(port: int, paths: list[str]) -> tuple[list[list[str] | None], float]:
    """Fetch every path once, in order; return the feature ids of each (None on an error) and the seconds."""
    out: list[list[str] | None] = []
    started = time.perf_counter()
    for path in paths:
        status, body = get(port, path)
        out.append([str(f["id"]) for f in json.loads(body)["features"]] if status == 200 else None)
    return out, time.perf_counter() - started


# --------------------------------------------------------------------------
# Load generators


LUA = """
-- Cycle the fixed request paths (one per line of the file given after --).
local paths = {}
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
end
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def parse_wrk(output: str) -> dict[str, Any]:
    """Read wrk's output (scripts/bench/_wrk.py), with the socket errors summed."""
    result = _wrk.parse_wrk(output)
    errors = result.pop("errors")
    return {**result, "non_2xx": errors.pop("non_2xx"), "socket_errors": sum(errors.values())}


def run_wrk(port: int, paths: list[str], seconds: int, folder: Path) -> dict[str, Any]:
    """Drive the paths with wrk (2 threads, 16 connections) for ``seconds``."""
    script, listing = folder / "cycle.lua", folder / "paths.txt"
    script.write_text(LUA)
    listing.write_text("\n".join(paths) + "\n")
    args = [
        "wrk",
        "--latency",
        "-t",
        "2",
        "-c",
        str(CONNECTIONS),
        "-d",
        f"{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://{HOST}:{port}",
        "--",
        str(listing),
    ]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60, check=True)
    return {**parse_wrk(proc.stdout), "tool": "wrk"}


def run_threads(port: int, paths: list[str], seconds: int) -> dict[str, Any]:
    """The same load from Python threads with keep-alive connections (when wrk is missing)."""
    return {"tool": "python-threads", **python_load(port, paths, seconds, connections=CONNECTIONS, stride=13)}


def load(port: int, paths: list[str], seconds: int, folder: Path) -> dict[str, Any]:
    """Drive ``paths`` for ``seconds`` with wrk when installed, else with Python threads."""
    if shutil.which("wrk"):
        result = run_wrk(port, paths, seconds, folder)
    else:
        result = run_threads(port, paths, seconds)
    result["errors"] = result["non_2xx"] + result["socket_errors"]
    return result


# --------------------------------------------------------------------------
# The run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="data folder (default: csmap's)")
    parser.add_argument("--seconds", type=int, default=10, help="load duration per server")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds: trivial route, ours")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    import gunicorn

    from geo import store

    data_dir = store.data_dir(args.data_dir)
    build = ensure_build(data_dir)
    base = bench_dir()
    ensure_spatialite()
    peer_bin = ensure_pygeoapi_venv(base, gunicorn.__version__)
    gpkg = copy_geopackage(build, base)
    boxes, expected = bbox_queries(gpkg)
    ours_paths = [f"/ogcapi/collections/schools/items?bbox={b}&limit={LIMIT}" for b in boxes]
    peer_paths = [f"/collections/schools/items?bbox={b}&limit={LIMIT}&f=json" for b in boxes]
    work = Path(tempfile.mkdtemp(prefix="ogcapi-run-", dir=base))
    print(
        f"build {build.name}; {len(boxes)} bbox queries, limit={LIMIT}; gunicorn {gunicorn.__version__}, "
        f"{WORKERS} workers x {THREADS} threads; {CONNECTIONS} connections for {args.seconds} s each",
        flush=True,
    )

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYGEOAPI", "CSMAP"))}
    rounds: dict[str, list[dict[str, Any]]] = {"trivial": [], "csmap": [], "pygeoapi": []}
    ids: dict[str, list] = {}

    def drive(name: str, port: int, paths: list[str]) -> None:
        r = load(port, paths, args.seconds, work)
        rounds[name].append(r)
        print(
            f"  {name}: {r['rps']:.0f} req/s, p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, "
            f"{r['errors']} errors ({r['requests']} requests, {r['tool']})",
            flush=True,
        )

    # The trivial route and ours are both started, then loaded in turn, round after
    # round: an idle server takes no CPU, and alternating evens out the noise of a
    # shared machine. pygeoapi runs alone afterwards.
    port = free_port()
    trivial = ChildServer(
        gunicorn_args("bench_ogcapi:trivial_app()", port),
        port=port,
        env=env,
        cwd=Path(__file__).parent,
        log=work / "trivial.log",
    )
    port = free_port()
    ours = ChildServer(
        gunicorn_args("webmap:create_app()", port),
        port=port,
        env={**env, "CSMAP_DATA_DIR": str(data_dir)},
        log=work / "csmap.log",
    )
    try:
        trivial.wait_ready("/")
        ours.wait_ready(ours_paths[0])
        assert {get(trivial.port, "/")[0] for _ in range(50)} == {200}
        ids["csmap"], once = feature_ids(ours.port, ours_paths)  # also warms both workers' caches
        print(f"  csmap: fetched the {QUERIES} queries once in {once:.1f} s", flush=True)
        for _ in range(args.rounds):
            drive("trivial", trivial.port, ["/"] * QUERIES)
            drive("csmap", ours.port, ours_paths)
    finally:
        trivial.stop()
        ours.stop()

    port = free_port()
    config, openapi = pygeoapi_config(work, gpkg, port)
    peer_env = {**env, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    subprocess.run(
        [str(peer_bin / "pygeoapi"), "openapi", "generate", str(config), "--output-file", str(openapi)],
        check=True,
        capture_output=True,
        env=peer_env,
    )
    peer = ChildServer(
        gunicorn_args("pygeoapi.flask_app:APP", port, gunicorn=peer_bin / "gunicorn"),
        port=port,
        cwd=work,
        log=work / "pygeoapi.log",
        env=peer_env,
    )
    try:
        peer.wait_ready(peer_paths[0])
        ids["pygeoapi"], once = feature_ids(peer.port, peer_paths)
        print(f"  pygeoapi: fetched the {QUERIES} queries once in {once:.1f} s", flush=True)
        drive("pygeoapi", peer.port, peer_paths)
    finally:
        peer.stop()

    # Each server's best round stands for it; every error of every round counts.
    results = {name: max(runs, key=lambda r: r["rps"]) for name, runs in rounds.items()}
    errors = {name: sum(r["errors"] for r in runs) for name, runs in rounds.items()}
    ours_wrong = sum(1 for got, want in zip(ids["csmap"], expected, strict=True) if got != want)
    peer_differs = sum(1 for a, b in zip(ids["csmap"], ids["pygeoapi"], strict=True) if a != b)
    peer_rps = results["pygeoapi"]["rps"]
    vs_peer = results["csmap"]["rps"] / peer_rps if peer_rps else float("inf")
    vs_trivial = results["csmap"]["rps"] / results["trivial"]["rps"]
    checks = {
        f"same feature ids as pygeoapi on all {QUERIES} queries": peer_differs == 0,
        f"same feature ids as the GeoPackage on all {QUERIES} queries": ours_wrong == 0,
        f">= {TARGET_VS_PEER:g}x pygeoapi's throughput ({vs_peer:.1f}x)": vs_peer >= TARGET_VS_PEER,
        f">= {TARGET_VS_TRIVIAL:.0%} of the trivial route's throughput ({vs_trivial:.0%})": vs_trivial
        >= TARGET_VS_TRIVIAL,
        f"zero errors ({errors['csmap']} in {len(rounds['csmap'])} rounds)": errors["csmap"] == 0,
    }
    print()
    print(f"{'server':10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'requests':>9}")
    for name in ("trivial", "csmap", "pygeoapi"):
        r = results[name]
        print(
            f"{name:10} {r['rps']:9.1f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {errors[name]:7d} "
            f"{r['requests']:9d}"
        )
    print(
        f"matched features per query: median {statistics.median(len(e) for e in expected):.0f}, "
        f"{sum(len(e) == LIMIT for e in expected)} of {QUERIES} queries fill a page of {LIMIT}"
    )
    for label, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {label}")
    if args.json:
        print(
            json.dumps(
                {
                    "results": results,
                    "rounds": rounds,
                    "vs_pygeoapi": vs_peer,
                    "vs_trivial": vs_trivial,
                    "ids_differ_from_pygeoapi": peer_differs,
                    "ids_wrong": ours_wrong,
                    "checks": checks,
                },
                indent=1,
            )
        )
    shutil.rmtree(work, ignore_errors=True)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
