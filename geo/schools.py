"""The school list load: row accounting, the ``schools`` layer, the rejects and the report.

:func:`prepare_schools` takes a list read by
:func:`geo.school_files.read_school_file`, maps its columns through the
documented synonyms (geo/school_columns.py), normalizes the fields
(geo/school_fields.py), merges duplicates (geo/school_duplicates.py),
geocodes (geo/geocode.py) and enriches (geo/enrich.py), and accounts for
every row: ``loaded + merged + rejected == rows``. docs/SCHOOLS.md is the
user's guide.

The public names of those modules are importable from here too, as they
were when this module held them all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import registry
from geo.crs import WGS84
from geo.reference import Reference
from geo.reference import normalize_place as fold_text
from geo.school_columns import (
    FIELDS,
    GEOMETRY_LAT,
    GEOMETRY_LON,
    SCHOOL_COLUMNS,
    SOURCE_ROW,
    SYNONYMS,
    header_key,
    resolve_columns,
)
from geo.school_duplicates import duplicate_groups, merge_duplicates
from geo.school_fields import (
    CANADIAN_POSTAL,
    MAX_TEXT,
    NULL_TOKENS,
    NormalizedFields,
    normalize_fields,
    normalize_zip,
    quoted,
    state_codes,
)
from geo.school_files import HEADER_SEARCH_ROWS, SNIFF_LINE_CHARS, read_school_file
from geo.school_files import decode_text as _decode  # noqa: F401  (geo/sample.py imports it from here)
from geo.school_report import load_report

__all__ = [
    "CANADIAN_POSTAL",
    "FIELDS",
    "GEOMETRY_LAT",
    "GEOMETRY_LON",
    "HEADER_SEARCH_ROWS",
    "MAX_TEXT",
    "NULL_TOKENS",
    "SCHOOL_COLUMNS",
    "SNIFF_LINE_CHARS",
    "SOURCE_ROW",
    "SYNONYMS",
    "LoadResult",
    "duplicate_groups",
    "fold_text",
    "header_key",
    "normalize_fields",
    "normalize_zip",
    "prepare_schools",
    "read_school_file",
    "resolve_columns",
    "state_codes",
    "why_nothing_loaded",
]

logger = logging.getLogger(__name__)

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
    read_mapping = raw.attrs.get("columns")
    if not columns and read_mapping and all(h in raw.columns for h in read_mapping.values()):
        # Resolved by the reader already: resolving 100,000 headers again costs a second (issue 11).
        mapping = dict(read_mapping)
    else:
        mapping = resolve_columns(list(raw.columns), dict(columns) if columns else read_mapping or None)
    n = len(raw)
    source_row = pd.to_numeric(raw[SOURCE_ROW], errors="coerce").fillna(-1).astype("int64").to_numpy()
    fields = normalize_fields(raw, mapping)
    eligible = pd.isna(fields.reject)
    representative = duplicate_groups(fields.frame, eligible)
    frame = merge_duplicates(fields.frame, representative)
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
    report = load_report(
        counts,
        rows=n,
        schools=schools,
        placed=placed,
        merged=merged,
        loaded=loaded,
        representative=representative,
        source_row=source_row,
        frame=frame,
        fields=fields,
        info=info,
        mapping=mapping,
        raw=raw,
        precisions=PRECISIONS,
    )
    logger.info(
        "schools: %d rows, %d loaded, %d merged, %d rejected",
        n,
        counts["loaded"],
        counts["merged"],
        counts["rejected"],
    )
    return LoadResult(schools=schools, rejects=rejects, report=report)


def why_nothing_loaded(result: LoadResult, name: str) -> str:
    """Return the message for a list of which no row loads: its commonest reasons, counted."""
    reasons = result.rejects["reason"].astype("str").value_counts()
    top = "; ".join(f"{count} x {reason}" for reason, count in reasons.head(3).items())
    return f"no row of {name} could be loaded ({result.report['rows']} rows rejected: {top})"


def _nullable(values: pd.Series | np.ndarray) -> pd.Series:
    text = pd.Series(values, dtype="str")
    return text.where(text != "")


def _assemble(
    frame: pd.DataFrame,
    fields: NormalizedFields,
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
        "NCES locale " + quoted(rows["nces_locale"]) + " is not a code 11-43; derived instead",
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
    # A field with no rule of its own above (a new entry in geo.registry) is kept as given.
    for column in registry.SCHOOLS:
        if column.origin == "input" and column.name not in schools.columns:
            given = _nullable(rows[column.name])
            if column.dtype in ("integer", "number"):
                number = pd.to_numeric(given, errors="coerce")
                given = number.astype("Int64") if column.dtype == "integer" else number.astype("float64")
            schools[column.name] = given
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
