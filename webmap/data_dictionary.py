"""The data dictionary of the downloads: every column, its type and meaning.

Descriptions come from the one registry of columns and metrics
(:mod:`geo.registry`; docs/SCHEMA.md and docs/METRICS.md define them). The
column lists and types come from the build's frames at run time, so the
dictionary always matches the files; a column the registry does not describe
is listed with a pointer to the docs, and a test flags it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import pandas as pd

from geo import registry
from webmap.i18n import N_

logger = logging.getLogger(__name__)

METRICS_DOC = "docs/METRICS.md"

#: Marked for the Spanish catalog (webmap.i18n.N_); pages translate them, files keep the English.
TITLES = {
    "schools": N_("Community Schools (points)"),
    "states": N_("States with coverage and gap metrics (polygons)"),
    "counties": N_("Counties with coverage and gap metrics (polygons)"),
}


def column_type(series: pd.Series) -> str:
    """Return a plain type name for a column: boolean, integer, number, text or geometry."""
    if getattr(series, "dtype", None) is not None and str(series.dtype) == "geometry":
        return "geometry"
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_float_dtype(series):
        return "number"
    return "text"


def describe(dataset: str, column: str) -> str:
    """Return the description of one column (geo.registry), or a pointer to the docs when unknown."""
    text = registry.describe(dataset, column)
    if text is None:
        return f"see {METRICS_DOC}"
    return text


def dictionary_rows(frames: Mapping[str, pd.DataFrame]) -> list[dict[str, str]]:
    """Return one row per (dataset, column) of the given export frames.

    Parameters
    ----------
    frames : mapping
        ``{dataset: frame}`` as downloaded; the geometry column is listed as
        ``geometry`` (GeoJSON and GeoPackage only; the CSVs carry lat/lon or none).
    """
    rows = []
    for dataset, frame in frames.items():
        for column in frame.columns:
            if column == "geometry":
                kind = "point" if dataset == "schools" else "polygon"
                rows.append(
                    {
                        "dataset": dataset,
                        "column": "geometry",
                        "type": "geometry",
                        "description": f"{kind}, WGS84 lon/lat (GeoJSON and GeoPackage only)",
                    }
                )
                continue
            rows.append(
                {
                    "dataset": dataset,
                    "column": column,
                    "type": column_type(frame[column]),
                    "description": describe(dataset, column),
                }
            )
    return rows
