"""``csmap load`` and ``csmap sample``: make a file the school list, or write the labelled sample.

``csmap load FILE`` reads FILE first, so a file that cannot be read (or of
which no row can be placed) never replaces the active list. Only then is it
copied into ``inputs/schools<suffix>`` of the data folder (atomically) and
the data rebuilt. ``csmap load --sample`` removes the active list, so the
build goes back to the generated sample. docs/SCHOOLS.md is the user's guide.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import click

from geo import build, store
from geo.errors import CsmapError
from geo.sample import SAMPLE_CANADA, SAMPLE_SEED, SAMPLE_SIZE, generate_sample, sample_coalitions
from geo.schools import FIELDS, LoadResult, prepare_schools, read_school_file
from scripts.cmd_staff import record_load_in_database
from scripts.common import data_dir_option, progress_printer, resolve_data_dir

#: Where ``--column`` mappings of the active list are kept, so later builds read it the same way.
COLUMNS_FILE = "schools.columns.json"
#: Remembers the loaded file's original name, for the manifest and the pages.
ORIGIN_FILE = "schools.origin.json"


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


def _target_suffix(path: Path, source: str) -> str:
    suffix = path.suffix.lower()
    if suffix in build.SCHOOL_SUFFIXES:
        return suffix
    if "CSV" in source:
        return ".csv"
    if "XLSX" in source:
        return ".xlsx"
    msg = f"{path.name}: save the list as CSV, XLSX, GeoJSON or GeoPackage to load it"
    raise click.ClickException(msg)


def _active_inputs(inputs: Path) -> list[Path]:
    return [
        inputs / f"schools{suffix}"
        for suffix in build.SCHOOL_SUFFIXES
        if (inputs / f"schools{suffix}").exists()
    ]


def _install(file: Path, inputs: Path, suffix: str, columns: dict[str, str]) -> None:
    """Copy ``file`` in as the active list (atomic rename), then drop lists of other formats."""
    target = inputs / f"schools{suffix}"
    tmp = inputs / f".schools-{os.getpid()}{suffix}.tmp"
    shutil.copyfile(file, tmp)
    os.replace(tmp, target)
    for other in _active_inputs(inputs):
        if other != target:
            other.unlink()
    origin = inputs / f".{ORIGIN_FILE}.{os.getpid()}.tmp"
    origin.write_text(json.dumps({"file": file.name}), encoding="utf-8")
    os.replace(origin, inputs / ORIGIN_FILE)
    mapping_file = inputs / COLUMNS_FILE
    if columns:
        tmp_map = inputs / f".{COLUMNS_FILE}.{os.getpid()}.tmp"
        tmp_map.write_text(json.dumps(columns, indent=1), encoding="utf-8")
        os.replace(tmp_map, mapping_file)
    else:
        mapping_file.unlink(missing_ok=True)


def _backup(inputs: Path) -> dict[Path, bytes]:
    return {
        path: path.read_bytes()
        for path in [*_active_inputs(inputs), inputs / COLUMNS_FILE, inputs / ORIGIN_FILE]
        if path.exists()
    }


def _restore(inputs: Path, saved: dict[Path, bytes]) -> None:
    for path in [*_active_inputs(inputs), inputs / COLUMNS_FILE, inputs / ORIGIN_FILE]:
        path.unlink(missing_ok=True)
    for path, data in saved.items():
        tmp = path.with_name(f".{path.name}.{os.getpid()}.restore")
        tmp.write_bytes(data)
        os.replace(tmp, path)


def _why_nothing_loaded(result: LoadResult, file: Path) -> str:
    reasons = Counter(result.rejects["reason"].astype(str))
    top = "; ".join(f"{count} x {reason}" for reason, count in reasons.most_common(3))
    return f"no row of {file.name} could be loaded ({result.report['rows']} rows rejected: {top})"


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
    if report.get("rejected") and report.get("rejects_file"):
        lines.append(f"rejected rows and reasons: {report['rejects_file']}")
    lines.extend(f"warning: {warning}" for warning in report.get("warnings", []))
    return lines


@click.command("load")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--sample", "use_sample", is_flag=True, help="Remove the loaded list and go back to the sample."
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
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
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
    be read or no row loads; then the active list is left as it was.
    """
    if (file is None) == (not use_sample):
        raise click.UsageError("give a FILE to load, or --sample to go back to the sample (not both)")
    columns = parse_columns(column)
    root = resolve_data_dir(data_dir)
    progress = progress_printer(not as_json)
    inputs = store.inputs_dir(root)
    saved = _backup(inputs)
    if use_sample:
        if columns:
            raise click.UsageError("--column applies to a FILE, not to --sample")
        _restore(inputs, {})
        progress("school list removed: building from the generated sample")
    else:
        assert file is not None  # a FILE or --sample, checked above
        try:
            raw = read_school_file(file, columns=columns or None)
            # A dry run offline, before the active list is touched: a file of
            # which no row can be placed must not replace the list.
            progress(
                f"read {len(raw):,} rows from {raw.attrs.get('source', file.name)}; checking them offline"
            )
            check = prepare_schools(raw, build.load_reference(root, progress))
        except CsmapError as exc:
            raise click.ClickException(str(exc)) from exc
        if check.report["loaded"] == 0 and online is None:
            raise click.ClickException(_why_nothing_loaded(check, file))
        _install(file, inputs, _target_suffix(file, raw.attrs.get("source", "")), columns)
    try:
        summary = build.run_build(root, force=True, online=online, columns=columns or None, progress=progress)
    except CsmapError as exc:
        _restore(inputs, saved)
        raise click.ClickException(f"{exc}; the school list was left as it was") from exc
    report = dict(summary.load_report)
    if file is not None and report.get("loaded", 0) == 0:  # a FILE, not --sample
        # Only possible with --online (the offline check passed otherwise): put the old list back.
        _restore(inputs, saved)
        build.run_build(root, force=True, progress=progress)
        raise click.ClickException(f"no row of {file.name} could be loaded; the previous school list is back")
    # The staff workspace keeps the school list in its database (docs/STAFF.md): keep it in step.
    staff_note = record_load_in_database(root, summary.build_dir)
    if staff_note:
        progress(staff_note)
    if as_json:
        keys = (
            "rows",
            "loaded",
            "merged",
            "rejected",
            "rejects_file",
            "by_precision",
            "by_method",
            "notes",
            "duplicate_groups",
            "warnings",
            "source",
            "is_sample",
        )
        document = {key: report.get(key) for key in keys} | {"build_dir": str(summary.build_dir)}
        click.echo(json.dumps(store.json_safe(document)))
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
