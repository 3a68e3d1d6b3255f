"""Helpers shared by the ``csmap`` subcommands: the data-folder option and progress."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import click

from geo import store

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data folder (default: $CSMAP_DATA_DIR, else data/build/).",
)


def resolve_data_dir(path: Path | None) -> Path:
    """Return the data folder the command works on."""
    return store.data_dir(path)


def progress_printer(enabled: bool = True) -> Callable[[str], None]:
    """Return a callback that prints timestamped progress lines to stderr."""
    started = time.perf_counter()

    def report(message: str) -> None:
        if enabled:
            click.echo(f"[{time.perf_counter() - started:6.1f}s] {message}", err=True)
            sys.stderr.flush()

    return report
