"""What the API and the downloads serve from one build, computed once and cached.

Everything here is keyed in :attr:`webmap.data.BuildData.cache`, so a new
build (a new ``BuildData``) starts afresh. Whole-layer files are serialized
once; a filtered request selects rows by position (the spatial index for a
bounding box, see :func:`geo.query.filter_schools`) and joins pre-serialized
pieces, or writes only the selected rows.

Every file says whether it is sample data and when it was built: GeoJSON has
``is_sample``, ``built_at`` and ``build_id`` foreign members (RFC 7946 §6.1)
and an ``is_sample`` property on every feature; CSV and GeoPackage rows carry
``is_sample`` and ``built_at`` columns, and the GeoPackage also records them
in its metadata, its layer description and an ``about`` table.
"""

from __future__ import annotations

import io
import json
import logging
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from geo import registry
from geo.geojson import feature_strings
from geo.metrics_tables import frame_records
from geo.query import filter_schools
from geo.reach import LatLonIndex
from geo.sample import SAMPLE_NOTICE
from geo.store import csv_safe, json_safe
from webmap.data import BuildData
from webmap.data_dictionary import TITLES
from webmap.params import SchoolFilters

logger = logging.getLogger(__name__)

T = TypeVar("T")

DATASETS = ("schools", "states", "counties")
#: GeoPackage layer of each dataset (the schools are always in memory).
LAYERS = {"states": "state_metrics", "counties": "county_metrics"}
ID_COLUMNS = {"schools": "school_id", "states": "stusps", "counties": "geoid"}
#: Decimal places of coordinates: 6 (~0.1 m) for points as geocoded; 4 (~11 m)
#: for the web-weight polygons, which are simplified far more coarsely (geo/build.py).
PRECISION = {"schools": 6, "states": 4, "counties": 4}

#: Fields of a school in the JSON API, in order (geo.registry; ``source_rows`` is
#: bookkeeping and is left to the downloads).
API_SCHOOL_FIELDS = tuple(c.name for c in registry.api_school_columns())


def cached(data: BuildData, key: str, factory: Callable[[], T]) -> T:
    """Return ``data.cache[key]``, computing it with ``factory`` the first time."""
    try:
        return data.cache[key]
    except KeyError:
        value = factory()
        data.cache[key] = value
        return value


def provenance(data: BuildData) -> dict[str, Any]:
    """Return the members every answer carries: ``is_sample``, ``built_at``, ``build_id``."""
    # The folder name is the build's id (the manifest's copy may predate the rename on publishing).
    return {"is_sample": data.is_sample, "built_at": data.manifest.get("built_at"), "build_id": data.build_id}


def built_on(data: BuildData) -> str:
    """Return the build date as ``YYYYMMDD`` (for file names)."""
    stamp = str(data.manifest.get("built_at") or data.build_id)
    digits = "".join(ch for ch in stamp[:10] if ch.isdigit())
    return digits[:8] or "undated"


# --------------------------------------------------------------------------
# Frames


#: Whole-number columns that a GeoPackage round trip turns into floats when they have nulls.
WHOLE_NUMBER_COLUMNS = registry.integer_columns()


def _whole_numbers(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = frame.copy()
    for column in WHOLE_NUMBER_COLUMNS:
        if column in out.columns and pd.api.types.is_float_dtype(out[column]):
            values = out[column]
            finite = values.dropna()
            if (finite == finite.round()).all():
                out[column] = values.round().astype("Int64")
    return out


def _with_provenance(frame: gpd.GeoDataFrame, data: BuildData) -> gpd.GeoDataFrame:
    out = _whole_numbers(frame)
    if "is_sample" not in out.columns:
        out["is_sample"] = data.is_sample
    out["built_at"] = data.manifest.get("built_at")
    geometry = out.geometry.name
    columns = [c for c in out.columns if c != geometry] + [geometry]
    return out[columns]


def export_frame(data: BuildData, dataset: str) -> gpd.GeoDataFrame:
    """Return the whole dataset as downloaded (EPSG:4326, with is_sample and built_at)."""

    def build() -> gpd.GeoDataFrame:
        source = data.schools if dataset == "schools" else data.layer(LAYERS[dataset])
        return _with_provenance(source, data)

    return cached(data, f"exports/frame/{dataset}", build)


def known_states(data: BuildData) -> frozenset[str]:
    """USPS codes a ``state=`` filter accepts: every state in the build and every school's state."""

    def build() -> frozenset[str]:
        codes: set[str] = set()
        for column in ("stusps", "state"):
            if column in data.schools.columns:
                codes.update(data.schools[column].dropna().astype(str).str.upper())
        try:
            codes.update(data.layer("states")["stusps"].astype(str))
        except Exception as exc:  # a build without a states layer still serves its schools
            logger.warning("no states layer in build %s: %s", data.build_id, exc)
        return frozenset(c for c in codes if len(c) == 2 and c.isalpha())

    return cached(data, "exports/known_states", build)


def county_states(data: BuildData) -> frozenset[str]:
    """USPS codes the counties download's ``state=`` filter accepts: the counties' states."""
    return frozenset(export_frame(data, "counties")["stusps"].astype(str))


def select_positions(data: BuildData, dataset: str, filters: SchoolFilters) -> np.ndarray | None:
    """Return the row positions matching ``filters``, or None for the whole dataset."""
    if filters.is_empty():
        return None
    if dataset == "schools":
        subset = filter_schools(data.schools, **filters.as_kwargs())
        return data.schools.index.get_indexer(subset.index)
    frame = export_frame(data, dataset)
    return np.flatnonzero((frame["stusps"].astype(str) == filters.state).to_numpy())


def _rows(frame: pd.DataFrame, positions: np.ndarray | None) -> pd.DataFrame:
    return frame if positions is None else frame.iloc[positions]


# --------------------------------------------------------------------------
# Serializers


def geojson_bytes(
    data: BuildData,
    dataset: str,
    positions: np.ndarray | None = None,
    *,
    members: Mapping[str, Any] | None = None,
) -> bytes:
    """Return an RFC 7946 FeatureCollection of the dataset's rows at ``positions``.

    Features are serialized once per build and joined per request.
    """

    def build() -> list[str]:
        frame = export_frame(data, dataset)
        properties = [c for c in frame.columns if c not in (frame.geometry.name, "built_at")]
        return feature_strings(
            frame, properties=properties, id_column=ID_COLUMNS[dataset], precision=PRECISION[dataset]
        )

    features = cached(data, f"exports/features/{dataset}", build)
    chosen = features if positions is None else [features[i] for i in positions]
    head: dict[str, Any] = {"type": "FeatureCollection", "name": TITLES[dataset], **provenance(data)}
    if data.is_sample:
        head["notice"] = SAMPLE_NOTICE
    head.update(members or {})
    head["numberReturned"] = len(chosen)
    prefix = json.dumps(json_safe(head), ensure_ascii=False, separators=(",", ":"))[:-1]
    return (prefix + ',"features":[' + ",".join(chosen) + "]}").encode("utf-8")


def csv_bytes(data: BuildData, dataset: str, positions: np.ndarray | None = None) -> bytes:
    """Return UTF-8 CSV (RFC 4180, CRLF) of the rows, formula-injection safe (:func:`geo.store.csv_safe`)."""

    def build() -> pd.DataFrame:
        frame = export_frame(data, dataset)
        return csv_safe(pd.DataFrame(frame.drop(columns=frame.geometry.name)))

    table = cached(data, f"exports/csv/{dataset}", build)
    buffer = io.StringIO()
    _rows(table, positions).to_csv(buffer, index=False, lineterminator="\r\n")
    return buffer.getvalue().encode("utf-8")


def gpkg_bytes(data: BuildData, dataset: str, positions: np.ndarray | None = None) -> bytes:
    """Return a GeoPackage with one layer named after the dataset and an ``about`` table."""
    frame = _rows(export_frame(data, dataset), positions)
    facts = provenance(data)
    about = {
        "title": TITLES[dataset],
        "is_sample": "true" if facts["is_sample"] else "false",
        "built_at": str(facts["built_at"]),
        "build_id": str(facts["build_id"]),
        "rows": str(len(frame)),
        "crs": "EPSG:4326",
        "notice": SAMPLE_NOTICE if facts["is_sample"] else "",
    }
    description = f"{TITLES[dataset]}; built {about['built_at']}"
    if facts["is_sample"]:
        description = "SAMPLE DATA - " + description
    with tempfile.TemporaryDirectory(prefix="csmap-gpkg-") as folder:
        path = Path(folder) / f"{dataset}.gpkg"
        pyogrio.write_dataframe(
            frame,
            path,
            layer=dataset,
            driver="GPKG",
            layer_options={"DESCRIPTION": description},
            dataset_metadata=about,
            layer_metadata={"is_sample": about["is_sample"], "built_at": about["built_at"]},
        )
        pyogrio.write_dataframe(
            pd.DataFrame({"key": list(about), "value": list(about.values())}),
            path,
            layer="about",
            driver="GPKG",
        )
        return path.read_bytes()


# --------------------------------------------------------------------------
# API pieces


def school_records(data: BuildData) -> list[dict[str, Any]]:
    """Return every school as a JSON-safe dict of :data:`API_SCHOOL_FIELDS` (cached)."""

    def build() -> list[dict[str, Any]]:
        fields = [f for f in API_SCHOOL_FIELDS if f in data.schools.columns]
        return frame_records(pd.DataFrame(_whole_numbers(data.schools)[fields]))

    return cached(data, "exports/school_records", build)


def school_json(data: BuildData) -> list[str]:
    """Return every school's API record as a compact JSON object string (cached).

    Answers are assembled by joining these strings, so a request pays for
    no per-field conversion (the nearest-school endpoint is on the hot path).
    """

    def build() -> list[str]:
        return [
            json.dumps(record, ensure_ascii=False, separators=(",", ":")) for record in school_records(data)
        ]

    return cached(data, "exports/school_json", build)


def school_index(data: BuildData) -> LatLonIndex:
    """Return the nearest-school index over the build's schools (built once per build)."""

    def build() -> LatLonIndex:
        points = data.schools.geometry
        return LatLonIndex(points.y.to_numpy(), points.x.to_numpy())

    return cached(data, "school_index", build)


def metrics_document(data: BuildData) -> dict[str, Any]:
    """Return the build's metrics.json (docs/METRICS.md), read once."""

    def build() -> dict[str, Any]:
        return json.loads((data.build_dir / "metrics.json").read_text(encoding="utf-8"))

    return cached(data, "exports/metrics", build)


def coalitions_table(data: BuildData) -> pd.DataFrame:
    """Return the build's coalitions table (one row per state or territory)."""

    def build() -> pd.DataFrame:
        from geo import store

        return store.read_table(data.build_dir, "coalitions")

    return cached(data, "exports/coalitions", build)
