"""``csmap records``: import and export the movement's record tables (docs/RECORDS.md).

``csmap records import TABLE FILE`` checks a CSV the Coalition keeps (state
coalitions, Coalition Communities, partners, partner–school links), accounts
for every row (loaded, merged as a duplicate, or rejected with a reason),
makes the clean table the build input ``inputs/TABLE.csv`` and rebuilds.
``csmap records export TABLE`` writes a table as CSV.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from geo import store
from geo.errors import CsmapError
from geo.records_build import RECORD_TABLES
from geo.records_io import export_table, import_table, known_for, save_import
from scripts.common import data_dir_option, progress_printer, resolve_data_dir

logger = logging.getLogger(__name__)


@click.group("records")
def records_command() -> None:
    """Import and export the record tables: coalitions, communities, partners, partner_schools."""


@records_command.command("import")
@data_dir_option
@click.argument("table", type=click.Choice(RECORD_TABLES))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and report only; change nothing.")
@click.option("--no-build", is_flag=True, help="Save the table but do not rebuild.")
@click.option("--json", "as_json", is_flag=True, help="Print the row accounting as JSON.")
def import_command(
    data_dir: Path | None, table: str, file: Path, dry_run: bool, no_build: bool, as_json: bool
) -> None:
    """Check FILE as the TABLE record table, save it as a build input and rebuild."""
    root = resolve_data_dir(data_dir)
    try:
        result = import_table(table, file, **known_for(root, table))
    except CsmapError as exc:
        raise click.ClickException(str(exc)) from exc
    report = dict(result.report)
    if not dry_run:
        saved, rejects = save_import(root, result)
        report["saved"] = str(saved)
        report["rejects_file"] = str(rejects) if rejects else None
    if as_json:
        click.echo(json.dumps(report, indent=1))
    else:
        click.echo(
            f"{table}: {report['rows']} rows: {report['loaded']} loaded, {report['merged']} merged as "
            f"duplicates, {report['rejected']} rejected"
        )
        for reason, count in report["reasons"].items():
            click.echo(f"  rejected {count}x: {reason}")
        if report.get("rejects_file"):
            click.echo(f"rejected rows with their reasons: {report['rejects_file']}")
    if dry_run or no_build:
        return
    from geo.build import run_build

    try:
        run_build(root, progress=progress_printer(not as_json))
    except CsmapError as exc:
        raise click.ClickException(str(exc)) from exc


@records_command.command("export")
@data_dir_option
@click.argument("table", type=click.Choice(RECORD_TABLES))
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="CSV file (default: stdout).",
)
def export_command(data_dir: Path | None, table: str, out_file: Path | None) -> None:
    """Write the TABLE record table as CSV: the imported one, else the current build's."""
    try:
        frame = export_table(resolve_data_dir(data_dir), table)
    except CsmapError as exc:
        raise click.ClickException(str(exc)) from exc
    frame = store.csv_safe(frame.drop(columns="geometry", errors="ignore"))
    if out_file is None:
        frame.to_csv(sys.stdout, index=False)
    else:
        frame.to_csv(out_file, index=False)
        click.echo(f"wrote {len(frame)} rows to {out_file}", err=True)
