"""csmap serve, end to end: gunicorn with two worker processes, as ``make serve`` runs it."""

from __future__ import annotations

import http.client
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    """One request on a new connection (so gunicorn may hand it to either worker)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def served(built_data_dir, tmp_path_factory):
    csmap = shutil.which("csmap", path=str(Path(sys.executable).parent))
    if csmap is None:
        pytest.fail("csmap is not installed in this environment (make installs it)")
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [csmap, "serve", "--data-dir", str(built_data_dir), "--port", str(port), "--workers", "2"],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                assert process.poll() is None, log.read_text()
                try:
                    if get(port, "/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            yield port, log
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def test_every_worker_serves_what_the_national_page_links(served):
    port, log = served
    status, _, body = get(port, "/")
    assert status == 200
    links = re.findall(r'(?:src|href)="(/(?:assets|static)/[^"]+)"', body.decode("utf-8"))
    assert any(link.startswith("/assets/") for link in links)
    # Twenty new connections per file: both workers answer some of them.
    for link in links:
        statuses = {get(port, link)[0] for _ in range(20)}
        assert statuses == {200}, (link, statuses)


def test_landing_page_is_warmed_before_the_workers_fork(served):
    port, log = served
    text = log.read_text(errors="replace")
    assert re.search(r"warmed \{'/': 200, '/map/states.geojson': 200, '/map/schools.json': 200\}", text), text
    assert "Running on" not in text  # never werkzeug's development server
    status, headers, _ = get(port, "/")
    assert status == 200 and headers["Server"].startswith("gunicorn")


def test_idle_browser_connections_do_not_block_the_workers(served):
    """Chrome opens a connection or two ahead of need. With two sync workers, two idle sockets
    held both workers until gunicorn's timeout; threaded workers keep serving."""
    port, _ = served
    idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2)]
    try:
        time.sleep(0.3)  # let the workers accept them
        started = time.monotonic()
        status, _, _ = get(port, "/healthz")
        assert status == 200
        assert time.monotonic() - started < 2.0
    finally:
        for sock in idle:
            sock.close()
