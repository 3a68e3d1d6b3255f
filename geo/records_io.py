"""Record tables on disk: import a CSV into ``inputs/`` with row accounting, export one (docs/RECORDS.md).

The only file-touching module of the records family: it reads a CSV, hands
the rows to the table's pure check (:mod:`geo.coalitions`,
:mod:`geo.communities`, :mod:`geo.partners`), and writes the clean table to
``inputs/<table>.csv`` and the rejects beside it, both atomically.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo import store
from geo.coalitions import import_coalitions
from geo.communities import import_communities
from geo.errors import CsmapError, SchoolDataError
from geo.partners import import_partner_schools, import_partners
from geo.records import RecordImport, read_record_csv
from geo.records_build import RECORD_TABLES, record_file

logger = logging.getLogger(__name__)


def import_table(
    table: str,
    path: str | Path,
    *,
    counties: gpd.GeoDataFrame | None = None,
    partner_ids: Collection[str] | None = None,
    school_ids: Collection[str] | None = None,
) -> RecordImport:
    """Read and check one record table's CSV (no file is written).

    Parameters
    ----------
    table : {"coalitions", "communities", "partners", "partner_schools"}
    path : path
        The CSV.
    counties : GeoDataFrame, optional
        Known counties (``geoid``), to check county FIPS codes.
    partner_ids, school_ids : collection of str, optional
        Known partners and schools, to check ``partner_schools`` links.

    Raises
    ------
    SchoolDataError
        For an unknown table, an unreadable file or a missing column.
    """
    _require_table(table)
    raw = read_record_csv(path, what=table)
    return check_frame(
        table, raw, source=Path(path).name, counties=counties, partner_ids=partner_ids, school_ids=school_ids
    )


def _require_table(table: str) -> None:
    if table not in RECORD_TABLES:
        msg = f"unknown record table {table!r}; expected one of {RECORD_TABLES}"
        raise SchoolDataError(msg)


def check_frame(
    table: str,
    raw: pd.DataFrame,
    *,
    source: str,
    counties: gpd.GeoDataFrame | None = None,
    partner_ids: Collection[str] | None = None,
    school_ids: Collection[str] | None = None,
) -> RecordImport:
    """Check a frame of text columns as the ``table`` record table (what :func:`import_table` does)."""
    _require_table(table)
    if table == "coalitions":
        return import_coalitions(raw, counties=counties, source=source)
    if table == "communities":
        return import_communities(raw, counties=counties, source=source)
    if table == "partners":
        return import_partners(raw, source=source)
    return import_partner_schools(raw, partner_ids=partner_ids, school_ids=school_ids, source=source)


def _write_atomic(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    store.csv_safe(frame).to_csv(tmp, index=False)
    os.replace(tmp, path)


def save_import(root: Path, result: RecordImport) -> tuple[Path, Path | None]:
    """Write an import's clean table to ``inputs/<table>.csv`` (its rejects to ``<table>.rejects.csv``)."""
    folder = Path(root) / "inputs"
    folder.mkdir(parents=True, exist_ok=True)
    table = result.report["table"]
    target = folder / f"{table}.csv"
    _write_atomic(result.table, target)
    rejects = folder / f"{table}.rejects.csv"
    if len(result.rejects):
        _write_atomic(result.rejects, rejects)
        return target, rejects
    rejects.unlink(missing_ok=True)
    return target, None


def export_table(root: Path, table: str) -> pd.DataFrame:
    """Return a record table: the imported one in ``inputs/``, else the current build's (sample) one.

    The inputs/ table is the full one (contacts included); a build's coalitions
    table is the published one, with private contacts blanked.
    """
    _require_table(table)
    path = record_file(root, table)
    if path is not None:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    build = store.current_build_dir(root)
    return store.read_table(build, table)


#: The tables staff edit row by row, and the column that names a row (docs/RECORDS.md).
ROW_KEYS = {"coalitions": "stusps", "communities": "community_id", "partners": "partner_id"}
#: Columns the build computes: never typed in, never saved in inputs/.
COMPUTED_COLUMNS = ("school_count", "lead_count", "geometry")
#: Carried with each row (a sample row stays labelled sample) but never typed in a form.
CARRIED_COLUMNS = ("is_sample",)


def known_for(root: Path, table: str) -> dict[str, Any]:
    """Return what the current build knows to check ``table`` against (nothing without a build)."""
    try:
        build = store.current_build_dir(root)
    except CsmapError:
        return {}
    known: dict[str, Any] = {}
    if table in ("coalitions", "communities"):
        known["counties"] = store.read_table(build, "counties")
    if table == "partner_schools":
        known["school_ids"] = set(store.read_table(build, "schools")["school_id"].astype(str))
        partners = record_file(root, "partners")
        if partners is not None:
            known["partner_ids"] = set(pd.read_csv(partners, dtype=str, keep_default_na=False)["partner_id"])
        else:
            known["partner_ids"] = set(store.read_table(build, "partners")["partner_id"].astype(str))
    return known


def editable_frame(root: Path, table: str) -> pd.DataFrame:
    """Return ``table`` as staff edit it: text columns, without the build's computed ones."""
    frame = export_table(root, table)
    frame = frame.drop(columns=[c for c in COMPUTED_COLUMNS if c in frame.columns])
    text = frame.astype(object).where(frame.notna(), "").astype(str)
    return text.reset_index(drop=True)


def table_version(frame: pd.DataFrame) -> str:
    """Return a short digest of a table's content: a form sends it back to detect a concurrent change."""
    return hashlib.sha256(frame.to_csv(index=False).encode("utf-8")).hexdigest()[:16]


class RecordConflictError(CsmapError):
    """The table changed since the form was opened; nothing was saved."""

    http_status = 409


class RecordRowError(CsmapError):
    """The edited row was refused by the table's checks; nothing was saved."""

    http_status = 400


@dataclass
class RowEdit:
    """What an edit did: the row before (None for a new row), after (None when removed), the report."""

    key: str
    before: dict[str, str] | None
    after: dict[str, str] | None
    report: dict[str, Any]


@contextmanager
def _table_lock(root: Path) -> Iterator[None]:
    """Hold the data folder's record-table lock (one writer at a time, across processes)."""
    folder = Path(root) / "inputs"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".records.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def edit_row(
    root: Path,
    table: str,
    key: str | None,
    values: Mapping[str, str] | None,
    *,
    expected_version: str,
) -> RowEdit:
    """Change, add (``key`` None) or remove (``values`` None) one row of a record table, and save it.

    The whole table, with the row changed, goes through the same checks as an
    import (:func:`check_frame`), and is saved to ``inputs/<table>.csv`` only
    when the edited row passes. Other rows are accounted for as in an import.

    Raises
    ------
    RecordConflictError
        When the table is not at ``expected_version`` (someone saved meanwhile).
    RecordRowError
        When the row is refused (the reason quotes the value), a new key is taken,
        or ``key`` names no row.
    """
    if table not in ROW_KEYS:
        msg = f"the {table} table is edited by import only; rows can be edited in {tuple(ROW_KEYS)}"
        raise RecordRowError(msg)
    key_column = ROW_KEYS[table]
    with _table_lock(root):
        current = editable_frame(root, table)
        if table_version(current) != expected_version:
            msg = f"the {table} table was changed by someone else since you opened it; nothing was saved"
            raise RecordConflictError(msg)
        matches = current.index[current[key_column] == key].tolist() if key is not None else []
        if key is not None and not matches:
            raise RecordRowError(f"no {table} row with {key_column} {key!r}")
        before = current.loc[matches[0]].to_dict() if matches else None
        known = known_for(root, table)
        after: dict[str, str] | None = None
        if values is None:
            raw = current.drop(index=matches[0]).reset_index(drop=True)
        else:
            row = {column: str(values.get(column, "")).strip() for column in current.columns}
            # The row alone first: its reason, and its clean key (a community's may be made from its name).
            alone = check_frame(table, pd.DataFrame([row], columns=current.columns), source=table, **known)
            if len(alone.rejects):
                raise RecordRowError(str(alone.rejects.iloc[0]["reason"]))
            clean = alone.table
            if len(clean) > 1:  # coalitions: every state gets a row; the edited one is its state's
                clean = clean[clean[key_column] == row.get(key_column, "").upper()]
            after = {
                k: "" if pd.isna(v) else str(v) for k, v in clean.iloc[0].items() if k not in COMPUTED_COLUMNS
            }
            new_key = after[key_column]
            others = current.drop(index=matches) if matches else current
            if (others[key_column] == new_key).any():
                raise RecordRowError(f"another {table} row already has {key_column} {new_key!r}")
            raw = current.copy()
            if matches:
                raw.loc[matches[0]] = pd.Series(row)
            else:
                raw = pd.concat([raw, pd.DataFrame([row], columns=current.columns)], ignore_index=True)
        result = check_frame(table, raw, source=f"{table} (staff edit)", **known)
        save_import(root, result)
    name = after[key_column] if after else str(key)
    return RowEdit(key=name, before=before, after=after, report=result.report)
