"""RFC 7946 GeoJSON serialization: WGS84 lon/lat, no ``crs`` member, compact.

Geometries are serialized in C by shapely (``to_geojson``); properties by the
standard json module. NaN and missing values become ``null``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import WGS84, require_crs
from geo.store import json_safe

logger = logging.getLogger(__name__)


def _column_values(series: pd.Series, digits: int | None = None) -> list[Any]:
    if pd.api.types.is_bool_dtype(series):
        return [None if v is pd.NA else bool(v) for v in series.astype(object)]
    if pd.api.types.is_integer_dtype(series):
        return [None if v is pd.NA else int(v) for v in series.astype(object)]
    if pd.api.types.is_float_dtype(series):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        if digits is not None:
            values = np.round(values, digits)
        return [None if not np.isfinite(v) else float(v) for v in values]
    return [
        None if (v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))) else v
        for v in series.astype(object)
    ]


def feature_strings(
    frame: gpd.GeoDataFrame,
    *,
    properties: Sequence[str] | None = None,
    id_column: str | None = None,
    precision: int | None = 6,
    digits: int | None = None,
) -> list[str]:
    """Return one compact GeoJSON Feature string per row (EPSG:4326 output).

    Parameters
    ----------
    frame : GeoDataFrame
        Any CRS; reprojected to WGS84 here, at the output edge.
    properties : sequence of str, optional
        Columns to include (default: every non-geometry column).
    id_column : str, optional
        Column whose value becomes the Feature ``id``.
    precision : int or None
        Decimal places kept in coordinates; None keeps them exactly as stored.
    digits : int, optional
        Decimal places kept in float properties (web layers use 4).
    """
    require_crs(frame, name="GeoJSON frame")
    out = frame if frame.crs.equals(WGS84) else frame.to_crs(WGS84)
    names = [c for c in (properties or out.columns) if c != out.geometry.name]
    columns = {name: _column_values(out[name], digits) for name in names}
    snapped = out.geometry.array
    if precision is not None:
        snapped = shapely.set_precision(snapped, 10.0**-precision)
    geoms = shapely.to_geojson(snapped, indent=None)
    ids = _column_values(out[id_column]) if id_column else None
    features = []
    for i, geom in enumerate(geoms):
        props = {name: columns[name][i] for name in names}
        head = '{"type":"Feature",'
        if ids is not None:
            head += '"id":' + json.dumps(ids[i]) + ","
        features.append(
            head
            + '"properties":'
            + json.dumps(props, ensure_ascii=False, separators=(",", ":"))
            + ',"geometry":'
            + (geom if geom is not None else "null")
            + "}"
        )
    return features


def feature_collection(
    frame: gpd.GeoDataFrame,
    *,
    properties: Sequence[str] | None = None,
    id_column: str | None = None,
    precision: int = 6,
    digits: int | None = None,
    members: Mapping[str, Any] | None = None,
) -> bytes:
    """Serialize a frame as an RFC 7946 FeatureCollection (UTF-8 bytes).

    ``members`` are extra top-level (foreign) members such as the build's
    ``is_sample`` flag and build time; RFC 7946 §6.1 allows them.
    """
    features = feature_strings(
        frame, properties=properties, id_column=id_column, precision=precision, digits=digits
    )
    head = {"type": "FeatureCollection"}
    head.update(json_safe(dict(members or {})))
    prefix = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
    return (prefix + ',"features":[' + ",".join(features) + "]}").encode("utf-8")
