"""docs/DEPLOY.md's nginx configuration, run as written in front of two ``csmap serve`` replicas.

The configuration is read from the ```nginx block of docs/DEPLOY.md; only the
replica and listen ports change. nginx runs as a non-daemon child on loopback
ports with its files in a temporary folder, and is stopped by its PID. The deployment
(tests/scripts/conftest.py's ``deployment``) is shared with test_deploy_replicas.py,
which also holds the test of a replica going down (it runs last there).
Skipped, with the reason shown, when nginx is not installed, except in CI
(``CI=true``), where ``.ci/run`` installs it and a skip would hide a failure.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import time

import pytest

from tests.scripts.deploy_support import find_nginx
from tests.serve_support import request

if find_nginx() is None:
    if os.environ.get("CI") == "true":
        pytest.fail("nginx is missing in CI: .ci/run must install it (apt-get install nginx)", pytrace=False)
    pytest.skip(
        "nginx is not installed (apt-get install nginx, or make deploy-deps)", allow_module_level=True
    )


def test_nginx_serves_both_replicas_with_the_app_headers(deployment):
    port, logs = deployment.port, deployment.logs
    for _ in range(12):
        status, headers, _ = request(port, "GET", "/api/states")
        assert status == 200
    assert headers["server"] == "nginx"  # no version, no gunicorn
    assert headers["access-control-allow-origin"] == "*"
    assert headers["cross-origin-resource-policy"] == "cross-origin"
    for log in logs:  # round robin: each replica answered some
        assert "GET /api/states" in log.read_text(errors="replace"), log


def test_gzip_and_a_forged_host(deployment):
    port = deployment.port
    status, headers, body = request(
        port, "GET", "/ogcapi/collections", headers={"Accept-Encoding": "gzip", "Host": "evil.example"}
    )
    assert status == 200 and headers.get("content-encoding") == "gzip"
    import gzip

    text = gzip.decompress(body).decode()
    # Links name the configured public origin (CSMAP_BASE_URL), never the request's Host.
    assert deployment.env["CSMAP_BASE_URL"] == f"http://127.0.0.1:{port}"
    assert "evil.example" not in text and f"http://127.0.0.1:{port}/ogcapi" in text


def test_body_limits_answer_413(deployment):
    port = deployment.port
    big = b"name,lat,lon\r\n" + b"x" * (6 * 1024 * 1024)
    status, _, _ = request(port, "POST", "/api/plan?what_if=true", big, {"Content-Type": "text/csv"})
    assert status == 413  # the planner's 5m
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        chunks = iter([b"y" * (1024 * 1024)] * 6)
        conn.request(
            "POST", "/plan.csv", body=chunks, headers={"Content-Type": "text/csv"}, encode_chunked=True
        )
        assert conn.getresponse().status == 413
    finally:
        conn.close()
    small = b"name,lat,lon\r\na,30.27,-97.74\r\n"
    status, _, body = request(port, "POST", "/api/plan?what_if=true", small, {"Content-Type": "text/csv"})
    assert status == 200 and len(json.loads(body)["picks"]) == 1


def test_slow_clients_do_not_stall_nginx_or_the_replicas(deployment):
    port = deployment.port
    slow = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(32)]
    try:
        for sock in slow[:16]:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: a")
        for _ in range(5):
            started = time.monotonic()
            assert request(port, "GET", "/healthz")[0] == 200
            assert time.monotonic() - started < 2.0
            for sock in slow[:16]:
                sock.sendall(b"a")
            time.sleep(0.3)
    finally:
        for sock in slow:
            sock.close()
