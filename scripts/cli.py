"""The ``csmap`` command: one click group, one subcommand per task."""

from __future__ import annotations

import logging

import click

from scripts.cmd_build import build_command
from scripts.cmd_load import load_command, sample_command
from scripts.cmd_metrics import metrics_command
from scripts.cmd_plan import plan_command
from scripts.cmd_records import records_command
from scripts.cmd_serve import serve_command
from scripts.cmd_staff import db_group, user_group


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
def cli(verbose: int, quiet: bool) -> None:
    """Community Schools Map: build the data, compute gaps, plan, and serve.

    The data folder is data/build/ unless CSMAP_DATA_DIR says otherwise.
    """
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # pyogrio logs every layer it writes at INFO; that is noise next to our progress lines.
    logging.getLogger("pyogrio").setLevel(max(level, logging.WARNING))


cli.add_command(build_command)
cli.add_command(serve_command)
cli.add_command(metrics_command)
cli.add_command(plan_command)
cli.add_command(load_command)
cli.add_command(sample_command)
cli.add_command(db_group)
cli.add_command(user_group)
cli.add_command(records_command)
