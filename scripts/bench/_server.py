"""Shared bits of the served benchmarks: a server in a child process, on loopback only.

The API, OGC API and page benchmarks each measure the app as ``make serve`` runs it:
gunicorn, 2 workers, ``--preload``, in a process of its own, so the load generator
or browser driver never shares an interpreter (or its GIL) with the server.
"""

from __future__ import annotations

import argparse
import http.client
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
#: ``csmap serve`` and ``make serve`` defaults.
WORKERS = 2
THREADS = 4


def free_port() -> int:
    """Return a TCP port that was free on loopback a moment ago."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def get(port: int, path: str, connection: http.client.HTTPConnection | None = None) -> tuple[int, bytes]:
    """GET a path on loopback; return (status, body). A given connection is kept open."""
    conn = connection or http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if connection is None:
            conn.close()


def venv_tool(name: str) -> str:
    """Return the path of a console script installed beside this Python (or on PATH)."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not installed in this environment; run 'make' to bootstrap .venv")
    return found


def ensure_build(data_dir: Path) -> None:
    """Build the data folder when it has no build yet (as ``make serve`` does)."""
    from geo import store
    from geo.errors import NoBuildError

    try:
        store.current_build_dir(data_dir)
    except NoBuildError:
        from geo.build import run_build

        print(f"no build in {data_dir}: building it first", flush=True)
        run_build(data_dir, progress=lambda line: print(f"  build: {line}", flush=True))


def served_parser(description: str, seconds: float, *, python_client: bool = True) -> argparse.ArgumentParser:
    """The options every served benchmark takes: --data-dir, --seconds, --json (and --python-client)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data-dir", type=Path, default=None, help="data folder (default: as csmap)")
    parser.add_argument("--seconds", type=float, default=seconds, help="load time per run")
    if python_client:
        parser.add_argument(
            "--python-client", action="store_true", help="use the Python client even if wrk exists"
        )
    parser.add_argument("--json", action="store_true", help="print the results as JSON at the end")
    return parser


def prepared_data_dir(given: Path | None) -> Path:
    """Return the data folder to serve (``--data-dir``, else csmap's), built first if it has no build."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from geo import store

    data_dir = store.data_dir(given)
    ensure_build(data_dir)
    return data_dir


def serve_args(data_dir: Path, port: int) -> list[str]:
    """``csmap serve`` as ``make serve`` runs it (SIGTERM to its PID stops the front and both pools)."""
    return [venv_tool("csmap"), "serve", "--data-dir", str(data_dir), "--host", HOST, "--port", str(port)] + [
        "--workers",
        str(WORKERS),
        "--threads",
        str(THREADS),
    ]


def gunicorn_args(
    app: str,
    port: int,
    *,
    workers: int = WORKERS,
    threads: int = THREADS,
    gunicorn: str | Path | None = None,
) -> list[str]:
    """Return the gunicorn command line ``csmap serve`` uses, for another app spec.

    ``gunicorn`` is the executable to run (default: the one beside this Python).
    """
    return [
        str(gunicorn) if gunicorn is not None else venv_tool("gunicorn"),
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--preload",
        "--timeout",
        "120",
        "--log-level",
        "warning",
        app,
    ]


class ChildServer:
    """A server command in a child process, stopped by its PID (SIGTERM, then SIGKILL)."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        port: int,
        log: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path = ROOT,
    ) -> None:
        self.port = port
        self.url = f"http://{HOST}:{port}"
        self.log = log.open("wb")
        self.process = subprocess.Popen(
            list(args), stdout=self.log, stderr=subprocess.STDOUT, cwd=cwd, env=dict(env) if env else None
        )

    def wait_ready(self, path: str = "/healthz", timeout: float = 120.0) -> None:
        """Wait until ``path`` answers 200; raise if the server exits or the time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                msg = f"server exited with status {self.process.returncode}; see {self.log.name}"
                raise RuntimeError(msg)
            try:
                if get(self.port, path)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not ready after {timeout:.0f} s; see {self.log.name}")

    def stop(self) -> None:
        """Stop the server (gunicorn: a graceful stop of the master and its workers)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()

    def __enter__(self) -> ChildServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def python_load(
    port: int, paths: Sequence[str], seconds: float, *, connections: int, stride: int = 1, timeout: float = 10
) -> dict[str, float | int]:
    """A closed-loop load from Python threads, for when Debian's ``wrk`` is missing.

    ``connections`` threads each keep one connection alive and cycle ``paths`` for
    ``seconds``, thread k starting at path ``k * stride``. Returns requests, rps,
    p50_ms and p99_ms of the answered requests, non_2xx (statuses outside 200-399)
    and socket_errors (a broken connection is reopened and not timed).
    """
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    counts = {"non_2xx": 0, "socket_errors": 0}
    lock = threading.Lock()

    def worker(offset: int) -> None:
        mine, bad, broken, i = [], 0, 0, offset
        conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        while time.monotonic() < deadline:
            path = paths[i % len(paths)]
            i += 1
            started = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if response.will_close:
                    conn.close()
                if not 200 <= response.status < 400:
                    bad += 1
            except (OSError, http.client.HTTPException):
                broken += 1
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
                continue
            mine.append((time.perf_counter() - started) * 1000)
        conn.close()
        with lock:
            latencies.extend(mine)
            counts["non_2xx"] += bad
            counts["socket_errors"] += broken

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(k * stride,)) for k in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": cuts[49],
        "p99_ms": cuts[98],
        **counts,
    }
