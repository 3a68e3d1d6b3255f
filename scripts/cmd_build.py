"""``csmap build``: build the data folder from the reference packages and the school list."""

from __future__ import annotations

import json
from pathlib import Path

import click

from geo import store
from geo.build import run_build
from geo.errors import CsmapError
from scripts.common import data_dir_option, progress_printer, resolve_data_dir


@click.command("build")
@data_dir_option
@click.option("--force", is_flag=True, help="Rebuild even when the inputs are unchanged.")
@click.option("--if-missing", is_flag=True, help="Build only when the data folder has no build yet.")
@click.option(
    "--online",
    type=click.Choice(["census", "nominatim"]),
    default=None,
    help="Use an online geocoder for rows the offline chain cannot place at street precision.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the build manifest as JSON.")
def build_command(
    data_dir: Path | None, force: bool, if_missing: bool, online: str | None, as_json: bool
) -> None:
    """Build states, counties, ZCTAs, schools, coalitions and metrics into the data folder.

    With no school list loaded (csmap load FILE), the labelled sample is used.
    """
    root = resolve_data_dir(data_dir)
    if if_missing:
        try:
            current = store.current_build_dir(root)
        except CsmapError:
            current = None
        if current is not None:
            click.echo(f"build present: {current}", err=True)
            return
    try:
        summary = run_build(root, force=force, online=online, progress=progress_printer(not as_json))
    except CsmapError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(store.json_safe(summary.manifest), indent=1))
        return
    state = "up to date" if summary.skipped else "built"
    click.echo(f"{state}: {summary.build_dir} ({summary.seconds:.1f} s)")
    counts = summary.manifest.get("row_counts", {})
    if counts:
        click.echo("rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    if summary.manifest.get("is_sample"):
        click.echo("note: the schools are the generated SAMPLE, not the real list (csmap load FILE).")
