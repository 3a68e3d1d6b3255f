"""Shared bits of the served benchmarks: a server in a child process, on loopback only.

The API, OGC API and page benchmarks each measure the app as ``make serve`` runs it:
gunicorn, 2 workers, ``--preload``, in a process of its own, so the load generator
or browser driver never shares an interpreter (or its GIL) with the server.
"""

from __future__ import annotations

import http.client
import shutil
import signal
import socket
import subprocess
import sys
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
