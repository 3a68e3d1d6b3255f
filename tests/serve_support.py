"""Real servers for tests: ``csmap serve`` (and nginx) as child processes on free loopback ports.

A child is started with :func:`start`, waited on with :func:`wait_healthy` and
stopped by its PID with :func:`stop`; :func:`csmap_serve` does all three around
a ``with`` block. Requests go out on a new connection each (:func:`request`), so
gunicorn may hand them to any worker.
"""

from __future__ import annotations

import http.client
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """Return a TCP port that was free on loopback a moment ago."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def request(
    port: int, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request on a new connection; return (status, lower-cased headers, body)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def csmap_command() -> str:
    """Return the ``csmap`` script installed beside this Python (``make`` installs it)."""
    found = shutil.which("csmap", path=str(Path(sys.executable).parent))
    assert found is not None, "csmap is not installed in this environment (make installs it)"
    return found


def log_tail(log: Path, characters: int = 3000) -> str:
    """The end of a child's log, for an assertion message."""
    return log.read_text(errors="replace")[-characters:] if log.exists() else f"(no log at {log})"


def wait_healthy(port: int, process: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    """Wait until ``/healthz`` on ``port`` answers 200; fail with the log if the child dies or stalls."""
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, log_tail(log)
        try:
            if request(port, "GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, log_tail(log)
        time.sleep(0.2)


def stop(process: subprocess.Popen, timeout: float = 40) -> int | None:
    """SIGTERM the child by its PID, then SIGKILL it if it is still there after ``timeout``."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    return process.returncode


def start(args: list[str], log: Path, env: Mapping[str, str] | None = None) -> subprocess.Popen:
    """Start a child whose output goes to ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=dict(env) if env is not None else None
        )


def serve_args(data_dir: Path, port: int, *options: str) -> list[str]:
    """The ``csmap serve`` command line for ``data_dir`` on ``port``."""
    return [csmap_command(), "serve", "--data-dir", str(data_dir), "--port", str(port), *options]


@contextmanager
def csmap_serve(
    data_dir: Path, log: Path, *options: str, env: Mapping[str, str] | None = None
) -> Iterator[tuple[int, subprocess.Popen]]:
    """Run ``csmap serve`` on a free port until the block ends; yield (port, process)."""
    port = free_port()
    process = start(serve_args(data_dir, port, *options), log, env)
    try:
        wait_healthy(port, process, log)
        yield port, process
    finally:
        stop(process)
