"""``csmap serve``: run the web app under gunicorn (never Flask's debug server)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click

from geo import store
from geo.errors import CsmapError
from scripts.common import data_dir_option, resolve_data_dir


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
    help="Threads per worker (above 1: gunicorn's gthread workers, not stalled by idle connections).",
)
def serve_command(data_dir: Path | None, host: str, port: int, workers: int, threads: int) -> None:
    """Serve the maps, downloads and API at http://HOST:PORT with gunicorn.

    Browsers open connections ahead of need and keep them open between requests.
    A sync worker (--threads 1) waits on such an idle connection and serves
    nothing else meanwhile: the national page's map data once waited 170 ms for a
    worker. gunicorn's gthread workers (--threads above 1) park connections kept
    alive between requests, and a fresh idle one holds only one thread; with no
    proxy in front, give the pool more threads than a few browsers' spare
    connections.
    """
    root = resolve_data_dir(data_dir)
    try:
        build = store.current_build_dir(root)
    except CsmapError as exc:
        raise click.ClickException(str(exc)) from exc
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or shutil.which("gunicorn")
    if gunicorn is None:
        raise click.ClickException("gunicorn is not installed; run 'make serve' to bootstrap the environment")
    # CSMAP_WARM: the app serves its landing page once before gunicorn forks (webmap/warm.py);
    # CSMAP_LOG_LEVEL: its own log lines go to stderr beside gunicorn's.
    env = dict(os.environ, CSMAP_DATA_DIR=str(root), CSMAP_WARM="1")
    env.setdefault("CSMAP_LOG_LEVEL", "INFO")
    click.echo(f"serving build {build.name} at http://{host}:{port}/ with {workers} workers", err=True)
    args = [
        gunicorn,
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--access-logfile",
        "-",
        "--preload",
        "webmap:create_app()",
    ]
    os.execve(gunicorn, args, env)
