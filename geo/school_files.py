"""Reading school lists: CSV, XLSX, GeoJSON and GeoPackage, every value as text.

:func:`read_school_file` tells the format by the file's first bytes, then
its suffix. CSV: UTF-8, UTF-8 with a BOM, UTF-16 with a BOM, Windows-1252 or
Latin-1 (detected), comma, semicolon, tab or pipe separated (sniffed). XLSX:
the first sheet with a recognizable header; title rows above it are skipped.
GeoJSON and GeoPackage: the attributes plus each feature's point. Every value
comes back as text ("" when empty), so nothing is lost to type guessing: ZIPs
keep leading zeros and IDs their digits.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import WGS84
from geo.errors import SchoolDataError
from geo.school_columns import (
    FIELD_BY_KEY,
    GEOMETRY_LAT,
    GEOMETRY_LON,
    SOURCE_ROW,
    header_key,
    resolve_columns,
)

logger = logging.getLogger(__name__)

#: How many leading records are searched for the header row (title rows above it).
HEADER_SEARCH_ROWS = 30
#: Characters of each leading line looked at to find the delimiter and the header.
SNIFF_LINE_CHARS = 10_000


def read_school_file(path: str | Path, *, columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read a school list, returning every original value as text and its row number.

    Parameters
    ----------
    path : path
        CSV (comma, semicolon, tab or pipe separated), XLSX, GeoJSON or
        GeoPackage. The format is told by the file's first bytes, then its
        suffix.
    columns : mapping, optional
        Explicit ``{field: header}`` mappings (see :func:`resolve_columns`).

    Returns
    -------
    DataFrame
        The original headers (values as ``str``, "" when empty) plus
        ``source_row``: the row's number as a spreadsheet program shows it.
        For CSV and XLSX the header is on its own row (row 1 unless title
        rows sit above it), so the first data row is row 2; for GeoJSON and
        GeoPackage it is the feature number, from 1. Wholly empty rows are
        dropped (``attrs["blank_rows"]`` counts them). ``attrs["columns"]``
        holds the resolved ``{field: header}`` mapping and ``attrs["source"]``
        a description of what was read.

    Raises
    ------
    SchoolDataError
        When the file is missing, unreadable, empty, has a header but no
        rows, or lacks a required column.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"school list {str(path)!r} does not exist or is not a file"
        raise SchoolDataError(msg)
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        msg = f"cannot read school list {str(path)!r}: {exc}"
        raise SchoolDataError(msg) from exc
    kind = _file_kind(path, head)
    if kind == "xlsx":
        frame, description = _read_xlsx(path, columns)
    elif kind == "vector":
        frame, description = _read_vector(path)
    elif kind == "csv":
        frame, description = _read_csv(path, columns)
    else:
        msg = (
            f"cannot read school list {str(path)!r}: {kind}; save it as CSV (UTF-8) or XLSX (docs/SCHOOLS.md)"
        )
        raise SchoolDataError(msg)
    frame, blank = _drop_blank_rows(frame)
    if frame.empty:
        what = "has a header but no data rows" if len(frame.columns) > 1 else "has no data rows"
        found = [c for c in frame.columns if c != SOURCE_ROW]
        msg = f"school list {str(path)!r} {what}; headers found: {found!r}"
        raise SchoolDataError(msg)
    mapping = resolve_columns(list(frame.columns), columns)
    frame.attrs.update({"columns": mapping, "blank_rows": blank, "source": f"{path.name} ({description})"})
    logger.info("read %d rows from %s (%s); columns %s", len(frame), path.name, description, mapping)
    return frame


def _file_kind(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        return "xlsx" if suffix not in (".zip", ".ods") else f"a {suffix} archive is not a school list"
    if head.startswith(b"SQLite format 3\x00"):
        return "vector"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "it is an old binary Excel (.xls) workbook, which is not supported"
    if suffix in (".geojson", ".json", ".gpkg", ".shp", ".fgb"):
        return "vector"
    if suffix in (".xls", ".xlsb", ".numbers", ".ods", ".pdf", ".docx"):
        return f"{suffix} files are not supported"
    return "csv"


def _drop_blank_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    data = [c for c in frame.columns if c != SOURCE_ROW]
    if not data:
        return frame.iloc[0:0], len(frame)
    blank = np.ones(len(frame), dtype=bool)
    for column in data:
        blank &= (frame[column].str.strip() == "").to_numpy(dtype=bool)
    if blank.any():
        frame = frame.loc[~blank].reset_index(drop=True)
    return frame, int(blank.sum())


# ---- CSV


def decode_text(path: Path) -> tuple[str, str]:
    """Return the text of a CSV and the name of the encoding it was read with.

    UTF-16 with a BOM, UTF-8 (with or without a BOM), Windows-1252, then
    Latin-1, which decodes any byte.

    Raises
    ------
    SchoolDataError
        When the file holds NUL bytes (a binary file, not a text CSV).
    """
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "UTF-16"
    if b"\x00" in data[:65536]:
        msg = (
            f"cannot read school list {str(path)!r}: it holds NUL bytes, so it is not a text CSV "
            "(a spreadsheet saved in another format?)"
        )
        raise SchoolDataError(msg)
    try:
        encoding = "UTF-8 with BOM" if data.startswith(b"\xef\xbb\xbf") else "UTF-8"
        return data.decode("utf-8-sig"), encoding
    except UnicodeDecodeError:
        pass
    # Not UTF-8: Excel's "CSV" on Windows writes Windows-1252, a superset of
    # Latin-1's printable characters; Latin-1 decodes any byte, so it is last.
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "Latin-1"


def _sniff_delimiter(text: str) -> str:
    """Pick the delimiter that splits the first lines into the most consistent number of fields."""
    lines = text[:200_000].splitlines()[:HEADER_SEARCH_ROWS] or [""]
    best, best_score = ",", (0, 0)
    for delimiter in (",", ";", "\t", "|"):
        widths = [len(r) for r in csv.reader(lines, delimiter=delimiter) if any(c.strip() for c in r)]
        if not widths:
            continue
        width, count = (
            Counter(w for w in widths if w > 1).most_common(1)[0] if any(w > 1 for w in widths) else (1, 0)
        )
        score = (count, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _header_score(cells: Sequence[Any], extra: Mapping[str, str] | None) -> int:
    keys = {header_key(c) for c in cells if c is not None and str(c).strip()}
    wanted = {header_key(h) for h in (extra or {}).values()}
    return sum(1 for k in keys if k in FIELD_BY_KEY or k in wanted)


def _find_header(rows: list[Sequence[Any]], extra: Mapping[str, str] | None) -> int:
    """Return the index of the header among the first rows.

    The header is the first row naming at least two known fields; failing
    that, the first row with as many filled cells as the widest row (title
    rows above a header fill one or two cells).
    """
    for index, cells in enumerate(rows):
        if _header_score(cells, extra) >= 2:
            return index
    filled = [sum(1 for c in cells if c is not None and str(c).strip()) for cells in rows]
    widest = max(filled, default=0)
    return next((i for i, n in enumerate(filled) if n == widest and n > 0), 0)


def _read_csv(path: Path, columns: Mapping[str, str] | None) -> tuple[pd.DataFrame, str]:
    text, encoding = decode_text(path)
    if not text.strip():
        msg = f"school list {str(path)!r} is empty"
        raise SchoolDataError(msg)
    # Header detection reads the first lines only, each cut short: a huge cell
    # further down must not trip the csv module's field size limit.
    head = "\n".join(
        line[:SNIFF_LINE_CHARS] for line in text[:2_000_000].splitlines()[: HEADER_SEARCH_ROWS * 4]
    )
    delimiter = _sniff_delimiter(head)
    reader = csv.reader(io.StringIO(head), delimiter=delimiter)
    records, line_ends = [], []
    try:
        for record in reader:
            records.append(record)
            line_ends.append(reader.line_num)
            if len(records) >= HEADER_SEARCH_ROWS:
                break
    except csv.Error as exc:
        msg = f"cannot read school list {str(path)!r} as CSV: {exc}"
        raise SchoolDataError(msg) from exc
    header_index = _find_header(records, columns)
    skip_lines = line_ends[header_index - 1] if header_index else 0
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            skiprows=skip_lines,
            engine="c",
        )
    except pd.errors.ParserError:
        # Ragged rows (more cells than headers): read them with the csv module,
        # keeping the extra cells in a column of their own rather than losing the row.
        frame = _read_ragged_csv(text, delimiter, skip_lines)
    except (ValueError, csv.Error) as exc:
        msg = f"cannot read school list {str(path)!r} as CSV: {exc}"
        raise SchoolDataError(msg) from exc
    frame = _as_text_frame(frame)
    # Spreadsheet row numbers: title rows, then the header row, then the data.
    frame[SOURCE_ROW] = np.arange(len(frame), dtype="int64") + header_index + 2
    name = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}[delimiter]
    return frame, f"CSV, {encoding}, {name}-separated"


def _read_ragged_csv(text: str, delimiter: str, skip_lines: int) -> pd.DataFrame:
    lines = io.StringIO(text)
    for _ in range(skip_lines):
        lines.readline()
    limit = csv.field_size_limit()
    try:
        csv.field_size_limit(max(limit, len(text)))  # a cell may be as long as the file
        rows = list(csv.reader(lines, delimiter=delimiter))
    finally:
        csv.field_size_limit(limit)
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    width = len(header)
    extra = "(extra cells)"
    cells = [r[:width] + [""] * (width - len(r)) + [delimiter.join(r[width:])] for r in body]
    frame = pd.DataFrame(cells, columns=[*_unique_headers(header), extra], dtype="str")
    return frame if (frame[extra] != "").any() else frame.drop(columns=extra)


def _unique_headers(headers: Sequence[Any]) -> list[str]:
    seen: Counter[str] = Counter()
    out = []
    for index, header in enumerate(headers):
        text = str(header).strip() if header is not None and str(header).strip() else f"Unnamed: {index}"
        seen[text] += 1
        out.append(text if seen[text] == 1 else f"{text}.{seen[text] - 1}")
    return out


def _as_text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with string headers, every value as ``str`` ("" when missing)."""
    out = frame.copy()
    out.columns = _unique_headers(out.columns)
    if SOURCE_ROW in out.columns:
        out = out.rename(columns={SOURCE_ROW: f"{SOURCE_ROW} (file)"})
    for column in out.columns:
        out[column] = out[column].fillna("").astype("str")
    return out


# ---- XLSX


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _read_xlsx(path: Path, columns: Mapping[str, str] | None) -> tuple[pd.DataFrame, str]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError and XML errors for damaged files
        msg = f"cannot read school list {str(path)!r} as XLSX: {exc}"
        raise SchoolDataError(msg) from exc
    try:
        sheets = book.worksheets
        if not sheets:
            msg = f"school list {str(path)!r} has no worksheets"
            raise SchoolDataError(msg)
        # The first sheet whose leading rows carry a recognizable header; else the first sheet.
        chosen, header_index = sheets[0], None
        for sheet in sheets:
            rows = list(itertools.islice(sheet.iter_rows(values_only=True), HEADER_SEARCH_ROWS))
            if any(_header_score(r, columns) >= 2 for r in rows):
                chosen, header_index = sheet, _find_header(rows, columns)
                break
        if header_index is None:
            top = list(itertools.islice(chosen.iter_rows(values_only=True), HEADER_SEARCH_ROWS))
            header_index = _find_header(top, columns)
        rows = list(chosen.iter_rows(values_only=True))
    finally:
        book.close()
    if not rows:
        msg = f"school list {str(path)!r} is empty (sheet {chosen.title!r} has no cells)"
        raise SchoolDataError(msg)
    header = list(rows[header_index])
    body = rows[header_index + 1 :]
    width = max([len(header), *(len(r) for r in body)]) if body else len(header)
    header = _unique_headers(header + [None] * (width - len(header)))
    cells = [[_cell_text(v) for v in r] + [""] * (width - len(r)) for r in body]
    frame = (
        pd.DataFrame(cells, columns=header, dtype="str")
        if cells
        else pd.DataFrame(columns=header, dtype="str")
    )
    # Drop columns that are unnamed and empty (stray formatting to the right of the table).
    empty_unnamed = [c for c in frame.columns if c.startswith("Unnamed: ") and not (frame[c] != "").any()]
    frame = _as_text_frame(frame.drop(columns=empty_unnamed))
    # Worksheet row numbers, as Excel shows them (openpyxl starts at row 1).
    frame[SOURCE_ROW] = np.arange(len(frame), dtype="int64") + header_index + 2
    return frame, f"XLSX, sheet {chosen.title!r}, header on row {header_index + 1}"


# ---- GeoJSON, GeoPackage


def _read_vector(path: Path) -> tuple[pd.DataFrame, str]:
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises DataSourceError, DataLayerError, ...
        msg = f"cannot read school list {str(path)!r} as GeoJSON/GeoPackage: {exc}"
        raise SchoolDataError(msg) from exc
    if frame.crs is None:
        # RFC 7946: GeoJSON coordinates are WGS84 lon/lat; assume the same for a GeoPackage without one.
        logger.warning("%s has no CRS; assuming WGS84 lon/lat (EPSG:4326)", path.name)
        frame = frame.set_crs(WGS84)
    attributes = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    out = _as_text_frame(attributes)
    geometry = frame.geometry.to_crs(WGS84)
    has_geometry = (geometry.notna() & ~geometry.is_empty).to_numpy(dtype=bool)
    points = geometry.copy()
    # A polygon or line stands for its school by a point guaranteed to lie on it.
    other = has_geometry & (geometry.geom_type != "Point").to_numpy(dtype=bool)
    if other.any():
        points[other] = geometry[other].representative_point()
    x = np.full(len(frame), np.nan)
    y = np.full(len(frame), np.nan)
    x[has_geometry] = points[has_geometry].x.to_numpy()
    y[has_geometry] = points[has_geometry].y.to_numpy()
    out[GEOMETRY_LAT] = (
        pd.Series(y).map(lambda v: "" if np.isnan(v) else repr(float(v))).astype("str").to_numpy()
    )
    out[GEOMETRY_LON] = (
        pd.Series(x).map(lambda v: "" if np.isnan(v) else repr(float(v))).astype("str").to_numpy()
    )
    out[SOURCE_ROW] = np.arange(len(out), dtype="int64") + 1
    return out, f"{path.suffix.lstrip('.').upper() or 'vector'} features"
