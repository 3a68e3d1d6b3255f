"""``csmap serve``: gunicorn behind a request-buffering front (never Flask's debug server).

The process layout (docs/DEPLOY.md):

* the front (:mod:`scripts.buffering_proxy`, this process) listens on HOST:PORT,
  reads each request whole within its timeouts and limits, and relays it;
* the ``web`` gunicorn pool (``--workers`` × ``--threads``) serves everything but
  the planner, on a private Unix socket;
* the ``planner`` gunicorn pool (``--planner-workers``) serves ``/api/plan``,
  ``/plan`` and ``/plan.*``, whose uploads can keep a CPU busy for seconds, on a
  second socket; so a burst of plans never shares a process, nor its GIL, with
  ``/healthz`` or the maps.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

from geo import store
from geo.errors import CsmapError
from scripts.buffering_proxy import Front, Limits
from scripts.common import data_dir_option, resolve_data_dir

logger = logging.getLogger(__name__)

#: Threads of the planner pool's worker: the app runs PLAN_CONCURRENCY plans at once
#: (webmap/heavy.py) and lets the others wait their turn on these threads.
PLANNER_THREADS = 8
#: Largest body of the planner's routes: webmap.plan.MAX_UPLOAD_BYTES (5 MiB), refused by
#: the front itself (scripts.buffering_proxy.Front's ``body_limits`` says why).
PLANNER_MAX_BODY = 5 * 1024 * 1024
#: Niceness of the planner pool: plans yield the CPU to the front and the web pool.
PLANNER_NICENESS = 10
#: prctl(2) option: the signal a child gets when its parent dies.
PR_SET_PDEATHSIG = 1
#: gunicorn's default access-log line, with the client address the front forwards
#: (gunicorn sees only its Unix socket).
ACCESS_LOG_FORMAT = '%({x-forwarded-for}i)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'
#: Seconds to wait for both gunicorn pools to listen (the build loads before the fork).
START_TIMEOUT = 180.0


def default_base_url(host: str, port: int) -> str:
    """Return ``http://HOST:PORT/`` for the bind address (IPv6 in brackets)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def gunicorn_command(
    gunicorn: str, socket_path: Path, *, workers: int, threads: int, access_log: bool = True
) -> list[str]:
    """Return the command line of one gunicorn pool listening on a Unix socket."""
    args = [gunicorn, "--bind", f"unix:{socket_path}", "--workers", str(workers), "--threads", str(threads)]
    # gunicorn 27's control socket has one default path per user: two pools (or two
    # replicas) would take it from each other, and nothing here uses it.
    args.append("--no-control-socket")
    if access_log:
        args += ["--access-logfile", "-", "--access-logformat", ACCESS_LOG_FORMAT]
    return [*args, "--preload", "webmap:create_app()"]


@click.command("serve")
@data_dir_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to bind.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="gunicorn workers.")
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Threads per web worker (gunicorn gthread workers).",
)
@click.option(
    "--planner-workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 16),
    help="gunicorn workers of the planner pool (/api/plan, /plan, /plan.*).",
)
@click.option(
    "--base-url",
    envvar="CSMAP_BASE_URL",
    default=None,
    help="Public base URL for links, OpenAPI servers and redirects [default: http://HOST:PORT].",
)
def serve_command(
    data_dir: Path | None,
    host: str,
    port: int,
    workers: int,
    threads: int,
    planner_workers: int,
    base_url: str | None,
) -> None:
    """Serve the maps, downloads and API at http://HOST:PORT.

    A buffering front reads each request whole before gunicorn sees it, so slow
    or silent clients hold no worker; the planner has a gunicorn pool of its own.
    Browsers keep connections open between requests: the web pool's gthread
    workers park them, and the front holds any number of them cheaply.
    """
    root = resolve_data_dir(data_dir)
    try:
        build = store.current_build_dir(root)
    except CsmapError as exc:
        raise click.ClickException(str(exc)) from exc
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or shutil.which("gunicorn")
    if gunicorn is None:
        raise click.ClickException("gunicorn is not installed; run 'make serve' to bootstrap the environment")
    base_url = (base_url or default_base_url(host, port)).rstrip("/")
    # CSMAP_WARM: the web pool serves its landing page once before gunicorn forks (webmap/warm.py);
    # CSMAP_LOG_LEVEL: the app's own log lines go to stderr beside gunicorn's;
    # CSMAP_BASE_URL: links and redirects name this origin, never the request's Host.
    env = dict(os.environ, CSMAP_DATA_DIR=str(root), CSMAP_BASE_URL=base_url)
    env.setdefault("CSMAP_LOG_LEVEL", "INFO")
    sockets = Path(tempfile.mkdtemp(prefix="csmap-serve-"))
    pools: dict[str, subprocess.Popen] = {}
    try:
        paths = {"web": sockets / "web.sock", "planner": sockets / "planner.sock"}
        pools["web"] = subprocess.Popen(
            gunicorn_command(gunicorn, paths["web"], workers=workers, threads=threads),
            env=dict(env, CSMAP_WARM="1"),
            preexec_fn=functools.partial(_die_with_front, os.getpid()),
        )
        pools["planner"] = subprocess.Popen(
            gunicorn_command(gunicorn, paths["planner"], workers=planner_workers, threads=PLANNER_THREADS),
            env=dict(env, CSMAP_WARM="0"),
            preexec_fn=functools.partial(_planner_child, os.getpid()),
        )
        _wait_listening(paths, pools)
        click.echo(
            f"serving build {build.name} at http://{host}:{port}/ ({base_url}) with {workers} web workers "
            f"and {planner_workers} planner worker(s) behind the buffering front",
            err=True,
        )
        code = asyncio.run(_run_front(host, port, {k: str(v) for k, v in paths.items()}, pools))
    finally:
        _stop(pools)
        shutil.rmtree(sockets, ignore_errors=True)
    if code:
        raise SystemExit(code)


def _die_with_front(front: int) -> None:
    """Run in a pool's child before exec: end with SIGTERM when the front process dies.

    The front stops its pools on a clean exit; this covers the rest (SIGKILL, a crash), where
    a pool would otherwise live on as an orphan holding its memory. Linux only (prctl).
    """
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != front:  # the front (PID ``front``) died before prctl took effect
        os._exit(1)


def _planner_child(front: int) -> None:
    """Run in the planner pool's child before exec: end with the front, at a lower CPU priority."""
    _die_with_front(front)
    os.nice(PLANNER_NICENESS)


def _wait_listening(paths: dict[str, Path], pools: dict[str, subprocess.Popen]) -> None:
    """Wait until every pool accepts connections on its socket; fail if one exits first."""
    deadline = time.monotonic() + START_TIMEOUT
    waiting = dict(paths)
    while waiting:
        for name, path in list(waiting.items()):
            if pools[name].poll() is not None:
                raise click.ClickException(f"the {name} gunicorn pool exited with {pools[name].returncode}")
            with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as probe:
                probe.connect(str(path))
                del waiting[name]
        if time.monotonic() > deadline:
            raise click.ClickException(f"gunicorn did not start within {START_TIMEOUT:.0f} s")
        time.sleep(0.1)


async def _run_front(
    host: str, port: int, upstreams: dict[str, str], pools: dict[str, subprocess.Popen]
) -> int:
    """Run the front until SIGTERM or SIGINT (0) or until a gunicorn pool exits (1)."""
    front = Front(upstreams, Limits(), body_limits={"planner": PLANNER_MAX_BODY})
    await front.start(host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    code = 0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
        dead = [name for name, proc in pools.items() if proc.poll() is not None]
        if dead:
            logger.error("the %s gunicorn pool exited; stopping", ", ".join(dead))
            code = 1
            break
    if front.server is not None:
        front.server.close()
    return code


def _stop(pools: dict[str, subprocess.Popen]) -> None:
    """Stop the gunicorn pools by PID: SIGTERM (graceful), then SIGKILL after 20 s."""
    for proc in pools.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in pools.values():
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
