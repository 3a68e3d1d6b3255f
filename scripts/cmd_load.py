"""``csmap load`` and ``csmap sample``: make a file the school list, or write the labelled sample.

``csmap load FILE`` reads FILE once, then builds from it. The build keeps the
list in its own folder, and a new list comes into force only when its build
is published (``geo.school_list``): a file that cannot be read, of which no
row can be placed, or whose build fails or is killed (SIGKILL, Ctrl-C)
leaves the published build and its list in force. ``csmap load --sample``
builds from the generated sample. With ``--json`` the command prints one
JSON object on stdout, on success and on failure. docs/SCHOOLS.md is the
user's guide.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from geo import build, store
from geo.errors import CsmapError
from geo.sample import SAMPLE_CANADA, SAMPLE_SEED, SAMPLE_SIZE, generate_sample, sample_coalitions
from geo.school_list import load_school_list
from geo.schools import FIELDS
from scripts.cmd_staff import record_load_in_database
from scripts.common import data_dir_option, progress_printer, resolve_data_dir

#: The keys of ``csmap load --json`` (docs/SCHOOLS.md, "The load report").
JSON_KEYS = (
    "rows",
    "loaded",
    "merged",
    "rejected",
    "rejects_file",
    "by_precision",
    "by_method",
    "duplicate_groups",
    "duplicates",
    "flagged_rows",
    "flagged",
    "notes",
    "warnings",
    "columns",
    "blank_rows_skipped",
    "read",
    "online",
    "source",
    "is_sample",
)
#: Exit code after Ctrl-C (128 + SIGINT, as shells report it).
INTERRUPTED = 130
#: Flagged rows shown in the plain summary (all are in load_report.json and --json).
SHOWN_FLAGS = 10


def parse_columns(values: tuple[str, ...]) -> dict[str, str]:
    """Return ``{field: header}`` from ``FIELD=HEADER`` strings (raises ``click.BadParameter``)."""
    mapping: dict[str, str] = {}
    for value in values:
        field, sep, header = value.partition("=")
        if not sep or not field.strip() or not header.strip():
            msg = f"{value!r} is not FIELD=HEADER (e.g. name=Campus); fields: {', '.join(FIELDS)}"
            raise click.BadParameter(msg, param_hint="--column")
        mapping[field.strip()] = header.strip()
    return mapping


def summary_lines(report: dict[str, Any]) -> list[str]:
    """Return the human-readable load summary."""
    lines = [
        f"rows read: {report['rows']:,}  loaded: {report['loaded']:,}  "
        f"merged duplicates: {report['merged']:,}  "
        f"rejected: {report['rejected']:,}",
        "precision: "
        + ", ".join(f"{name} {count:,}" for name, count in report.get("by_precision", {}).items()),
    ]
    notes = {k: v for k, v in report.get("notes", {}).items() if v}
    if notes:
        lines.append(
            "notes: " + ", ".join(f"{name.replace('_', ' ')} {count:,}" for name, count in notes.items())
        )
    flagged = report.get("flagged") or []
    if flagged:
        total = report.get("flagged_rows", len(flagged))
        more = f" (the first {SHOWN_FLAGS}; all in load_report.json)" if total > SHOWN_FLAGS else ""
        lines.append(f"flagged rows: {total:,}{more}")
        lines.extend(f"  row {f['row']}: {f['name']}: {f['note']}" for f in flagged[:SHOWN_FLAGS])
    if report.get("rejected") and report.get("rejects_file"):
        lines.append(f"rejected rows and reasons: {report['rejects_file']}")
    lines.extend(f"warning: {warning}" for warning in report.get("warnings", []))
    return lines


def _json_error(message: str, file: Any, code: int) -> None:
    document = {"error": message, "file": None if file is None else str(file), "exit": code}
    click.echo(json.dumps(document, ensure_ascii=False))


def _file_argument(args: list[str]) -> str | None:
    """Return the FILE among raw arguments (skipping the values of options that take one)."""
    takes_value = {"--column", "--online", "--data-dir"}
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in takes_value:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


class JsonLoadCommand(click.Command):
    """``csmap load``: with ``--json``, every failure is one JSON object on stdout too.

    Click reports usage errors itself, before the command runs; this class
    catches them (and the command's own failures) when ``--json`` was given
    and prints ``{"error", "file", "exit"}`` instead, keeping the exit code.
    """

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        """Parse the arguments; with ``--json``, a usage error becomes a JSON object."""
        wants_json = "--json" in args
        try:
            return super().make_context(info_name, list(args), parent=parent, **extra)
        except click.ClickException as exc:
            if not wants_json:
                raise
            _json_error(exc.format_message(), _file_argument(args), exc.exit_code)
            raise click.exceptions.Exit(exc.exit_code) from exc

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; with ``--json``, a failure becomes a JSON object."""
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            if not ctx.params.get("as_json"):
                raise
            _json_error(exc.format_message(), ctx.params.get("file"), exc.exit_code)
            raise click.exceptions.Exit(exc.exit_code) from exc
        except (KeyboardInterrupt, click.Abort) as exc:
            message = "interrupted; the published build and school list are unchanged"
            if ctx.params.get("as_json"):
                _json_error(message, ctx.params.get("file"), INTERRUPTED)
            else:
                click.echo(f"Error: {message}", err=True)
            raise click.exceptions.Exit(INTERRUPTED) from exc


@click.command("load", cls=JsonLoadCommand)
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--sample", "use_sample", is_flag=True, help="Build from the generated sample instead of a list."
)
@click.option(
    "--column",
    "column",
    multiple=True,
    metavar="FIELD=HEADER",
    help="Map a header the synonyms miss to a field (repeatable), e.g. --column name=Campus.",
)
@click.option(
    "--online",
    type=click.Choice(["census", "nominatim"]),
    default=None,
    help="Also geocode street addresses online (off by default).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary (or the error) as one JSON object.")
@data_dir_option
def load_command(
    file: Path | None,
    use_sample: bool,
    column: tuple[str, ...],
    online: str | None,
    as_json: bool,
    data_dir: Path | None,
) -> None:
    """Make FILE (CSV, XLSX, GeoJSON, GeoPackage) the school list and rebuild the data.

    Every row is loaded, merged into a duplicate, or rejected with a reason
    (written to rejects.csv). The exit code is non-zero only when FILE cannot
    be read, no row loads or the build fails; then the published build and
    its school list are left as they were.
    """
    if (file is None) == (not use_sample):
        raise click.UsageError("give a FILE to load, or --sample to go back to the sample (not both)")
    columns = parse_columns(column)
    if use_sample and columns:
        raise click.UsageError("--column applies to a FILE, not to --sample")
    root = resolve_data_dir(data_dir)
    progress = progress_printer(not as_json)
    try:
        if use_sample:
            school_list = None
            progress("building from the generated sample")
        else:
            assert file is not None  # a FILE or --sample, checked above
            school_list = load_school_list(file, columns=columns or None)
            raw = school_list.read()
            progress(f"read {len(raw):,} rows from {raw.attrs.get('source', file.name)}")
        summary = build.run_build(root, force=True, online=online, schools=school_list, progress=progress)
    except CsmapError as exc:
        what = "the published build and school list are unchanged"
        message = str(exc) if "unchanged" in str(exc) else f"{exc}; {what}"
        raise click.ClickException(message) from exc
    except OSError as exc:  # the data folder itself: read-only, full, missing permissions
        raise click.ClickException(build.write_failure_message(root, exc)) from exc
    report = dict(summary.load_report)
    # The staff workspace keeps the school list in its database (docs/STAFF.md): keep it in step.
    staff_note = record_load_in_database(root, summary.build_dir)
    if staff_note:
        progress(staff_note)
    if as_json:
        document = {key: report.get(key) for key in JSON_KEYS if key in report or key != "online"}
        click.echo(json.dumps(store.json_safe(document | {"build_dir": str(summary.build_dir)})))
        return
    what = "the generated SAMPLE" if report.get("is_sample") else f"{file.name if file else 'the list'}"
    click.echo(f"school list: {what} -> {summary.build_dir}")
    for line in summary_lines(report):
        click.echo(line)


@click.command("sample")
@click.option(
    "--n", "n", type=click.IntRange(min=1), default=SAMPLE_SIZE, show_default=True, help="Number of schools."
)
@click.option("--seed", type=int, default=SAMPLE_SEED, show_default=True, help="Seed of the random draw.")
@click.option(
    "--canada",
    type=click.IntRange(min=0),
    default=SAMPLE_CANADA,
    show_default=True,
    help="Schools in Canadian cities (at most half of --n).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="CSV to write (default: standard output).",
)
@click.option(
    "--coalitions",
    "coalitions_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the sample coalitions table (CSV) here.",
)
@data_dir_option
def sample_command(
    n: int, seed: int, canada: int, out: Path | None, coalitions_out: Path | None, data_dir: Path | None
) -> None:
    """Write the deterministic, labelled sample school list as CSV (is_sample = true on every row)."""
    root = resolve_data_dir(data_dir)
    progress = progress_printer(out is not None)
    try:
        reference = build.load_reference(root, progress)
        table = generate_sample(reference, n=n, seed=seed, canada=canada)
        coalitions = (
            sample_coalitions(reference.states, reference.counties, seed=seed) if coalitions_out else None
        )
    except CsmapError as exc:
        raise click.ClickException(str(exc)) from exc
    if out is None:
        table.to_csv(sys.stdout, index=False)
    else:
        _write_csv_atomically(table, out)
        progress(f"wrote {len(table):,} sample schools to {out}")
    if coalitions is not None and coalitions_out is not None:
        _write_csv_atomically(coalitions, coalitions_out)
        progress(f"wrote the sample coalitions table ({len(coalitions)} rows) to {coalitions_out}")


def _write_csv_atomically(table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    table.to_csv(tmp, index=False)
    os.replace(tmp, path)
