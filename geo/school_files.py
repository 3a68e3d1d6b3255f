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

import contextlib
import csv
import datetime as dt
import io
import itertools
import logging
import warnings
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
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
#: A CSV header wider than this is read by the csv module into one block of text cells: pandas'
#: parser builds one array per column, which takes minutes for 100,000 columns (issue 11).
WIDE_HEADER = 1_000
#: Column describing, as CSV text, the non-empty cells of a row beyond its header's width.
EXTRA_CELLS = "(extra cells)"


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
        See :func:`read_school_bytes`.

    Raises
    ------
    SchoolDataError
        When the file is missing, unreadable, empty, has a header but no
        rows, or lacks a required column.
    """
    return read_school_bytes(read_list_bytes(path), str(path), columns=columns)


def read_list_bytes(path: str | Path) -> bytes:
    """Return the bytes of a school list file, or raise :class:`SchoolDataError` saying why not."""
    path = Path(path)
    if not path.is_file():
        msg = f"school list {str(path)!r} does not exist or is not a file"
        raise SchoolDataError(msg)
    try:
        return path.read_bytes()
    except OSError as exc:
        msg = f"cannot read school list {str(path)!r}: {exc}"
        raise SchoolDataError(msg) from exc


def read_school_bytes(data: bytes, label: str, *, columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read a school list held in memory (the bytes of a file), every value as text.

    ``csmap load`` reads a file once and hands its bytes both to this reader
    and to the build, which stores them as the list it used.

    Parameters
    ----------
    data : bytes
        The file's content.
    label : str
        The file's name or path: its suffix helps tell the format, and
        messages quote it.
    columns : mapping, optional
        Explicit ``{field: header}`` mappings (see :func:`resolve_columns`).

    Returns
    -------
    DataFrame
        The original headers (values as Python ``str``, "" when empty; the
        dtype is ``str``, or ``object`` for very wide files) plus
        ``source_row``: the row's number as a spreadsheet program shows it.
        For CSV and XLSX the header is on its own row (row 1 unless title
        rows sit above it), so the first data row is row 2; for GeoJSON and
        GeoPackage it is the feature number, from 1. Wholly empty rows are
        dropped (``attrs["blank_rows"]`` counts them). A CSV row with
        non-empty cells beyond the header's width describes them in the
        column :data:`EXTRA_CELLS` (the loader rejects that row).
        ``attrs["columns"]`` holds the resolved ``{field: header}`` mapping
        and ``attrs["source"]`` a description of what was read.

    Raises
    ------
    SchoolDataError
        When the data is unreadable, empty, has a header but no rows, or
        lacks a required column.
    """
    name = Path(label).name
    kind = _file_kind(Path(label), data[:16])
    if kind == "xlsx":
        frame, description = _read_xlsx(data, label, columns)
    elif kind == "vector":
        frame, description = _read_vector(data, label)
    elif kind == "csv":
        frame, description = _read_csv(data, label, columns)
    else:
        msg = f"cannot read school list {label!r}: {kind}; save it as CSV (UTF-8) or XLSX (docs/SCHOOLS.md)"
        raise SchoolDataError(msg)
    frame, blank = _drop_blank_rows(frame)
    if frame.empty:
        what = "has a header but no data rows" if len(frame.columns) > 1 else "has no data rows"
        found = [c for c in frame.columns if c not in (SOURCE_ROW, EXTRA_CELLS)]
        if len(found) > 50:
            found = [*found[:50], f"... ({len(found) - 50:,} more)"]
        msg = f"school list {label!r} {what}; headers found: {found!r}"
        raise SchoolDataError(msg)
    mapping = resolve_columns([c for c in frame.columns if c != EXTRA_CELLS], columns)
    frame.attrs.update({"columns": mapping, "blank_rows": blank, "source": f"{name} ({description})"})
    logger.info("read %d rows from %s (%s); columns %s", len(frame), name, description, mapping)
    return frame


def _file_kind(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        return "xlsx" if suffix not in (".zip", ".ods") else f"a {suffix} archive is not a school list"
    if head.startswith(b"SQLite format 3\x00"):
        return "vector"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "it is an old binary Excel (.xls) workbook, which is not supported"
    if suffix in (".xlsx", ".xlsm"):
        # Every XLSX is a ZIP archive, which starts "PK": this one is damaged, or text renamed .xlsx.
        return (
            f"it is named {suffix} but is not an Excel workbook (an XLSX file starts with 'PK'; this one "
            f"starts with {head[:8]!r}); it may be damaged, or another file renamed: open it in a "
            "spreadsheet program and save it again, or rename a CSV to .csv"
        )
    if suffix in (".geojson", ".json", ".gpkg", ".shp", ".fgb"):
        return "vector"
    if suffix in (".xls", ".xlsb", ".numbers", ".ods", ".pdf", ".docx"):
        return f"{suffix} files are not supported"
    return "csv"


def _drop_blank_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    # A row whose only content lies beyond the header is not blank: it is rejected, with its cells.
    data = [c for c in frame.columns if c != SOURCE_ROW]
    if not data:
        return frame.iloc[0:0], len(frame)
    blank = np.ones(len(frame), dtype=bool)
    for column in data:
        blank &= (frame[column].str.strip() == "").to_numpy(dtype=bool)
        if not blank.any():  # usually after the first column: a wide file is not scanned cell by cell
            break
    if blank.any():
        frame = frame.loc[~blank].reset_index(drop=True)
    return frame, int(blank.sum())


# ---- CSV


def decode_text(source: Path | bytes, label: str | None = None) -> tuple[str, str]:
    """Return the text of a CSV and the name of the encoding it was read with.

    UTF-16 with a BOM, UTF-16 without one (told by the zero bytes of ASCII
    text), UTF-8 (with or without a BOM), Windows-1252, then Latin-1, which
    decodes any byte.

    Parameters
    ----------
    source : Path or bytes
        The file, or its bytes.
    label : str, optional
        The name messages quote (default: the path).

    Raises
    ------
    SchoolDataError
        When the file holds NUL bytes and is not UTF-16 text (a binary file,
        not a text CSV).
    """
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    label = label if label is not None else str(source) if not isinstance(source, bytes) else "<data>"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "UTF-16"
    if b"\x00" in data[:65536]:
        utf16 = _utf16_without_bom(data)
        if utf16 is not None:
            return utf16
        msg = (
            f"cannot read school list {label!r}: it holds NUL bytes, so it is not a text CSV "
            "(a spreadsheet saved in another format? UTF-16 text that is not mostly Latin letters? "
            "Save it as CSV UTF-8)"
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


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """Return the text and encoding of UTF-16 text saved without a BOM, or None.

    Latin text in UTF-16 has a zero byte in every other position: the odd
    ones for little-endian, the even ones for big-endian. The decoded text
    must hold no control characters but tab and line breaks.
    """
    sample = data[: 4096 - 4096 % 2]
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even, odd = sample[0::2].count(0) / pairs, sample[1::2].count(0) / pairs
    codec = "utf-16-le" if odd > 0.6 and even < 0.05 else "utf-16-be" if even > 0.6 and odd < 0.05 else None
    if codec is None or len(data) % 2:
        return None
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return None
    if any(ord(c) < 32 and c not in "\t\r\n" for c in text[:65536]):
        return None
    return text, f"{codec.upper().replace('-LE', ' LE').replace('-BE', ' BE')} without a byte-order mark"


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


def _find_header(rows: Sequence[Sequence[Any]], extra: Mapping[str, str] | None) -> int:
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


@contextlib.contextmanager
def _no_field_limit(size: int) -> Iterator[None]:
    """Let the csv module read a cell as long as the whole file (a 150,000-character note)."""
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, size))
    try:
        yield
    finally:
        csv.field_size_limit(limit)


def _read_csv(data: bytes, label: str, columns: Mapping[str, str] | None) -> tuple[pd.DataFrame, str]:
    text, encoding = decode_text(data, label)
    if not text.strip():
        msg = f"school list {label!r} is empty"
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
        msg = f"cannot read school list {label!r} as CSV: {exc}"
        raise SchoolDataError(msg) from exc
    header_index = _find_header(records, columns)
    skip_lines = line_ends[header_index - 1] if header_index else 0
    try:
        frame = None
        # The header's width from its whole line (the lines above were cut short).
        if _header_width(text, delimiter, skip_lines) <= WIDE_HEADER:
            frame = _read_rectangular_csv(text, delimiter, skip_lines)
        if frame is None:
            frame = _read_ragged_csv(text, delimiter, skip_lines)
    except (ValueError, csv.Error) as exc:
        msg = f"cannot read school list {label!r} as CSV: {exc}"
        raise SchoolDataError(msg) from exc
    # Spreadsheet row numbers: title rows, then the header row, then the data.
    frame[SOURCE_ROW] = np.arange(len(frame), dtype="int64") + header_index + 2
    name = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}[delimiter]
    return frame, f"CSV, {encoding}, {name}-separated"


def _header_width(text: str, delimiter: str, skip_lines: int) -> int:
    lines = io.StringIO(text)
    for _ in range(skip_lines):
        lines.readline()
    with _no_field_limit(len(text)):
        return len(next(csv.reader(lines, delimiter=delimiter), []))


def _read_rectangular_csv(text: str, delimiter: str, skip_lines: int) -> pd.DataFrame | None:
    """Read a CSV none of whose rows is wider than its header with pandas' C parser (fast); else None.

    The header is read as a data row (``header=None``), so that it sets the
    width: a wider row is a ``ParserError`` rather than a row pandas would
    silently shift (it takes surplus leading cells for an index).
    """
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            skiprows=skip_lines,
            engine="c",
        )
    except pd.errors.ParserError:
        return None
    if frame.empty:
        return None
    header = frame.iloc[0].fillna("").tolist()
    body = frame.iloc[1:].reset_index(drop=True)
    body.columns = _text_headers(header)
    if body.isna().to_numpy().any():  # short rows: their missing cells are empty
        body = body.fillna("")
    return body


def _read_ragged_csv(text: str, delimiter: str, skip_lines: int) -> pd.DataFrame:
    """Read any CSV with the csv module, row by row, into one block of text cells.

    Short rows are padded with empty cells. Of a row wider than the header,
    empty trailing cells are dropped; non-empty ones go, as CSV text, to the
    :data:`EXTRA_CELLS` column, which makes the loader reject that row with
    a reason naming them. Wide files (100,000 columns) come this way too: one
    object block is built at once instead of a column at a time.
    """
    lines = io.StringIO(text)
    for _ in range(skip_lines):
        lines.readline()
    with _no_field_limit(len(text)):
        records = csv.reader(lines, delimiter=delimiter)
        header = next(records, [])
        width = max(len(header), 1)
        body: list[list[str]] = []
        extras: dict[int, str] = {}
        for record in records:
            if len(record) > width:
                tail = record[width:]
                while tail and not tail[-1].strip():
                    tail.pop()
                if tail:
                    extras[len(body)] = _csv_text(tail)
                record = record[:width]
            elif len(record) < width:
                record = record + [""] * (width - len(record))
            body.append(record)
    cells = np.empty((len(body), width), dtype=object)
    for index, record in enumerate(body):
        cells[index] = record
    frame = pd.DataFrame(cells, columns=_text_headers(header or [""]), dtype=object, copy=False)
    if extras:
        extra = np.full(len(body), "", dtype=object)
        extra[list(extras)] = list(extras.values())
        frame[EXTRA_CELLS] = extra
    return frame


def _csv_text(cells: Sequence[str]) -> str:
    buffer = io.StringIO()
    # "\n" as the terminator, so that a cell holding a line break is quoted; then dropped.
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()[:-1]


def extra_cells(text: str) -> list[str]:
    """Return the cells held in an :data:`EXTRA_CELLS` value (CSV text)."""
    with _no_field_limit(len(text)):
        return next(csv.reader(io.StringIO(text)), [])


def _text_headers(headers: Sequence[Any]) -> list[str]:
    """Return unique string headers; a header named ``source_row`` becomes ``source_row (file)``."""
    out = _unique_headers(headers)
    return [f"{SOURCE_ROW} (file)" if h == SOURCE_ROW else h for h in out]


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
    out.columns = _text_headers(out.columns)
    return out.fillna("").astype("str")


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


def _read_xlsx(data: bytes, label: str, columns: Mapping[str, str] | None) -> tuple[pd.DataFrame, str]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError and XML errors for damaged files
        msg = f"cannot read school list {label!r} as XLSX: {exc}"
        raise SchoolDataError(msg) from exc
    try:
        sheets = book.worksheets
        if not sheets:
            msg = f"school list {label!r} has no worksheets"
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
        msg = f"school list {label!r} is empty (sheet {chosen.title!r} has no cells)"
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


def _read_vector(data: bytes, label: str) -> tuple[pd.DataFrame, str]:
    path = Path(label)
    try:
        with warnings.catch_warnings():
            # pyogrio reads bytes from an in-memory file, whose name has no .gpkg suffix.
            warnings.filterwarnings(
                "ignore", message=".*non conformant file extension", category=RuntimeWarning
            )
            frame = gpd.read_file(io.BytesIO(data), engine="pyogrio")
    except Exception as exc:  # pyogrio raises DataSourceError, DataLayerError, ...
        msg = f"cannot read school list {label!r} as GeoJSON/GeoPackage: {exc}"
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
