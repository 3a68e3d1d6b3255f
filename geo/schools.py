"""The school list: schema, column synonyms, reading files, validation, row accounting, dedup.

A school list comes from many spreadsheets. :func:`read_school_file` reads
CSV (UTF-8, UTF-8 with a BOM, UTF-16 with a BOM, Windows-1252 or Latin-1,
detected), XLSX (a title row above the header is skipped), GeoJSON and
GeoPackage, and returns every value as text. :func:`prepare_schools` maps
the columns through documented synonyms, merges duplicates, geocodes
(geo/geocode.py) and enriches (geo/enrich.py), and accounts for every row:
``loaded + merged + rejected == rows``. docs/SCHOOLS.md is the user's guide.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import itertools
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo.crs import WGS84
from geo.errors import SchoolDataError
from geo.reference import CANADA_PROVINCES, Reference

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------
# Schema and column synonyms (docs/SCHOOLS.md lists them for users).

#: The fields of a school list. ``name`` is required, plus a location:
#: latitude and longitude, or a ZIP, a street address, or city and state.
FIELDS = (
    "name",
    "address",
    "city",
    "state",
    "zip",
    "country",
    "lat",
    "lon",
    "nces_id",
    "district",
    "grades",
    "lead_partner",
    "year_started",
    "nces_locale",
    "is_sample",
)

#: Header spellings recognized for each field, best first. Headers are compared
#: after folding case, accents and punctuation ("ZIP Code" -> "zip_code").
#: NCES Common Core of Data names (SCH_NAME, LSTREET1, LCITY, LSTATE, LZIP,
#: NCESSCH, LEA_NAME, ULOCALE, LAT, LON) are included so CCD extracts load as is.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": (
        "school_name",
        "name",
        "school",
        "schoolname",
        "name_of_school",
        "sch_name",
        "community_school",
        "community_school_name",
        "campus",
        "campus_name",
        "site_name",
        "site",
        "institution_name",
        "school_site",
    ),
    "address": (
        "address",
        "street_address",
        "street",
        "address_1",
        "address1",
        "address_line_1",
        "street_address_1",
        "physical_address",
        "location_address",
        "site_address",
        "lstreet1",
        "street1",
        "addr",
        "school_address",
    ),
    "city": ("city", "town", "city_town", "municipality", "locality", "lcity", "school_city"),
    "state": (
        "state",
        "st",
        "state_code",
        "state_abbr",
        "state_abbreviation",
        "stusps",
        "lstate",
        "state_province",
        "province",
        "state_or_province",
        "school_state",
    ),
    "zip": (
        "zip",
        "zip_code",
        "zipcode",
        "zip5",
        "postal_code",
        "postcode",
        "post_code",
        "lzip",
        "zip_postal_code",
        "postal",
        "school_zip",
    ),
    "country": ("country", "country_code", "nation"),
    # Coordinates from a GeoJSON/GeoPackage geometry come first: they are the file's own location.
    "lat": ("geometry_lat", "latitude", "lat", "y", "lat_dd", "latitude_dd", "point_y", "school_latitude"),
    "lon": (
        "geometry_lon",
        "longitude",
        "lon",
        "lng",
        "long",
        "x",
        "lon_dd",
        "longitude_dd",
        "point_x",
        "school_longitude",
    ),
    "nces_id": (
        "nces_id",
        "ncesid",
        "nces_school_id",
        "ncessch",
        "nces",
        "nces_number",
        "school_id_nces",
        "nces_sch_id",
    ),
    "district": ("district", "school_district", "district_name", "lea_name", "leaname", "lea"),
    "grades": ("grades", "grade_span", "grades_served", "grade_levels", "grade_range", "grade", "grade_band"),
    "lead_partner": (
        "lead_partner",
        "lead_partner_agency",
        "lead_partner_organization",
        "partner",
        "lead_agency",
        "lead_organization",
        "community_partner",
        "partner_organization",
    ),
    "year_started": (
        "year_started",
        "start_year",
        "year_began",
        "year_launched",
        "year_joined",
        "started",
        "year",
    ),
    "nces_locale": (
        "nces_locale",
        "locale_code",
        "nces_locale_code",
        "locale",
        "ulocale",
        "urban_centric_locale",
    ),
    "is_sample": ("is_sample", "sample"),
}

#: Column of the returned frame holding each row's number in the file (see :func:`read_school_file`).
SOURCE_ROW = "source_row"
#: Internal header names for a vector file's geometry (first in the lat/lon synonyms).
GEOMETRY_LAT, GEOMETRY_LON = "geometry_lat", "geometry_lon"
#: Cells treated as empty in every field (spreadsheet placeholders).
NULL_TOKENS = frozenset({"", "na", "n/a", "#n/a", "null", "none", "nan", "-", "--", "?"})
#: Longest text kept in a field; a longer cell is cut with a note. Names of real
#: schools and partners are far shorter; a 100,000-character cell is an error
#: that would otherwise bloat every map popup and download.
MAX_TEXT = 500
#: How many leading records are searched for the header row (title rows above it).
HEADER_SEARCH_ROWS = 30
#: Characters of each leading line looked at to find the delimiter and the header.
SNIFF_LINE_CHARS = 10_000


def header_key(header: Any) -> str:
    """Return the comparison key of a header: ASCII-folded, lower case, ``_`` for punctuation."""
    folded = unicodedata.normalize("NFKD", str(header)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "_", folded.lower()).strip("_")


_FIELD_BY_KEY = {key: name for name, keys in SYNONYMS.items() for key in keys}


def resolve_columns(headers: Sequence[str], columns: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return ``{field: header}`` for the headers of a school list.

    Parameters
    ----------
    headers : sequence of str
        The file's headers, as found.
    columns : mapping, optional
        Explicit ``{field: header}`` mappings (CLI ``--column FIELD=HEADER``);
        they win over the synonyms.

    Raises
    ------
    SchoolDataError
        For an unknown field or header in ``columns``, a missing ``name``
        column, or no location columns; the message lists the headers found.
    """
    found = [str(h) for h in headers if str(h) != SOURCE_ROW]
    mapping: dict[str, str] = {}
    for field_name, header in (columns or {}).items():
        canonical = _FIELD_BY_KEY.get(header_key(field_name), field_name if field_name in FIELDS else None)
        if canonical is None:
            msg = f"unknown field {field_name!r} in a column mapping; fields are {', '.join(FIELDS)}"
            raise SchoolDataError(msg)
        match = (
            header
            if header in found
            else next((h for h in found if header_key(h) == header_key(header)), None)
        )
        if match is None:
            msg = f"column mapping {field_name}={header!r}: no such header; headers found: {found!r}"
            raise SchoolDataError(msg)
        mapping[canonical] = match
    taken = set(mapping.values())
    by_key: dict[str, str] = {}
    for header in found:
        by_key.setdefault(header_key(header), header)
    for field_name, keys in SYNONYMS.items():
        if field_name in mapping:
            continue
        for key in keys:
            header = by_key.get(key)
            if header is not None and header not in taken:
                mapping[field_name] = header
                taken.add(header)
                break
    _require_columns(mapping, found)
    return {name: mapping[name] for name in FIELDS if name in mapping}


def _require_columns(mapping: Mapping[str, str], found: list[str]) -> None:
    hint = "map one with --column FIELD=HEADER (docs/SCHOOLS.md lists the recognized headers)"
    if "name" not in mapping:
        msg = (
            f"missing required column 'name' (a school name, e.g. 'School Name'); headers found: {found!r}; "
            f"{hint}"
        )
        raise SchoolDataError(msg)
    for one, other, label in (("lat", "lon", "longitude"), ("lon", "lat", "latitude")):
        if one in mapping and other not in mapping:
            msg = (
                f"missing column {other!r} ({label}): the file has {mapping[one]!r} but no {label}; "
                f"headers found: {found!r}; {hint}"
            )
            raise SchoolDataError(msg)
    if not ({"lat", "zip", "address"} & mapping.keys() or {"city", "state"} <= mapping.keys()):
        msg = (
            "missing location columns: need latitude and longitude, or a ZIP, a street address, or city "
            f"and state; headers found: {found!r}; {hint}"
        )
        raise SchoolDataError(msg)


# --------------------------------------------------------------------------
# Reading files. Every value comes back as text ("" when empty), so nothing
# is lost to type guessing: ZIPs keep leading zeros and IDs their digits.


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


def _decode(path: Path) -> tuple[str, str]:
    """Return the text of a CSV and the encoding it was read with."""
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
    return sum(1 for k in keys if k in _FIELD_BY_KEY or k in wanted)


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
    text, encoding = _decode(path)
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


# --------------------------------------------------------------------------
# Normalizing the fields of each row (vectorized: maps over unique values,
# regular expressions over whole columns).


def fold_text(values: pd.Series) -> pd.Series:
    """Return :func:`geo.reference.normalize_place` of each value, computed with Arrow kernels.

    The same steps (NFKD, ASCII only, lower case, punctuation to spaces,
    St./Ste. -> saint, Ft. -> fort, collapsed spaces), about ten times faster
    on long lists; Unicode normalization runs only on the non-ASCII values.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(values.fillna("").astype("str").array)
    if not pc.all(pc.string_is_ascii(text)).as_py():
        folded = pc.replace_substring_regex(pc.utf8_normalize(text, form="NFKD"), r"[^\x00-\x7f]", "")
        text = pc.if_else(pc.string_is_ascii(text), text, folded)
    text = pc.ascii_lower(text)
    text = pc.replace_substring_regex(text, r"[^a-z0-9 ]+", " ")
    text = pc.replace_substring_regex(text, r"\b(st|ste)\b", "saint")
    text = pc.replace_substring_regex(text, r"\bft\b", "fort")
    text = pc.utf8_trim_whitespace(pc.replace_substring_regex(text, r"\s+", " "))
    return pd.Series(pd.array(text, dtype="str"), index=values.index, name=values.name)


def _lookup(values: pd.Series, table: Mapping[str, str]) -> pd.Series:
    """Map each value's folded spelling through ``table`` (computed once per distinct value)."""
    distinct = pd.unique(values.fillna("").astype("str"))
    codes = {value: table.get(_key(value)) for value in distinct}
    return values.map(codes).astype("str")


def _key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "", folded.lower())


@functools.cache
def state_codes() -> dict[str, str]:
    """Return a lookup from folded state/province spellings to USPS/Canada Post codes.

    USPS codes, names, FIPS codes (with and without the leading zero) and AP
    abbreviations of the states, DC and the territories (package ``us``);
    names and codes of the Canadian provinces and territories.
    """
    import us

    table: dict[str, str] = {}
    for state in (*us.states.STATES_AND_TERRITORIES, us.states.DC):
        for key in (state.abbr, state.name, state.fips, str(int(state.fips)), state.ap_abbr):
            if key:
                table[_key(key)] = state.abbr
    for name, code in CANADA_PROVINCES.items():
        table[_key(name)] = code
        table[code.lower()] = code
    # Older or common alternative spellings (Canada Post's pre-1990 codes PQ and NF).
    table.update(
        {
            "washingtondc": "DC",
            "pq": "QC",
            "nf": "NL",
            "nfld": "NL",
            "newfoundland": "NL",
            "usvi": "VI",
            "virginislands": "VI",
            "usvirginislands": "VI",
        }
    )
    return table


_COUNTRIES = {
    "us": "US",
    "usa": "US",
    "unitedstates": "US",
    "unitedstatesofamerica": "US",
    "america": "US",
    "ca": "CA",
    "can": "CA",
    "canada": "CA",
}
_US_ZIP = r"^(\d{3,5})(?:[-\s]?\d{4})?$"
#: Canada Post's postal code format: letter digit letter, digit letter digit (no D, F, I, O, Q, U).
CANADIAN_POSTAL = r"^([ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z])\s*-?\s*(\d[ABCEGHJ-NPRSTV-Z]\d)$"
#: "..., City, ST 12345" at the end of a one-line address.
_ADDRESS_TAIL = (
    r"^(?P<street>.*?),\s*(?P<city>[^,]+?)\s*,?\s+"
    r"(?P<state>[A-Za-z]{2})\.?\s*,?\s+(?P<zip>\d{5})(?:-\d{4})?\s*$"
)


def normalize_zip(values: pd.Series) -> pd.Series:
    """Return 5-digit US ZIPs and ``A1A 1A1`` Canadian postal codes; ``""`` for anything else.

    Leading zeros lost by spreadsheets are restored ("2134" -> "02134"), a
    ZIP+4 suffix is dropped ("02134-1234", "021341234" -> "02134") and a
    spreadsheet's float ("2134.0") is read as its integer.
    """
    text = values.fillna("").astype("str").str.strip()
    plain = (text.str.len() == 5) & text.str.isdigit()
    out = text.where(plain, "")
    rest = ~plain & (text != "")
    if rest.any():
        odd = text[rest].str.upper().str.lstrip("'").str.replace(r"\.0+$", "", regex=True)
        us_zip = odd.str.extract(_US_ZIP, expand=False).str.zfill(5)
        canadian = odd.str.extract(CANADIAN_POSTAL)
        out[rest] = us_zip.fillna(canadian[0] + " " + canadian[1]).fillna("").astype("str")
    return out.astype("str")


def _normalize_nces_id(values: pd.Series) -> pd.Series:
    text = values.str.strip().str.replace(r"\.0+$", "", regex=True)
    digits = text.str.fullmatch(r"\d+")
    # NCES school IDs (NCESSCH) are 12 digits; spreadsheets drop the leading zero of states 01-09.
    restore = digits & text.str.len().between(9, 11)
    return text.where(~restore, text.str.zfill(12))


@dataclass
class _Fields:
    """Normalized canonical fields of every row, with the notes and rejections found on the way."""

    frame: pd.DataFrame
    notes: np.ndarray
    reject: np.ndarray


def _text(raw: pd.DataFrame, mapping: Mapping[str, str], name: str) -> pd.Series:
    if name not in mapping:
        return pd.Series("", index=raw.index, dtype="str")
    text = raw[mapping[name]].fillna("").astype("str").str.strip()
    short = (text.str.len() <= 4) & (text != "")
    if short.any():
        placeholder = text[short].str.lower().isin(NULL_TOKENS)
        text[placeholder.index[placeholder.to_numpy(dtype=bool)]] = ""
    return text


def _add(notes: np.ndarray, mask: np.ndarray, note: Any) -> None:
    """Add ``note`` (a str, or a callable of the masked row positions) to the notes of ``mask``'s rows."""
    if mask.any():
        value = np.asarray(note(np.flatnonzero(mask)), dtype=object) if callable(note) else note
        old = notes[mask]
        notes[mask] = np.where(old == "", value, old + "; " + value)


def normalize_fields(raw: pd.DataFrame, mapping: Mapping[str, str]) -> _Fields:
    """Return the canonical fields of every row, normalized, with notes and early rejections."""
    n = len(raw)
    notes = np.full(n, "", dtype=object)
    reject = np.full(n, None, dtype=object)
    frame = pd.DataFrame({name: _text(raw, mapping, name) for name in FIELDS}, index=raw.index)
    for name in ("name", "address", "city", "district", "grades", "lead_partner"):
        long = (frame[name].str.len() > MAX_TEXT).to_numpy(dtype=bool)
        if long.any():
            length = frame[name].str.len().astype("str")
            _add(
                notes,
                long,
                lambda rows, length=length, name=name: (
                    f"{name} cut to {MAX_TEXT} characters from " + length.iloc[rows].to_numpy(dtype=object)
                ),
            )
            frame.loc[long, name] = frame.loc[long, name].str[:MAX_TEXT] + "…"

    # One-line addresses ("12 Main St, Springfield, IL 62701") supply missing city, state and ZIP.
    frame["street"] = frame["address"]
    one_line = frame["address"].str.contains(r"\d{5}(?:-\d{4})?\s*$", regex=True) & (
        (frame["zip"] == "") | (frame["city"] == "") | (frame["state"] == "")
    )
    if one_line.any():
        tail = frame.loc[one_line, "address"].str.extract(_ADDRESS_TAIL)
        found = tail["street"].notna()
        frame.loc[tail.index[found], "street"] = tail.loc[found, "street"]
        for name in ("city", "state", "zip"):
            given = frame.loc[tail.index, name]
            frame.loc[tail.index, name] = given.where(given != "", tail[name].fillna("")).astype("str")

    state = _lookup(frame["state"], state_codes())
    unknown_state = ((frame["state"] != "") & state.isna()).to_numpy(dtype=bool)
    _add(notes, unknown_state, lambda rows: "state " + _quoted(frame["state"].iloc[rows]) + " not recognized")
    frame["state"] = state.fillna("").astype("str")

    frame["zip_raw"] = frame["zip"]
    frame["zip"] = normalize_zip(frame["zip"])
    bad_zip = ((frame["zip_raw"] != "") & (frame["zip"] == "")).to_numpy(dtype=bool)
    _add(notes, bad_zip, lambda rows: "ZIP " + _quoted(frame["zip_raw"].iloc[rows]) + " not recognized")

    country_given = _lookup(frame["country"], _COUNTRIES)
    province = frame["state"].isin(list(CANADA_PROVINCES.values()))
    postal = frame["zip"].str.contains(" ", regex=False)
    inferred = np.where(province | postal, "CA", "US")
    country = country_given.fillna(pd.Series(inferred, index=frame.index)).where(~province, "CA")
    foreign = (frame["country"] != "") & country_given.isna()
    foreign = foreign.to_numpy(dtype=bool)
    if foreign.any():
        reject[foreign] = (
            "country " + _quoted(frame["country"][foreign]) + " is outside the map (US and Canada only)"
        )
    frame["country"] = country.astype("str")

    year = frame["year_started"].where(
        (frame["year_started"].str.len() == 4) & frame["year_started"].str.isdigit()
    )
    odd_year = year.isna() & (frame["year_started"] != "")
    if odd_year.any():
        year[odd_year] = frame.loc[odd_year, "year_started"].str.extract(r"((?:18|19|20)\d{2})", expand=False)
    bad_year = ((frame["year_started"] != "") & year.isna()).to_numpy(dtype=bool)
    _add(
        notes,
        bad_year,
        lambda rows: "year started " + _quoted(frame["year_started"].iloc[rows]) + " not understood",
    )
    frame["year_started"] = year.fillna("").astype("str")
    frame["nces_id"] = _normalize_nces_id(frame["nces_id"])

    frame["name_norm"] = fold_text(frame["name"])
    no_name = (frame["name"] == "").to_numpy(dtype=bool)
    reject[no_name & pd.isna(reject)] = "missing school name"
    return _Fields(frame, notes, reject)


def _quoted(values: pd.Series, limit: int = 40) -> np.ndarray:
    text = values.astype("str")
    text = text.where(text.str.len() <= limit, text.str[:limit] + "…")
    return ("'" + text + "'").to_numpy(dtype=object)


# --------------------------------------------------------------------------
# Duplicates: same NCES ID, or same normalized name and ZIP (issue #3).


def duplicate_groups(frame: pd.DataFrame, eligible: np.ndarray) -> np.ndarray:
    """Return, for each row, the position of the row it merges into (itself when unique).

    Rows are linked by the same NCES ID or the same normalized name and
    5-digit ZIP; links are transitive (connected components), and each group
    is represented by its first row. Rows not ``eligible`` stay alone.
    """
    n = len(frame)
    rows = np.arange(n)
    name_zip = frame["name_norm"] + "|" + frame["zip"]
    keys = (
        frame["nces_id"].where(frame["nces_id"] != ""),
        name_zip.where((frame["zip"] != "") & (frame["name"] != "")),
    )
    sources, targets = [rows], [rows]
    for key in keys:
        key = key.where(eligible)
        codes, _ = pd.factorize(key, use_na_sentinel=True)
        valid = codes >= 0
        if not valid.any():
            continue
        # The first row of each key: rows are in order, so np.unique's first index is the smallest.
        _, first_index = np.unique(codes[valid], return_index=True)
        first = rows[valid][first_index][np.unique(codes[valid], return_inverse=True)[1]]
        linked = first != rows[valid]
        if linked.any():
            sources.append(rows[valid][linked])
            targets.append(first[linked])
    if len(sources) == 1:
        return rows
    src, dst = np.concatenate(sources), np.concatenate(targets)
    graph = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    # Each component's smallest row represents it.
    smallest = np.full(label.max() + 1, n, dtype=np.int64)
    np.minimum.at(smallest, label, rows)
    return smallest[label]


def _merge_duplicates(frame: pd.DataFrame, representative: np.ndarray) -> pd.DataFrame:
    """Return ``frame`` with each group's first row filled from the later rows' values."""
    grouped = representative != np.arange(len(frame))
    if not grouped.any():
        return frame
    in_group = np.isin(representative, representative[grouped])
    members = frame[in_group].replace("", pd.NA)
    # Coordinates fill as a pair: never a latitude from one row and a longitude from another.
    complete = members["lat"].notna() & members["lon"].notna()
    pair = (members["lat"].fillna("") + "\x1f" + members["lon"].fillna("")).where(complete)
    members = members.assign(lat=pair, lon=pd.NA)
    filled = members.groupby(representative[in_group], sort=True).first()
    # A group with no complete pair keeps its first row's (incomplete) coordinates, to be reported.
    kept = frame.iloc[filled.index.to_numpy()]
    fallback = (kept["lat"] + "\x1f" + kept["lon"]).to_numpy()
    filled["lat"] = filled["lat"].fillna(pd.Series(fallback, index=filled.index))
    lat_lon = filled["lat"].str.split("\x1f", n=1, expand=True)
    filled["lat"], filled["lon"] = lat_lon[0], lat_lon[1]
    out = frame.copy()
    out.iloc[filled.index.to_numpy()] = filled[frame.columns].fillna("").astype("str").to_numpy()
    return out


# --------------------------------------------------------------------------
# The whole load.


#: Columns of the ``schools`` layer, in order (docs/SCHEMA.md), before geometry.
SCHOOL_COLUMNS = (
    "school_id",
    "name",
    "address",
    "city",
    "state",
    "zip",
    "country",
    "nces_id",
    "district",
    "grades",
    "lead_partner",
    "year_started",
    "nces_locale",
    "lat",
    "lon",
    "geocode_method",
    "precision",
    "geocode_note",
    "statefp",
    "county_fips",
    "zcta",
    "locale4",
    "locale",
    "locale_source",
    "source_rows",
    "is_sample",
)
_TRUE = frozenset({"true", "t", "yes", "y", "1", "x"})


@dataclass
class LoadResult:
    """The outcome of a load: the schools, the rejected rows and the report.

    Attributes
    ----------
    schools : GeoDataFrame
        Points in EPSG:4326 with exactly :data:`SCHOOL_COLUMNS` and geometry.
    rejects : DataFrame
        ``source_row``, ``reason``, then the original columns as read.
    report : dict
        ``rows``, ``loaded``, ``merged``, ``rejected`` (``loaded + merged +
        rejected == rows``), ``by_precision``, ``by_method``, ``duplicates``,
        ``notes``, ``warnings`` and more (docs/SCHOOLS.md).
    """

    schools: gpd.GeoDataFrame
    rejects: pd.DataFrame
    report: dict[str, Any] = field(default_factory=dict)


def prepare_schools(
    raw: pd.DataFrame,
    reference: Reference,
    *,
    is_sample: bool = False,
    online: str | None = None,
    geocode_cache: Path | None = None,
    progress: bool = False,
    columns: Mapping[str, str] | None = None,
    online_base_url: str | None = None,
    online_user_agent: str | None = None,
) -> LoadResult:
    """Turn a read school list into placed, enriched schools; account for every row.

    Parameters
    ----------
    raw : DataFrame
        From :func:`read_school_file` (text values plus ``source_row``), or any
        frame with recognizable headers (``source_row`` is then the row's
        position + 2, as if saved to CSV). Not modified.
    reference : Reference
        The reference layers (geocoding tables, polygons, ZCTAs with locale).
    is_sample : bool
        Mark every school as sample data; a truthy ``is_sample`` column does
        the same row by row.
    online : {"census", "nominatim"}, optional
        Online geocoder for rows with a street address (off by default).
    geocode_cache : Path, optional
        SQLite cache of the online geocoder.
    progress : bool
        Show the online geocoder's progress bar.
    columns : mapping, optional
        ``{field: header}`` mappings; default ``raw.attrs["columns"]``, else
        the synonyms.
    online_base_url, online_user_agent : str, optional
        Passed to the online geocoder (tests point it at a local fake).

    Returns
    -------
    LoadResult
    """
    from geo.enrich import enrich_schools
    from geo.geocode import PRECISIONS, geocode_schools

    raw = raw.reset_index(drop=True)
    if SOURCE_ROW not in raw.columns:
        raw = raw.assign(**{SOURCE_ROW: np.arange(len(raw), dtype="int64") + 2})
    mapping = dict(columns) if columns else raw.attrs.get("columns") or None
    mapping = (
        resolve_columns(list(raw.columns), None)
        if mapping is None
        else resolve_columns(list(raw.columns), mapping)
    )
    n = len(raw)
    source_row = pd.to_numeric(raw[SOURCE_ROW], errors="coerce").fillna(-1).astype("int64").to_numpy()
    fields = normalize_fields(raw, mapping)
    eligible = pd.isna(fields.reject)
    representative = duplicate_groups(fields.frame, eligible)
    frame = _merge_duplicates(fields.frame, representative)
    is_rep = eligible & (representative == np.arange(n))
    rep_rows = np.flatnonzero(is_rep)
    placed, info = geocode_schools(
        frame.iloc[rep_rows],
        reference,
        online=online,
        cache_path=geocode_cache,
        base_url=online_base_url,
        user_agent=online_user_agent,
        progress=progress,
    )

    # Outcome of every row: loaded, merged (into a loaded row), or rejected.
    reason = fields.reject.copy()
    reason[rep_rows] = placed["reject_reason"].to_numpy(dtype=object, na_value=None)
    loaded = np.zeros(n, dtype=bool)
    loaded[rep_rows] = placed["reject_reason"].isna().to_numpy()
    member = eligible & ~is_rep
    rep_reason = reason[representative]
    failed_member = member & pd.notna(rep_reason)
    reason[failed_member] = (
        "duplicate of row "
        + source_row[representative].astype(str)
        + ", which was rejected: "
        + rep_reason.astype(str)
    )[failed_member]
    merged = member & ~failed_member
    rejected = pd.notna(reason) & ~loaded & ~merged
    counts = {"loaded": int(loaded.sum()), "merged": int(merged.sum()), "rejected": int(rejected.sum())}
    if sum(counts.values()) != n:  # the row accounting of issue #3; never silently lose a row
        msg = f"row accounting failed: {counts} does not add up to {n} rows"
        raise AssertionError(msg)

    schools = _assemble(
        frame, fields, placed, rep_rows, loaded, merged, representative, source_row, mapping, raw, is_sample
    )
    schools = enrich_schools(schools, reference)
    # A school with no stated state takes the state its point lies in.
    fips_to_usps = dict(zip(reference.states["statefp"], reference.states["stusps"], strict=False))
    found_state = schools["statefp"].map(fips_to_usps)
    schools["state"] = schools["state"].where(schools["state"].notna(), found_state).astype("str")
    schools = schools[[*SCHOOL_COLUMNS, "geometry"]]

    rejects = _rejects(raw, reason, rejected, source_row)
    report = _report(
        n,
        counts,
        schools,
        placed,
        rep_rows,
        loaded,
        merged,
        representative,
        source_row,
        frame,
        fields,
        info,
        mapping,
        raw,
        PRECISIONS,
    )
    logger.info(
        "schools: %d rows, %d loaded, %d merged, %d rejected",
        n,
        counts["loaded"],
        counts["merged"],
        counts["rejected"],
    )
    return LoadResult(schools=schools, rejects=rejects, report=report)


def _nullable(values: pd.Series | np.ndarray) -> pd.Series:
    text = pd.Series(values, dtype="str")
    return text.where(text != "")


def _assemble(
    frame: pd.DataFrame,
    fields: _Fields,
    placed: pd.DataFrame,
    rep_rows: np.ndarray,
    loaded: np.ndarray,
    merged: np.ndarray,
    representative: np.ndarray,
    source_row: np.ndarray,
    mapping: Mapping[str, str],
    raw: pd.DataFrame,
    is_sample: bool,
) -> gpd.GeoDataFrame:
    keep = np.flatnonzero(loaded)
    ok = placed["reject_reason"].isna().to_numpy()
    geo = placed[ok].reset_index(drop=True)
    rows = frame.iloc[keep].reset_index(drop=True)
    # source_rows: the kept row first, then the rows merged into it, in file order.
    sources = pd.Series(source_row.astype(str))
    absorbed = np.flatnonzero(merged)
    joined = sources.iloc[keep].to_numpy(dtype=object)
    if len(absorbed):
        extra = sources.iloc[absorbed].groupby(representative[absorbed]).agg(";".join)
        position = pd.Series(np.arange(len(keep)), index=keep)
        where = position.reindex(extra.index).to_numpy()
        joined[where] = joined[where] + ";" + extra.to_numpy(dtype=object)
    note = pd.Series(fields.notes[keep], dtype="str")
    geo_note = geo["geocode_note"].fillna("")
    note = (note + np.where((note != "") & (geo_note != ""), "; ", "") + geo_note).astype("str")

    sample_column = rows["is_sample"].str.lower().isin(_TRUE).to_numpy(dtype=bool)
    nces_id = _nullable(rows["nces_id"])
    year = pd.to_numeric(rows["year_started"], errors="coerce").astype("Int64")
    locale_code = pd.Series(pd.NA, index=rows.index, dtype="Int64")
    coded = rows["nces_locale"] != ""
    if coded.any():
        digits = rows.loc[coded, "nces_locale"].str.extract(r"^\s*(\d{2})(?:\.0+)?\b", expand=False)
        locale_code[coded] = pd.to_numeric(digits, errors="coerce").astype("Int64")
    valid_locale = locale_code.isin([11, 12, 13, 21, 22, 23, 31, 32, 33, 41, 42, 43]).to_numpy(dtype=bool)
    bad_locale = (rows["nces_locale"] != "").to_numpy(dtype=bool) & ~valid_locale
    locale_note = np.where(
        bad_locale,
        "NCES locale " + _quoted(rows["nces_locale"]) + " is not a code 11-43; derived instead",
        "",
    )
    note = pd.Series(
        np.where((note != "") & (locale_note != ""), note + "; " + locale_note, note + locale_note),
        dtype="str",
    )
    schools = pd.DataFrame(
        {
            "school_id": _school_ids(rows, nces_id),
            "name": rows["name"].astype("str"),
            "address": _nullable(rows["address"]),
            "city": _nullable(rows["city"]),
            "state": _nullable(rows["state"]),
            "zip": _nullable(rows["zip"].where(rows["zip"] != "", rows["zip_raw"])),
            "country": rows["country"].astype("str"),
            "nces_id": nces_id,
            "district": _nullable(rows["district"]),
            "grades": _nullable(rows["grades"]),
            "lead_partner": _nullable(rows["lead_partner"]),
            "year_started": year,
            "nces_locale": locale_code.where(valid_locale),
            "lat": geo["lat"].astype("float64"),
            "lon": geo["lon"].astype("float64"),
            "geocode_method": geo["geocode_method"].astype("str"),
            "precision": geo["precision"].astype("str"),
            "geocode_note": note.where(note != ""),
            "source_rows": pd.Series(joined, dtype="str"),
            "is_sample": sample_column | bool(is_sample),
        }
    )
    return gpd.GeoDataFrame(schools, geometry=gpd.points_from_xy(schools["lon"], schools["lat"]), crs=WGS84)


def _squash(values: pd.Series) -> pd.Series:
    return values.str.lower().str.replace(r"\s+", " ", regex=True).str.strip()


def _school_ids(rows: pd.DataFrame, nces_id: pd.Series) -> pd.Series:
    """Return ``nces-<id>``, else ``cs-<16 hex digits>`` hashed from name, address, city, state and ZIP.

    The hash is pandas' 64-bit hash of the normalized text (fixed key), so
    reloading the same list gives the same ids; equal keys get ``-2``, ``-3``.
    """
    key = pd.DataFrame(
        {
            "name": rows["name_norm"],
            "address": _squash(rows["address"]),
            "city": _squash(rows["city"]),
            "state": rows["state"],
            "zip": rows["zip"],
        }
    )
    digest = pd.util.hash_pandas_object(key, index=False).to_numpy(dtype="uint64")
    # 16 hex digits per id, formatted in one pass over the bytes rather than per row.
    hex_digits = np.frombuffer(digest.astype(">u8").tobytes().hex().encode("ascii"), dtype="S16")
    made = pd.Series(np.char.add("cs-", hex_digits.astype("U16")), dtype="str")
    ids = ("nces-" + nces_id).fillna(made).astype("str")
    repeated = ids.duplicated(keep=False)
    if not repeated.any():
        return ids
    repeat = ids[repeated].groupby(ids[repeated]).cumcount()
    return ids.where(
        ~repeated | (repeat.reindex(ids.index, fill_value=0) == 0),
        ids + "-" + (repeat.reindex(ids.index, fill_value=0) + 1).astype("str"),
    )


def _rejects(
    raw: pd.DataFrame, reason: np.ndarray, rejected: np.ndarray, source_row: np.ndarray
) -> pd.DataFrame:
    original = raw.loc[rejected, [c for c in raw.columns if c != SOURCE_ROW]].reset_index(drop=True)
    out = pd.DataFrame({SOURCE_ROW: source_row[rejected], "reason": pd.Series(reason[rejected], dtype="str")})
    if "reason" in original.columns or SOURCE_ROW in original.columns:
        original = original.add_suffix(" (file)")
    return pd.concat([out, original], axis=1)


def _report(
    n: int,
    counts: dict[str, int],
    schools: gpd.GeoDataFrame,
    placed: pd.DataFrame,
    rep_rows: np.ndarray,
    loaded: np.ndarray,
    merged: np.ndarray,
    representative: np.ndarray,
    source_row: np.ndarray,
    frame: pd.DataFrame,
    fields: _Fields,
    info: dict[str, Any],
    mapping: Mapping[str, str],
    raw: pd.DataFrame,
    precisions: Sequence[str],
) -> dict[str, Any]:
    ok = placed["reject_reason"].isna().to_numpy()
    by_precision = {p: int((schools["precision"] == p).sum()) for p in precisions}
    by_method = {str(k): int(v) for k, v in schools["geocode_method"].value_counts().items()}
    absorbed = np.flatnonzero(merged)
    duplicates = []
    if len(absorbed):
        same_id = (
            frame["nces_id"].to_numpy()[absorbed] == frame["nces_id"].to_numpy()[representative[absorbed]]
        )
        same_id &= frame["nces_id"].to_numpy()[absorbed] != ""
        table = pd.DataFrame(
            {
                "kept": representative[absorbed],
                "row": source_row[absorbed],
                "match": np.where(same_id, "NCES ID", "name and ZIP"),
            }
        )
        for kept, group in table.groupby("kept", sort=True):
            duplicates.append(
                {
                    "kept_row": int(source_row[kept]),
                    "merged_rows": [int(r) for r in group["row"]],
                    "name": str(frame["name"].iloc[kept]),
                    "match": sorted(set(group["match"])),
                }
            )
    ohio = (
        (schools["state"] == "OH")
        & schools["name"].str.contains("community school", case=False, regex=False)
        & ~schools["is_sample"]
    )
    warnings = list(info.get("warnings", []))
    if ohio.any():
        warnings.append(
            f"{int(ohio.sum())} Ohio school(s) have 'Community School' in their name: in Ohio a 'community "
            "school' is a charter school, not a community school in the Coalition's sense; check them "
            "(docs/SCHOOLS.md, 'The Ohio naming trap')"
        )
    flags = placed[ok]
    notes = {
        "swapped": int((flags["geocode_method"] == "given-swapped").sum()),
        "sign_fixed": int((flags["geocode_method"] == "given-fixed").sum()),
        "outside_state": int(flags["outside_state"].sum()),
        "at_sea_fallback": int(flags["at_sea"].sum()),
        "zip_state_mismatch": int(flags["zip_state_mismatch"].sum()),
        "state_centroid": int((flags["precision"] == "state").sum()),
        "truncated": int(sum("characters from" in str(t) for t in fields.notes[loaded])),
        "ohio_community_school": int(ohio.sum()),
    }
    report: dict[str, Any] = {
        "rows": n,
        **counts,
        "by_precision": by_precision,
        "by_method": by_method,
        "duplicate_groups": len(duplicates),
        "duplicates": duplicates[:1000],
        "notes": notes,
        "warnings": warnings,
        "columns": dict(mapping),
        "blank_rows_skipped": int(raw.attrs.get("blank_rows", 0)),
    }
    if raw.attrs.get("source"):
        report["read"] = raw.attrs["source"]
    if "online" in info:
        report["online"] = info["online"]
    return report
