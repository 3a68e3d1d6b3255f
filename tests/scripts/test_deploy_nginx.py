"""docs/DEPLOY.md's nginx configuration, run as written in front of two ``csmap serve`` replicas.

The configuration is read from the ```nginx block of docs/DEPLOY.md; only the
replica and listen ports change. nginx runs as a non-daemon child on loopback
ports with its files in a temporary folder, and is stopped by its PID.
Skipped, with the reason shown, when nginx is not installed, except in CI
(``CI=true``), where ``.ci/run`` installs it and a skip would hide a failure.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.serve_support import free_port, request, serve_args, start, stop, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "docs" / "DEPLOY.md"
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)

if NGINX is None:
    if os.environ.get("CI") == "true":
        pytest.fail("nginx is missing in CI: .ci/run must install it (apt-get install nginx)", pytrace=False)
    pytest.skip(
        "nginx is not installed (apt-get install nginx, or make deploy-deps)", allow_module_level=True
    )


def deploy_config() -> str:
    """Return the ```nginx block of docs/DEPLOY.md."""
    blocks = re.findall(r"```nginx\n(.*?)```", DEPLOY.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, "docs/DEPLOY.md must hold exactly one nginx block"
    return blocks[0]


def nginx_conf(block: str, folder: Path, port: int, replicas: list[int]) -> str:
    """Wrap the conf.d block in a whole nginx.conf with its files under ``folder``."""
    for number, replica in enumerate(replicas, start=1):
        old = f"server 127.0.0.1:800{number} "
        assert block.count(old) == 1, old
        block = block.replace(old, f"server 127.0.0.1:{replica} ")
    assert block.count("listen 80;") == 1
    block = block.replace("listen 80;", f"listen 127.0.0.1:{port};")
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root (CI), nginx's workers would run as nobody, who cannot enter pytest's private folders.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""daemon off;
{user}worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 512; }}
http {{
    access_log {folder / "access.log"};
{temp}
{block}
}}
"""


@contextmanager
def run_deployment(
    data_dir: Path, folder: Path, env: dict[str, str], port: int | None = None
) -> Iterator[tuple[int, list[int], list[subprocess.Popen], list[Path]]]:
    """nginx (docs/DEPLOY.md's block) on ``port`` in front of two ``csmap serve`` replicas of ``data_dir``.

    Yields (nginx port, replica ports, replica processes, replica logs). Everything
    is stopped at the end, all at once, so the replicas drain in parallel.
    """
    port = port or free_port()
    replicas = [free_port(), free_port()]
    processes: list[subprocess.Popen] = []
    logs: list[Path] = []
    nginx = None
    try:
        for number, replica in enumerate(replicas):
            log = folder / f"replica{number}.log"
            logs.append(log)
            options = ("--workers", "1", "--threads", "4", "--planner-workers", "1")
            processes.append(start(serve_args(data_dir, replica, *options), log, env))
        for replica, process, log in zip(replicas, processes, logs, strict=True):
            wait_healthy(replica, process, log)
        conf = folder / "nginx.conf"
        conf.write_text(nginx_conf(deploy_config(), folder, port, replicas))
        error_log = str(folder / "error.log")
        check = subprocess.run([NGINX, "-t", "-c", str(conf), "-e", error_log], capture_output=True)
        assert check.returncode == 0, check.stderr.decode()
        nginx = subprocess.Popen(
            [NGINX, "-c", str(conf), "-e", error_log], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        wait_healthy(port, nginx, folder / "error.log", timeout=20)
        yield port, replicas, processes, logs
    finally:
        for process in [nginx, *processes]:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [nginx, *processes]:
            if process is not None:
                stop(process)


@pytest.fixture(scope="module")
def deployment(built_data_dir, tmp_path_factory):
    """nginx on a free port in front of two replicas; yields (nginx port, replica processes, logs)."""
    folder = tmp_path_factory.mktemp("deploy")
    env = dict(os.environ, CSMAP_BASE_URL="https://schools.example.org")
    with run_deployment(built_data_dir, folder, env) as (port, _, processes, logs):
        yield port, processes, logs


def test_nginx_serves_both_replicas_with_the_app_headers(deployment):
    port, _, logs = deployment
    for _ in range(12):
        status, headers, _ = request(port, "GET", "/api/states")
        assert status == 200
    assert headers["server"] == "nginx"  # no version, no gunicorn
    assert headers["access-control-allow-origin"] == "*"
    assert headers["cross-origin-resource-policy"] == "cross-origin"
    for log in logs:  # round robin: each replica answered some
        assert "GET /api/states" in log.read_text(errors="replace"), log


def test_gzip_and_a_forged_host(deployment):
    port, _, _ = deployment
    status, headers, body = request(
        port, "GET", "/ogcapi/collections", headers={"Accept-Encoding": "gzip", "Host": "evil.example"}
    )
    assert status == 200 and headers.get("content-encoding") == "gzip"
    import gzip

    text = gzip.decompress(body).decode()
    assert "evil.example" not in text and "https://schools.example.org/ogcapi" in text


def test_body_limits_answer_413(deployment):
    port, _, _ = deployment
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
    port, _, _ = deployment
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


def test_a_replica_down_loses_no_get(deployment):
    """Runs last: it stops replica 0; nginx sends its share to replica 1."""
    port, processes, _ = deployment
    stop(processes[0])
    statuses = [request(port, "GET", path)[0] for path in ["/healthz", "/api/states"] * 10]
    assert statuses == [200] * 20
