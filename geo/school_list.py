"""The school list a build is made from, kept inside that build's folder.

Each build stores the list it used in ``builds/<id>/inputs/``: the file's
bytes exactly as loaded (``schools<suffix>``) and ``school_list.json`` (the
original file name, the suffix, the ``--column`` mappings and a SHA-256).
A build of the sample stores ``{"sample": true}`` only.

The list in force is the one the published build (``current``) used. A new
list therefore becomes active in the very step that publishes its build
(``geo.store.new_build``): a ``csmap load`` that is killed, interrupted or
fails leaves the previous build and its list in force, and the next plain
``csmap build`` rebuilds from that list (issue 11).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from geo import store
from geo.errors import NoBuildError, SchoolDataError
from geo.school_files import read_list_bytes, read_school_bytes

logger = logging.getLogger(__name__)

#: Formats a list is stored as (its suffix in the build folder).
SCHOOL_SUFFIXES = (".csv", ".xlsx", ".geojson", ".json", ".gpkg")
#: Folder of a build holding the list it used, and the description of that list.
LIST_FOLDER = "inputs"
LIST_META = "school_list.json"
#: Where versions before issue 11 kept the active list (``DATA_DIR/inputs``), read for their builds.
LEGACY_COLUMNS = "schools.columns.json"
LEGACY_ORIGIN = "schools.origin.json"


@dataclass(eq=False)
class SchoolList:
    """A school list to build from: the file's bytes, its name and its column mappings.

    Attributes
    ----------
    data : bytes
        The file's content, stored unchanged in the build.
    name : str
        The original file name (shown in the manifest, the pages and the report).
    suffix : str
        One of :data:`SCHOOL_SUFFIXES`: how the list is stored.
    columns : dict
        ``{field: header}`` mappings given with ``--column``.
    frame : DataFrame, optional
        The list already read (``csmap load`` reads the file once); read
        from ``data`` when None.
    """

    data: bytes
    name: str
    suffix: str
    columns: dict[str, str] = field(default_factory=dict)
    frame: pd.DataFrame | None = field(default=None, repr=False)

    @cached_property
    def digest(self) -> str:
        """The SHA-256 of the file's bytes (hex)."""
        return hashlib.sha256(self.data).hexdigest()

    def read(self) -> pd.DataFrame:
        """Return the list as read by :func:`geo.school_files.read_school_bytes`."""
        if self.frame is None:
            self.frame = read_school_bytes(self.data, self.name, columns=self.columns or None)
        return self.frame

    def describe(self) -> dict[str, Any]:
        """Return the document kept as ``school_list.json`` in the build."""
        return {
            "sample": False,
            "file": self.name,
            "suffix": self.suffix,
            "columns": dict(self.columns),
            "sha256": self.digest,
            "bytes": len(self.data),
        }


def load_school_list(path: str | Path, *, columns: Mapping[str, str] | None = None) -> SchoolList:
    """Read a school list file once: its bytes, checked by reading them as a table.

    Raises
    ------
    SchoolDataError
        When the file cannot be read (see :func:`geo.school_files.read_school_bytes`).
    """
    path = Path(path)
    data = read_list_bytes(path)
    frame = read_school_bytes(data, str(path), columns=columns)
    suffix = list_suffix(path.name, frame.attrs.get("source", ""))
    return SchoolList(data=data, name=path.name, suffix=suffix, columns=dict(columns or {}), frame=frame)


def list_suffix(name: str, source: str) -> str:
    """Return the suffix a list is stored with: its own, else the format it was read as."""
    suffix = Path(name).suffix.lower()
    if suffix in SCHOOL_SUFFIXES:
        return suffix
    if "(CSV" in source:
        return ".csv"
    if "(XLSX" in source:
        return ".xlsx"
    msg = f"{name}: save the list as CSV, XLSX, GeoJSON or GeoPackage to load it"
    raise SchoolDataError(msg)


def build_school_list(build: Path) -> SchoolList | None | bool:
    """Return the list a build used, None for the sample, or False when the build does not say.

    Builds made before issue 11 do not record their list (False).
    """
    meta_path = build / LIST_FOLDER / LIST_META
    if not meta_path.is_file():
        return False
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("sample"):
        return None
    data = (build / LIST_FOLDER / f"schools{meta['suffix']}").read_bytes()
    return SchoolList(data=data, name=meta["file"], suffix=meta["suffix"], columns=meta.get("columns") or {})


def active_school_list(root: Path) -> SchoolList | None:
    """Return the list in force: the one the current build used; None for the sample.

    With no build yet, or a current build from before issue 11, the list
    older versions installed in ``root/inputs`` (if any) is used.
    """
    try:
        current = store.current_build_dir(root)
    except NoBuildError:
        current = None
    if current is not None:
        used = build_school_list(current)
        if used is None or isinstance(used, SchoolList):
            return used
    return _legacy_school_list(root)


def _legacy_school_list(root: Path) -> SchoolList | None:
    folder = root / "inputs"
    for suffix in SCHOOL_SUFFIXES:
        path = folder / f"schools{suffix}"
        if path.is_file():
            columns_file, origin_file = folder / LEGACY_COLUMNS, folder / LEGACY_ORIGIN
            columns = json.loads(columns_file.read_text(encoding="utf-8")) if columns_file.is_file() else {}
            origin = origin_file.is_file() and json.loads(origin_file.read_text(encoding="utf-8")).get("file")
            logger.info("using the school list %s installed by an older version", path)
            name = origin or path.name
            return SchoolList(data=path.read_bytes(), name=name, suffix=suffix, columns=columns)
    return None
