"""The connection edge: /healthz under slow clients and heavy uploads, against an idle baseline.

Run: ``.venv/bin/python scripts/bench/bench_edge.py [--data-dir D] [--seconds 20] [--direct] [--json]``.

* Starts ``csmap serve`` as ``make serve`` runs it (the buffering front, 2 web
  workers x 4 threads, the planner pool) on 127.0.0.1 at a free port.
* A probe opens a new connection for ``GET /healthz`` every 100 ms, as a load
  balancer does, and records its latency; a failure is an error, a timeout
  (2 s) or a status other than 200.
* Phases, each probed for ``--seconds``:

  1. **baseline**: nothing else happens;
  2. **slow clients** (issue #17, point 1): 64 sockets, a third sending their
     headers 1 byte every 2 s, a third sending a POST body 1 byte every 2 s
     after whole headers, a third sending nothing; a socket the server closes
     is opened again (at most 20 times each);
  3. **uploads** (point 2): 8 concurrent what-if uploads of 30,000 candidate
     rows (CSV, 0.7 MB) to ``POST /api/plan``, each sent again when answered.

* Target: /healthz p99 <= 100 ms and 0 failures in phases 2 and 3. Exit 1 if missed.
* ``--direct`` also runs phase 2 against gunicorn alone (no front; what
  ``csmap serve`` ran before), for comparison; it is expected to fail.

Loopback only; every loop is bounded in count and time; servers are stopped by PID.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _server import (
    HOST,
    ChildServer,
    free_port,
    gunicorn_args,
    prepared_data_dir,
    serve_args,
    served_parser,
)

TARGET_P99_MS = 100.0
SLOW_SOCKETS = 64
TRICKLE_SECONDS = 2.0
MAX_RECONNECTS = 20
UPLOADS = 8
UPLOAD_ROWS = 30_000
PROBE_EVERY = 0.1
PROBE_TIMEOUT = 2.0


def probe_healthz(port: int, seconds: float) -> dict[str, Any]:
    """GET /healthz on a new connection every PROBE_EVERY s for ``seconds``; latencies and failures."""
    latencies: list[float] = []
    failures: list[str] = []
    deadline = time.monotonic() + seconds
    for _ in range(int(seconds / PROBE_EVERY) + 1):
        if time.monotonic() >= deadline:
            break
        started = time.perf_counter()
        conn = http.client.HTTPConnection(HOST, port, timeout=PROBE_TIMEOUT)
        try:
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                failures.append(f"status {response.status}")
        except (OSError, http.client.HTTPException) as exc:
            failures.append(type(exc).__name__)
        finally:
            conn.close()
        elapsed = (time.perf_counter() - started) * 1000
        latencies.append(elapsed)
        time.sleep(max(0.0, PROBE_EVERY - elapsed / 1000))
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    return {
        "probes": len(latencies),
        "p50_ms": cuts[49],
        "p99_ms": cuts[98],
        "max_ms": max(latencies, default=float("nan")),
        "failures": len(failures),
        "failure_kinds": sorted(set(failures)),
    }


class SlowClients:
    """SLOW_SOCKETS sockets that trickle headers, trickle a body, or stay silent, in one thread."""

    def __init__(self, port: int, seconds: float) -> None:
        self.port = port
        self.seconds = seconds
        self.reconnects = 0
        self.closed_by_server = 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def _open(self, kind: str) -> tuple[socket.socket, bytes]:
        sock = socket.create_connection((HOST, self.port), timeout=5)
        sock.setblocking(False)
        if kind == "headers":
            pending = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"
        elif kind == "body":
            head = b"POST /api/plan HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/csv\r\n"
            sock.sendall(head + b"Content-Length: 100000\r\n\r\n")
            pending = b"name,lat,lon\r\n" + b"x" * 100000
        else:
            pending = b""
        return sock, pending

    def run(self) -> None:
        """Send one byte per trickling socket every TRICKLE_SECONDS, until the time is up."""
        kinds = [("headers", "body", "silent")[i % 3] for i in range(SLOW_SOCKETS)]
        socks = [self._open(kind) for kind in kinds]
        deadline = time.monotonic() + self.seconds
        for _ in range(int(self.seconds / TRICKLE_SECONDS) + 2):
            if time.monotonic() >= deadline:
                break
            for i, (sock, pending) in enumerate(socks):
                try:
                    sock.recv(4096, socket.MSG_PEEK)  # an answer (408) or the end: the server let go
                    raise ConnectionResetError
                except BlockingIOError:
                    pass  # nothing from the server: still held open, as intended
                except OSError:
                    self.closed_by_server += 1
                    sock.close()
                    if self.reconnects < MAX_RECONNECTS * SLOW_SOCKETS:
                        self.reconnects += 1
                        socks[i] = self._open(kinds[i])
                    continue
                if pending:
                    try:
                        sock.send(pending[:1])
                        socks[i] = (sock, pending[1:])
                    except OSError:
                        pass
            time.sleep(TRICKLE_SECONDS)
        for sock, _ in socks:
            sock.close()


def upload_body(rows: int, seed: int = 17) -> bytes:
    """A what-if candidates CSV: ``rows`` random points in the contiguous states."""
    rng = random.Random(seed)
    lines = ["name,lat,lon"]
    lines += [f"site {i},{rng.uniform(25.5, 48.5):.5f},{rng.uniform(-124, -68):.5f}" for i in range(rows)]
    return ("\r\n".join(lines) + "\r\n").encode()


def uploads(port: int, seconds: float, body: bytes) -> dict[str, Any]:
    """UPLOADS threads POST the what-if upload again and again for ``seconds``; statuses and times."""
    statuses: dict[str, int] = {}
    durations: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        for _ in range(1000):
            if time.monotonic() >= deadline:
                return
            started = time.perf_counter()
            conn = http.client.HTTPConnection(HOST, port, timeout=120)
            try:
                conn.request(
                    "POST", "/api/plan?what_if=true", body=body, headers={"Content-Type": "text/csv"}
                )
                response = conn.getresponse()
                response.read()
                key = str(response.status)
                if response.status in (429, 503):
                    wait = float(response.getheader("Retry-After") or 1)
                    time.sleep(min(wait, max(0.0, deadline - time.monotonic())))
            except (OSError, http.client.HTTPException) as exc:
                key = type(exc).__name__
            finally:
                conn.close()
            with lock:
                statuses[key] = statuses.get(key, 0) + 1
                durations.append(time.perf_counter() - started)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(UPLOADS)]
    for thread in threads:
        thread.start()
    return {"threads": threads, "statuses": statuses, "durations": durations}


def run_phases(port: int, seconds: float, body: bytes, *, heavy: bool = True) -> dict[str, Any]:
    """Probe /healthz idle, under slow clients, and (``heavy``) under uploads."""
    results: dict[str, Any] = {"baseline": probe_healthz(port, min(seconds, 10.0))}
    slow = SlowClients(port, seconds + 1)
    slow.thread.start()
    time.sleep(1.0)  # let every slow socket connect and start
    results["slow_clients"] = probe_healthz(port, seconds)
    slow.thread.join(timeout=seconds + 30)
    results["slow_clients"]["reconnects"] = slow.reconnects
    if heavy:
        load = uploads(port, seconds + 2, body)
        time.sleep(2.0)  # every upload is in flight
        results["uploads"] = probe_healthz(port, seconds)
        for thread in load["threads"]:
            thread.join(timeout=180)
        durations = load["durations"]
        results["uploads"]["upload_statuses"] = load["statuses"]
        results["uploads"]["upload_median_s"] = statistics.median(durations) if durations else None
    return results


def main(argv: list[str] | None = None) -> int:
    parser = served_parser(__doc__.splitlines()[0], 20.0, python_client=False)
    parser.add_argument("--direct", action="store_true", help="also try gunicorn alone (expected to fail)")
    args = parser.parse_args(argv)
    data_dir = prepared_data_dir(args.data_dir)
    body = upload_body(UPLOAD_ROWS)
    results: dict[str, Any] = {"seconds": args.seconds, "upload_bytes": len(body)}
    with tempfile.TemporaryDirectory(prefix="bench-edge-") as folder:
        port = free_port()
        with ChildServer(serve_args(data_dir, port), port=port, log=Path(folder) / "serve.log") as server:
            server.wait_ready(timeout=180.0)
            results["serve"] = run_phases(port, args.seconds, body)
        if args.direct:
            port = free_port()
            env = {"CSMAP_DATA_DIR": str(data_dir), "PATH": str(Path(sys.executable).parent)}
            command = gunicorn_args("webmap:create_app()", port)
            with ChildServer(command, port=port, log=Path(folder) / "direct.log", env=env) as server:
                server.wait_ready(timeout=180.0)
                results["direct"] = run_phases(port, args.seconds, body, heavy=False)

    passed = all(
        results["serve"][phase]["p99_ms"] <= TARGET_P99_MS and results["serve"][phase]["failures"] == 0
        for phase in ("slow_clients", "uploads")
    )
    results["passed"] = passed
    print(
        f"/healthz probed every {PROBE_EVERY * 1000:.0f} ms on new connections for {args.seconds:g} s a phase"
    )
    print(f"{'server / phase':<28}{'probes':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}  failures")
    for server_name in ("serve", "direct"):
        for phase, row in results.get(server_name, {}).items():
            label = f"{server_name} / {phase}"
            print(
                f"{label:<28}{row['probes']:>7}{row['p50_ms']:>9.1f}{row['p99_ms']:>9.1f}"
                f"{row['max_ms']:>9.1f}  {row['failures']} {row['failure_kinds'] or ''}"
            )
    uploads_row = results["serve"]["uploads"]
    print(
        f"uploads: {UPLOADS} concurrent what-ifs of {UPLOAD_ROWS:,} rows ({len(body) / 1e6:.2f} MB): "
        f"statuses {uploads_row['upload_statuses']}, median {uploads_row['upload_median_s'] or 0:.1f} s"
    )
    reopened = results["serve"]["slow_clients"]["reconnects"]
    print(f"slow clients: {SLOW_SOCKETS} sockets, reopened {reopened} times after the server let go")
    print(
        f"target: /healthz p99 <= {TARGET_P99_MS:.0f} ms and 0 failures under slow clients and uploads: "
        f"{'PASS' if passed else 'FAIL'}"
    )
    if args.json:
        print(json.dumps(results, indent=1))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
