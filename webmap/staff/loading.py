"""The loader, run for staff: a dry run of an uploaded list, and the check of one edited school.

Both go through the very functions ``csmap load`` uses
(:func:`geo.schools.read_school_file` and :func:`geo.schools.prepare_schools`),
offline, so the page shows exactly what a publish would load. No Flask here.
"""

from __future__ import annotations

import ast
import logging
import re
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from geo.errors import CsmapError
from webmap.staff.fields import field_names
from webmap.staff.records import fields_from_schools

logger = logging.getLogger(__name__)

#: Flagged rows and rejects shown in the page; the counts always cover every row.
SHOW_ROWS = 500
ALLOWED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".geojson", ".json", ".gpkg")

_references: dict[str, Any] = {}
_references_lock = threading.Lock()
_warming: set[str] = set()


def reference_for(root: Path):  # noqa: ANN201  (geo.reference.Reference)
    """Return the reference layers of the data folder ``root``, read once per process."""
    from geo.build import _reference_cache, load_reference

    # Keyed by the cache file's name, which encodes the source-package versions: every data folder
    # with the same versions has the same layers, so a process reads them once.
    key = _reference_cache(root).name
    with _references_lock:
        if key not in _references:
            _references[key] = load_reference(root)
        return _references[key]


def warm_in_background(root: Path) -> None:
    """Start reading the reference layers in a thread, so a staff user's first check or publish is quick."""
    from geo.build import _reference_cache

    key = _reference_cache(root).name
    with _references_lock:
        if key in _references or key in _warming:
            return
        _warming.add(key)

    def read() -> None:
        try:
            reference_for(root)
        except Exception as exc:  # the first real use reports it
            logger.warning("could not read the reference layers ahead of time: %s", exc)

    threading.Thread(target=read, name="csmap-reference-warm", daemon=True).start()


@dataclass
class DryRun:
    """What a list would load: the report, rejects, flagged rows, the mapping, the records."""

    report: dict[str, Any] = field(default_factory=dict)
    rejects: list[dict[str, str]] = field(default_factory=list)
    flagged: list[dict[str, str]] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    error: str = ""
    rows: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """Return everything but the records, for the upload's stored report."""
        from geo.store import json_safe

        return json_safe(
            {
                "report": self.report,
                "rejects": self.rejects,
                "flagged": self.flagged,
                "headers": self.headers,
                "columns": self.columns,
                "error": self.error,
            }
        )


def _headers_from_message(message: str) -> list[str]:
    """Return the headers a loader error lists ("headers found: [...]"), for the mapping form."""
    match = re.search(r"headers found: (\[.*?\])", message)
    if not match:
        return []
    try:
        found = ast.literal_eval(match.group(1))
    except (ValueError, SyntaxError):
        return []
    return [str(h) for h in found] if isinstance(found, list) else []


def dry_run(content: bytes, filename: str, columns: dict[str, str], root: Path) -> DryRun:
    """Read and check an uploaded list offline, changing nothing.

    Parameters
    ----------
    content : bytes
        The file as uploaded.
    filename : str
        Its name; the suffix helps tell the format.
    columns : dict
        ``{field: header}`` corrections to the column mapping (may be empty).
    root : Path
        The data folder (its reference layers are used).
    """
    from geo.schools import prepare_schools, read_school_file

    suffix = Path(filename).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        suffix = ".csv"
    result = DryRun(columns=dict(columns))
    with tempfile.TemporaryDirectory(prefix="csmap-upload-") as folder:
        path = Path(folder) / f"{Path(filename).stem or 'upload'}{suffix}"
        path.write_bytes(content)
        try:
            raw = read_school_file(path, columns=columns or None)
        except CsmapError as exc:
            result.error = str(exc).replace(str(path), filename)
            result.headers = _headers_from_message(str(exc))
            return result
        result.headers = [str(c) for c in raw.columns if c != "source_row"]
        try:
            loaded = prepare_schools(raw, reference_for(root))
        except CsmapError as exc:
            result.error = str(exc)
            return result
    report = dict(loaded.report)
    report["read"] = str(report.get("read", filename)).replace(path.name, filename)
    result.report = report
    result.columns = dict(report.get("columns", {}))
    rejects = loaded.rejects
    result.rejects = [
        {"row": str(r["source_row"]), "reason": str(r["reason"])}
        for r in rejects[["source_row", "reason"]].head(SHOW_ROWS).to_dict("records")
    ]
    schools = loaded.schools
    noted = schools[schools["geocode_note"].notna()]
    result.flagged = [
        {"row": str(r["source_rows"]).split(";")[0], "name": str(r["name"]), "note": str(r["geocode_note"])}
        for r in noted[["source_rows", "name", "geocode_note"]].head(SHOW_ROWS).to_dict("records")
    ]
    result.rows = fields_from_schools(schools)
    return result


@dataclass
class SchoolCheck:
    """One school as the loader would load it: normalized fields, where it lands, notes, or why not."""

    values: dict[str, str]
    reject: str = ""
    notes: str = ""
    placed: dict[str, Any] = field(default_factory=dict)
    school_id: str = ""


def check_school(values: dict[str, str], root: Path) -> SchoolCheck:
    """Validate one school's fields as the loader would, offline."""
    from geo.schools import prepare_schools

    names = field_names()
    raw = pd.DataFrame({name: [str(values.get(name, "") or "").strip()] for name in names}, dtype="str")
    raw["source_row"] = [2]
    try:
        loaded = prepare_schools(raw, reference_for(root), columns={name: name for name in names})
    except CsmapError as exc:
        return SchoolCheck(values=dict(values), reject=str(exc))
    if len(loaded.rejects):
        return SchoolCheck(values=dict(values), reject=str(loaded.rejects["reason"].iloc[0]))
    school_id, normalized = fields_from_schools(loaded.schools)[0]
    row = loaded.schools.iloc[0]
    placed = {
        "lat": float(row["lat"]),
        "lon": float(row["lon"]),
        "precision": str(row["precision"]),
        "method": str(row["geocode_method"]),
    }
    note = row["geocode_note"]
    return SchoolCheck(
        values=normalized,
        notes="" if pd.isna(note) else str(note),
        placed=placed,
        school_id=school_id,
    )
