"""csmap serve, end to end: the buffering front, the web pool (two workers) and the planner pool."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import sys
import time
from pathlib import Path

import pytest

from tests.serve_support import csmap_serve, request


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    """One request on a new connection (so gunicorn may hand it to either worker)."""
    return request(port, "GET", path)


@pytest.fixture
def served(served_sample):
    """(port, log) of the session's ``csmap serve`` over its build (tests/conftest.py), which
    also checks that it stops cleanly. Other tests send it requests too: read only what
    the log gained after your request."""
    return served_sample


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
    assert status == 200 and "server" not in headers  # gunicorn's is dropped by the front


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


def test_slow_and_silent_sockets_do_not_stall_the_service(served):
    """Issue #17: 8 sockets trickling their headers stopped every request; 32 silent ones stalled
    the service for 14.7 s. The front holds them while gunicorn serves others."""
    port, _ = served
    trickling = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(16)]
    silent = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(16)]
    body_trickling = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(16)]
    try:
        for sock in trickling:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: a")
        for sock in body_trickling:
            sock.sendall(b"POST /api/plan HTTP/1.1\r\nHost: localhost\r\nContent-Length: 9999\r\n\r\nname")
        for _ in range(5):  # bounded: five probes, a byte more from each slow socket between them
            started = time.monotonic()
            status, _, body = get(port, "/healthz")
            assert status == 200, body
            assert time.monotonic() - started < 2.0
            for sock in trickling + body_trickling:
                sock.sendall(b"a")
            time.sleep(0.5)
    finally:
        for sock in trickling + silent + body_trickling:
            sock.close()


def test_the_front_answers_edge_errors_itself(served):
    port, _ = served
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 40_000 + b"\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 431 ")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head = b"POST /api/plan HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n"
        sock.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 400 ")  # both framings: a smuggling attempt


def test_a_chunked_upload_over_the_limit_answers_413(served):
    """Issue #17: a 66,000-row chunked upload was cut at 5 MiB and answered 200 with 62,415 rows."""
    port, _ = served
    row = b"candidate site %05d on the east side of the river by the old mill road,30.123456,-97.123456\r\n"
    rows = [b"name,lat,lon\r\n"] + [row % i for i in range(66_000)]
    assert sum(map(len, rows)) > 5 * 1024 * 1024  # webmap.plan.MAX_UPLOAD_BYTES
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(
            "POST",
            "/api/plan?what_if=true",
            body=iter([b"".join(rows[i : i + 1000]) for i in range(0, len(rows), 1000)]),
            headers={"Content-Type": "text/csv", "Transfer-Encoding": "chunked"},
            encode_chunked=True,
        )
        response = conn.getresponse()
        assert response.status == 413, response.read()[:300]
    finally:
        conn.close()


def test_the_planner_has_its_own_pool_and_answers_cors_free_posts(served):
    port, log = served
    before = log.stat().st_size  # the shared server's log may already hold such a line
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        body = b"name,lat,lon\r\na,30.27,-97.74\r\nb,29.76,-95.37\r\n"
        conn.request("POST", "/api/plan?what_if=true", body=body, headers={"Content-Type": "text/csv"})
        response = conn.getresponse()
        document = json.loads(response.read())
        assert response.status == 200 and len(document["picks"]) == 2
        assert "Access-Control-Allow-Origin" not in dict(response.getheaders())
    finally:
        conn.close()
    # gunicorn writes the access line after the answer: wait for it (bounded, 10 s).
    pattern = re.compile(r'^127\.0\.0\.1 .*"POST /api/plan\?what_if=true HTTP/1\.0" 200', re.M)
    deadline = time.monotonic() + 10
    text = log.read_bytes()[before:].decode(errors="replace")
    while not pattern.search(text) and time.monotonic() < deadline:
        time.sleep(0.2)
        text = log.read_bytes()[before:].decode(errors="replace")
    whole = log.read_text(errors="replace")
    assert "planner.sock" in whole and "web.sock" in whole
    assert pattern.search(text), text[-2000:]


def _children(pid: int) -> list[int]:
    """PIDs whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(sys.platform != "linux", reason="the pools end with the front through prctl (Linux)")
def test_the_pools_end_when_the_front_is_killed(built_data_dir, tmp_path):
    # A front that dies without stopping its pools (SIGKILL, a crash) used to leave them running
    # as orphans; each now gets SIGTERM from the kernel when the front goes (PR_SET_PDEATHSIG).
    with csmap_serve(built_data_dir, tmp_path / "server.log", "--workers", "1") as (_, front):
        pools = _children(front.pid)
        assert len(pools) == 2 and all(_running(pid) for pid in pools)
        front.kill()
        front.wait(timeout=10)
    deadline = time.monotonic() + 40  # gunicorn's graceful stop of its own workers
    while any(_running(pid) for pid in pools) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [pid for pid in pools if _running(pid)]
    for pid in left:  # leave no orphan behind when this fails
        os.kill(pid, signal.SIGTERM)
    assert not left
