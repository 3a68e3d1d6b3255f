"""docs/DEPLOY.md's deployment for tests: nginx (its ```nginx block) in front of two ``csmap serve`` replicas.

One deployment serves both test_deploy_nginx.py and test_deploy_replicas.py
(tests/scripts/conftest.py's ``deployment``): booting it (two replicas of two
gunicorn pools, each loading the national sample before it forks) is most of
what those tests cost, so it is done once per test process, not once per module.
The replicas share one data folder (the session build, hard-linked) and, when
PostgreSQL is reachable, one PostgreSQL database; otherwise they use the data
folder's SQLite file and the replica tests skip (fail under CI).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.serve_support import free_port, request, serve_args, start, stop, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "docs" / "DEPLOY.md"
#: What each replica runs with: one web worker, four threads, one planner worker.
REPLICA_OPTIONS = ("--workers", "1", "--threads", "4", "--planner-workers", "1")


def find_nginx() -> str | None:
    """Return the nginx executable (on PATH, or Debian's /usr/sbin), or None when it is not installed."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


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


@dataclass
class Deployment:
    """A running deployment: nginx's port, the replicas' ports, processes and logs, what they serve."""

    port: int
    replica_ports: list[int]
    processes: list[subprocess.Popen]
    logs: list[Path]
    data_dir: Path
    env: Mapping[str, str]
    database_url: str | None = None
    #: Why the replicas have no PostgreSQL database (None when they have one).
    no_postgres: str | None = None
    nginx: subprocess.Popen | None = field(default=None, repr=False)

    def restart_stopped_replicas(self, timeout: float = 30) -> None:
        """Start again any replica a test stopped (same port, data and log), and wait until nginx uses it.

        nginx leaves a failed replica out for its ``fail_timeout`` (docs/DEPLOY.md), so a replica
        that answers its own port may still get nothing through nginx for a few seconds: a test
        that counts on both replicas (round robin) would then fail, depending on the order of tests.
        """
        for number, process in enumerate(self.processes):
            if process.poll() is None:
                continue
            port, log = self.replica_ports[number], self.logs[number]
            args = serve_args(self.data_dir, port, *REPLICA_OPTIONS)
            self.processes[number] = start(args, log, self.env)
            wait_healthy(port, self.processes[number], log)
            answered = log.stat().st_size
            deadline = time.monotonic() + timeout
            while log.stat().st_size == answered:  # its access log grows once nginx sends it one
                assert time.monotonic() < deadline, f"nginx sent nothing to the restarted replica {number}"
                request(self.port, "GET", "/healthz")
                time.sleep(0.2)


@contextmanager
def run_deployment(
    nginx: str, data_dir: Path, folder: Path, env: Mapping[str, str], port: int | None = None
) -> Iterator[Deployment]:
    """nginx (docs/DEPLOY.md's block) on ``port`` in front of two ``csmap serve`` replicas of ``data_dir``.

    Everything is stopped at the end, all at once, so the replicas drain in parallel.
    """
    port = port or free_port()
    replicas = [free_port(), free_port()]
    deployment = Deployment(port, replicas, [], [], data_dir, dict(env))
    try:
        for number, replica in enumerate(replicas):
            log = folder / f"replica{number}.log"
            deployment.logs.append(log)
            deployment.processes.append(start(serve_args(data_dir, replica, *REPLICA_OPTIONS), log, env))
        for replica, process, log in zip(replicas, deployment.processes, deployment.logs, strict=True):
            wait_healthy(replica, process, log)
        conf = folder / "nginx.conf"
        conf.write_text(nginx_conf(deploy_config(), folder, port, replicas))
        error_log = str(folder / "error.log")
        check = subprocess.run([nginx, "-t", "-c", str(conf), "-e", error_log], capture_output=True)
        assert check.returncode == 0, check.stderr.decode()
        deployment.nginx = subprocess.Popen(
            [nginx, "-c", str(conf), "-e", error_log], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        wait_healthy(port, deployment.nginx, folder / "error.log", timeout=20)
        yield deployment
    finally:
        everything = [deployment.nginx, *deployment.processes]
        for process in everything:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in everything:
            if process is not None:
                stop(process)
