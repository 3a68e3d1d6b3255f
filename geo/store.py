"""The data folder: builds, the GeoPackage, the manifest, with atomic writes.

Layout (docs/SCHEMA.md)::

    DATA_DIR/current -> builds/<id>    swapped atomically when a build completes
    DATA_DIR/builds/<id>/csmap.gpkg    the embedded database
    DATA_DIR/builds/<id>/manifest.json
    DATA_DIR/builds/<id>/inputs/       the school list that build used
    DATA_DIR/inputs/                   the coalitions table (and lists of older versions)
    DATA_DIR/cache/                    reference-layer and geocoder caches

A build is assembled in ``builds/.tmp-<id>/`` (which names its owner
process); only a complete build is renamed into place and pointed to by
``current``. A failed or killed build never changes what ``current`` points
to, and the next build removes its temporary folder once its owner is gone.
Each build keeps the school list it was built from (``builds/<id>/inputs/``),
so the list in force is always the one of the published build. This module is the only one in
``geo/`` that writes files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import math
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from geo.crs import WGS84, require_crs
from geo.errors import NoBuildError

logger = logging.getLogger(__name__)

DATA_DIR_ENV = "CSMAP_DATA_DIR"
GPKG_NAME = "csmap.gpkg"
MANIFEST_NAME = "manifest.json"
KEEP_BUILDS = 2
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def data_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """Return the data folder: ``path``, else ``$CSMAP_DATA_DIR``, else ``data/build``.

    The default is relative to the project checkout, so every command and the
    app agree on it whatever the working directory.
    """
    if path is not None:
        return Path(path).expanduser().resolve()
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return PROJECT_ROOT / "data" / "build"


def inputs_dir(root: Path) -> Path:
    """Return (creating it) the folder of the data folder's active inputs."""
    path = root / "inputs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir(root: Path) -> Path:
    """Return (creating it) the data folder's cache folder."""
    path = root / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def current_build_dir(root: str | os.PathLike[str] | None = None) -> Path:
    """Return the folder of the current build, or raise ``NoBuildError``."""
    base = data_dir(root)
    link = base / "current"
    if not link.exists():
        msg = f"no build in {base}; run 'csmap build' (or 'make serve') first"
        raise NoBuildError(msg)
    return link.resolve()


def read_manifest(build: Path) -> dict[str, Any]:
    """Return the manifest of a build."""
    manifest: dict[str, Any] = json.loads((build / MANIFEST_NAME).read_text(encoding="utf-8"))
    return manifest


def read_layer(build: Path, layer: str) -> gpd.GeoDataFrame:
    """Read one layer of a build's GeoPackage (EPSG:4326)."""
    frame = gpd.read_file(build / GPKG_NAME, layer=layer, engine="pyogrio")
    return frame


def read_table(build: Path, layer: str) -> pd.DataFrame:
    """Read a layer without geometry (faster for attribute-only use)."""
    return pyogrio.read_dataframe(build / GPKG_NAME, layer=layer, read_geometry=False)


def list_layers(build: Path) -> list[str]:
    """Return the layer names of a build's GeoPackage."""
    return [name for name, _ in pyogrio.list_layers(build / GPKG_NAME)]


class BuildWriter:
    """Collects the files of a new build in a temporary folder.

    Use :func:`new_build`; the build becomes current only when the ``with``
    block completes without an exception.
    """

    def __init__(self, path: Path, build_id: str) -> None:
        self.path = path
        self.build_id = build_id
        self.gpkg = path / GPKG_NAME
        self.layers: dict[str, int] = {}

    def write_layer(self, frame: gpd.GeoDataFrame | pd.DataFrame, layer: str) -> None:
        """Write a (Geo)DataFrame as a GeoPackage layer; geometry in EPSG:4326."""
        if isinstance(frame, gpd.GeoDataFrame):
            require_crs(frame, name=f"layer {layer!r}")
            out = frame if frame.crs.equals(WGS84) else frame.to_crs(WGS84)
            pyogrio.write_dataframe(out, self.gpkg, layer=layer, driver="GPKG")
        else:
            pyogrio.write_dataframe(frame, self.gpkg, layer=layer, driver="GPKG")
        self.layers[layer] = len(frame)

    def write_json(self, name: str, document: Any) -> Path:
        """Write a JSON document (NaN becomes null) into the build."""
        path = self.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(json_safe(document), indent=1, ensure_ascii=False), encoding="utf-8")
        return path

    def write_bytes(self, name: str, data: bytes) -> Path:
        """Write raw bytes (e.g. a serialized GeoJSON layer) into the build."""
        path = self.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def write_csv(self, frame: pd.DataFrame, name: str) -> Path:
        """Write a CSV into the build (formula-injection safe; see :func:`csv_safe`)."""
        path = self.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        csv_safe(frame).to_csv(path, index=False)
        return path


#: File in a temporary build folder naming the process that assembles it.
OWNER_FILE = ".owner.json"


@contextlib.contextmanager
def new_build(root: str | os.PathLike[str] | None = None) -> Iterator[BuildWriter]:
    """Assemble a build in a temporary folder and publish it atomically.

    Temporary folders left by killed builds (their owner process is gone)
    are removed first.

    Yields
    ------
    BuildWriter
        Write the build's files through it. On a clean exit the folder is
        renamed to ``builds/<id>`` and ``current`` re-pointed with an atomic
        ``os.replace``; on an exception (Ctrl-C included) the temporary
        folder is removed and the previous build is untouched.
    """
    base = data_dir(root)
    builds = base / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(base)
    build_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{build_id}-", dir=builds))
    try:
        (tmp / OWNER_FILE).write_text(json.dumps(process_identity()), encoding="utf-8")
        writer = BuildWriter(tmp, build_id)
        yield writer
        final = builds / build_id
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    (final / OWNER_FILE).unlink(missing_ok=True)
    publish(base, final)
    prune(base)


def process_identity(pid: int | None = None) -> dict[str, Any]:
    """Return ``{"pid", "started"}`` of a process (default this one); ``started`` is None if unknown.

    The start time (clock ticks since boot, from ``/proc/<pid>/stat``) tells
    a live owner from a new process that reuses a dead one's PID.
    """
    pid = os.getpid() if pid is None else pid
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
        started: int | None = int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        started = None
    return {"pid": pid, "started": started}


def owner_alive(owner: dict[str, Any]) -> bool:
    """Return whether the process described by :func:`process_identity` still runs."""
    try:
        pid = int(owner["pid"])
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    except (KeyError, TypeError, ValueError, OverflowError):
        return False
    started = owner.get("started")
    return started is None or process_identity(pid)["started"] in (None, started)


def remove_stale_temporaries(base: Path) -> list[Path]:
    """Remove the temporary folders and files of builds whose owner process is gone.

    A temporary build folder names its owner (:data:`OWNER_FILE`); one whose
    owner is dead was killed, and is removed at once. Folders without an
    owner file (from older versions, or killed before writing it) are removed
    once they are an hour old, so a build starting concurrently is left alone.
    Reference-cache files being written (``*.tmp-<pid>.gpkg``) go the same way.

    Returns
    -------
    list of Path
        What was removed.
    """
    removed = []
    cutoff = dt.datetime.now().timestamp() - 3600
    builds = base / "builds"
    for tmp in builds.glob(".tmp-*") if builds.is_dir() else []:
        try:
            owner = json.loads((tmp / OWNER_FILE).read_text(encoding="utf-8"))
            stale = not owner_alive(owner)
        except (OSError, ValueError):
            try:
                stale = tmp.stat().st_mtime < cutoff
            except OSError:
                continue
        if stale:
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp)
            logger.info("removed %s, left by a build that was killed", tmp.name)
    cache = base / "cache"
    for tmp in cache.glob("*.tmp-*.gpkg") if cache.is_dir() else []:
        pid = tmp.stem.rsplit(".tmp-", 1)[-1]
        if pid.isdigit() and not owner_alive({"pid": int(pid)}):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def publish(base: Path, build: Path) -> None:
    """Point ``base/current`` at ``build`` atomically (a relative symlink)."""
    link = base / "current"
    tmp_link = base / f".current-{uuid.uuid4().hex[:8]}"
    os.symlink(os.path.relpath(build, base), tmp_link)
    os.replace(tmp_link, link)
    logger.info("published build %s", build.name)


def prune(base: Path, keep: int = KEEP_BUILDS) -> None:
    """Remove old builds beyond the newest ``keep`` and stale temporary folders."""
    builds = base / "builds"
    current = (base / "current").resolve() if (base / "current").exists() else None
    done = sorted(
        (p for p in builds.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.name
    )
    for old in done[:-keep]:
        if old != current:
            shutil.rmtree(old, ignore_errors=True)
    remove_stale_temporaries(base)


def json_safe(value: Any) -> Any:
    """Return ``value`` with NaN/inf as None and numpy scalars as Python ones."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


#: Leading characters that make spreadsheet programs treat a cell as a formula
#: (OWASP "CSV injection"): =, +, -, @, tab and carriage return.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy whose text cells cannot be read as spreadsheet formulas.

    A text cell that starts with ``= + - @``, tab or CR gets a leading
    apostrophe (OWASP's recommendation). Numeric columns are left alone, so
    negative numbers stay numbers.
    """
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if series.dtype == object or pd.api.types.is_string_dtype(series):
            text = series.astype("string")
            # A plain signed number ("-73.95") is data, not a formula; leave it
            # so that coordinates in a rejects file can be loaded again.
            plain_number = text.str.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?").fillna(False)
            risky = text.str.startswith(FORMULA_PREFIXES).fillna(False) & ~plain_number
            if risky.any():
                out[column] = text.where(~risky, "'" + text)
    return out
