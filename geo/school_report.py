"""The report of a school list load: counts, precision, duplicates merged, notes and warnings.

docs/SCHOOLS.md describes each entry for users.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.school_fields import NormalizedFields

#: Duplicate groups and flagged rows listed in the report (all are counted).
MAX_LISTED = 1000


def flagged_rows(schools: gpd.GeoDataFrame, limit: int = MAX_LISTED) -> list[dict[str, Any]]:
    """Return the loaded schools that carry a note, in file order: row number, name and note.

    ``row`` is the school's row in the file (the kept row of a duplicate
    group); ``rows`` lists the group's rows when duplicates were merged.
    The first ``limit`` are returned (the schools are in file order).
    """
    noted = schools[schools["geocode_note"].notna()].iloc[:limit]
    out = []
    for sources, name, note in zip(noted["source_rows"], noted["name"], noted["geocode_note"], strict=True):
        numbers = [int(r) for r in str(sources).split(";") if r.strip().lstrip("-").isdigit()]
        entry: dict[str, Any] = {"row": numbers[0] if numbers else None, "name": str(name), "note": str(note)}
        if len(numbers) > 1:
            entry["rows"] = numbers
        out.append(entry)
    return out


def load_report(
    counts: dict[str, int],
    *,
    rows: int,
    schools: gpd.GeoDataFrame,
    placed: pd.DataFrame,
    loaded: np.ndarray,
    merged: np.ndarray,
    representative: np.ndarray,
    source_row: np.ndarray,
    frame: pd.DataFrame,
    fields: NormalizedFields,
    info: dict[str, Any],
    mapping: Mapping[str, str],
    raw: pd.DataFrame,
    precisions: Sequence[str],
) -> dict[str, Any]:
    """Return the report of a load (see :class:`geo.schools.LoadResult`).

    Parameters
    ----------
    counts : dict
        ``loaded``, ``merged`` and ``rejected`` row counts.
    rows : int
        Rows read.
    schools : GeoDataFrame
        The loaded schools, enriched.
    placed : DataFrame
        The geocoder's output for each group's first row (geo/geocode.py).
    loaded, merged : ndarray of bool
        Each row's outcome.
    representative : ndarray of int
        The row each row merges into (:func:`geo.school_duplicates.duplicate_groups`).
    source_row : ndarray of int
        Each row's number in the file.
    frame : DataFrame
        The normalized fields, duplicates merged.
    fields : NormalizedFields
        The normalized fields with their notes.
    info : dict
        The geocoder's ``warnings`` and ``online`` summary.
    mapping : mapping
        The resolved ``{field: header}`` columns.
    raw : DataFrame
        The list as read (its ``attrs`` give ``blank_rows`` and ``source``).
    precisions : sequence of str
        Geocoding precisions, best first (:data:`geo.geocode.PRECISIONS`).
    """
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
        "rows": rows,
        **counts,
        "by_precision": by_precision,
        "by_method": by_method,
        "duplicate_groups": len(duplicates),
        "duplicates": duplicates[:MAX_LISTED],
        "flagged_rows": int(schools["geocode_note"].notna().sum()),
        "flagged": flagged_rows(schools),
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
