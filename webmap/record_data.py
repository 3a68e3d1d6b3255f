"""Per-build caches of the record tables for the API and pages (docs/RECORDS.md).

Reads the build's ``coalitions``, ``communities``, ``partners`` and link
layers once per build (webmap.exports.cached) and shapes them for the views.
An older build without the record layers reads as empty tables.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import numpy as np
import pandas as pd

from geo import registry, store
from geo.geojson import feature_collection
from geo.metrics_tables import frame_records
from geo.records import split_list
from webmap.data import BuildData
from webmap.exports import cached, provenance

logger = logging.getLogger(__name__)

#: The record tables the API serves, and the column of each that is a ';'-joined list.
TABLES = ("coalitions", "communities", "partners")
LIST_COLUMNS = {"coalitions": ("county_fips",), "communities": ("county_fips", "school_ids"), "partners": ()}


def table(data: BuildData, name: str) -> pd.DataFrame:
    """Return a record table of the build (no geometry); empty with its columns when absent."""

    def build() -> pd.DataFrame:
        try:
            frame = store.read_table(data.build_dir, name)
        except Exception:  # an older build has no such layer  # noqa: BLE001
            logger.warning("build %s has no %s layer; serving it empty", data.build_id, name)
            frame = pd.DataFrame({c.name: [] for c in registry.dataset_columns(name)})
        whole = registry.integer_columns()
        for column in frame.columns:
            if column in whole:
                frame[column] = pd.to_numeric(frame[column]).fillna(0).astype("int64")
        return frame

    return cached(data, f"records/{name}", build)


def records(data: BuildData, name: str) -> list[dict[str, Any]]:
    """Return the rows of a record table as JSON objects (list columns split into arrays)."""

    def build() -> list[dict[str, Any]]:
        rows = frame_records(table(data, name))
        for row in rows:
            for column in LIST_COLUMNS.get(name, ()):
                row[column] = split_list(row.get(column) or "")
        return rows

    return cached(data, f"records/{name}/json", build)


def csv_bytes(data: BuildData, name: str) -> bytes:
    """Return a record table as CSV with ``is_sample`` and ``built_at`` on every row."""

    def build() -> bytes:
        frame = table(data, name).copy()
        frame["is_sample"] = frame["is_sample"].astype(bool) if "is_sample" in frame else data.is_sample
        frame["built_at"] = provenance(data)["built_at"]
        buffer = io.StringIO()
        store.csv_safe(frame).to_csv(buffer, index=False)
        return buffer.getvalue().encode("utf-8")

    return cached(data, f"records/{name}/csv", build)


def partner(data: BuildData, partner_id: str) -> dict[str, Any] | None:
    """Return one partner's row, or None."""
    rows = {r["partner_id"]: r for r in records(data, "partners")}
    return rows.get(partner_id)


def partner_schools(data: BuildData, partner_id: str) -> list[dict[str, Any]]:
    """Return the schools a partner works with: name, city, state, role, lat, lon, row (layer position)."""
    links = table(data, "partner_schools")
    mine = links[links["partner_id"].astype(str) == partner_id]
    schools = data.schools
    position = pd.Series(np.arange(len(schools)), index=schools["school_id"].astype(str))
    out = []
    for school_id, role in zip(mine["school_id"].astype(str), mine["role"].astype(str), strict=True):
        if school_id not in position.index:
            continue
        row = int(position[school_id])
        school = schools.iloc[row]
        out.append(
            {
                "school_id": school_id,
                "name": str(school["name"]),
                "city": None if pd.isna(school.get("city")) else str(school["city"]),
                "stusps": None if pd.isna(school.get("stusps")) else str(school["stusps"]),
                "role": role,
                "lat": round(float(school.geometry.y), 5),
                "lon": round(float(school.geometry.x), 5),
                "row": row,
            }
        )
    return sorted(out, key=lambda s: (s["role"] != "lead", s["name"]))


def state_communities(data: BuildData, code: str) -> list[dict[str, Any]]:
    """Return a state's Coalition Communities, largest first."""
    rows = [r for r in records(data, "communities") if r.get("stusps") == code]
    return sorted(rows, key=lambda r: (-(r.get("school_count") or 0), r.get("name") or ""))


def communities_geojson(data: BuildData, state: str | None = None) -> bytes:
    """Return the community areas as GeoJSON (WGS84), all or one state's."""

    def build() -> bytes:
        try:
            areas = data.layer("community_areas")
        except Exception:  # an older build has no such layer  # noqa: BLE001
            return b'{"type":"FeatureCollection","features":[]}'
        if state is not None:
            areas = areas[areas["stusps"] == state]
        keep = [
            "community_id",
            "name",
            "stusps",
            "lead_organization",
            "lead_type",
            "area_type",
            "school_count",
        ]
        return feature_collection(
            areas[[*keep, "geometry"]], id_column="community_id", precision=4, members=provenance(data)
        )

    return cached(data, f"records/community_areas/{state or 'all'}", build)
