"""Record tables on disk: import a CSV into ``inputs/`` with row accounting, export one (docs/RECORDS.md).

The only file-touching module of the records family: it reads a CSV, hands
the rows to the table's pure check (:mod:`geo.coalitions`,
:mod:`geo.communities`, :mod:`geo.partners`), and writes the clean table to
``inputs/<table>.csv`` and the rejects beside it, both atomically.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo import store
from geo.coalitions import import_coalitions
from geo.communities import import_communities
from geo.errors import SchoolDataError
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
    if table not in RECORD_TABLES:
        msg = f"unknown record table {table!r}; expected one of {RECORD_TABLES}"
        raise SchoolDataError(msg)
    raw = read_record_csv(path, what=table)
    source = Path(path).name
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
    if table not in RECORD_TABLES:
        msg = f"unknown record table {table!r}; expected one of {RECORD_TABLES}"
        raise SchoolDataError(msg)
    path = record_file(root, table)
    if path is not None:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    build = store.current_build_dir(root)
    return store.read_table(build, table)
