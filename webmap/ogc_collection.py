"""One OGC API – Features collection served from an in-memory frame (see :mod:`webmap.ogc_core`).

Items are served from the same in-memory frames as the rest of the app. A
``bbox`` goes through the frame's spatial index (an STRtree, see
:func:`geo.query.bbox_positions`); ``state`` and ``locale`` are vectorized
masks computed once per value (the same rules as :func:`geo.query.filter_schools`),
so no request loops over every feature in Python. Features are serialized
to GeoJSON once per build and a page is a join of pre-encoded bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import WGS84, require_crs
from geo.geojson import feature_strings
from geo.query import bbox_positions, filter_schools
from webmap.data_dictionary import column_type

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class Collection:
    """One feature collection served from an in-memory frame.

    Parameters
    ----------
    id : str
        The collection id in URLs (``schools``, ``states``, ``counties``).
    title, description : str
    frame : GeoDataFrame
        The features; reprojected to EPSG:4326 here if needed (never mutated).
    id_column : str
        Column whose values are the feature ids (unique).
    filters : tuple of str
        Property filters the items endpoint accepts: ``state`` and/or ``locale``.
    precision : int, optional
        Decimal places of coordinates in the GeoJSON; by default as stored.
    column_descriptions : mapping, optional
        Column meanings for the JSON schema and the HTML pages.
    """

    id: str
    title: str
    description: str
    frame: gpd.GeoDataFrame
    id_column: str
    filters: tuple[str, ...] = ("state",)
    precision: int | None = None
    column_descriptions: Mapping[str, str] = field(default_factory=dict)
    _memo: dict[Any, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        require_crs(self.frame, name=f"collection {self.id!r}")
        if not self.frame.crs.equals(WGS84):
            self.frame = self.frame.to_crs(WGS84)
        if self.id_column not in self.frame.columns:
            msg = f"collection {self.id!r} has no id column {self.id_column!r}"
            raise ValueError(msg)

    def _cached(self, key: Any, build: Callable[[], Any]) -> Any:
        try:
            return self._memo[key]
        except KeyError:
            value = self._memo[key] = build()
            return value

    def features(self) -> list[bytes]:
        """Every feature as compact GeoJSON bytes, serialized once."""

        def build() -> list[bytes]:
            texts = feature_strings(self.frame, id_column=self.id_column, precision=self.precision)
            return [text.encode("utf-8") for text in texts]

        return self._cached("features", build)

    def position_of(self, feature_id: str) -> int | None:
        """Return the row position of a feature id, or None."""

        def build() -> dict[str, int]:
            ids = self.frame[self.id_column].astype(str).tolist()
            return {value: i for i, value in enumerate(ids)}

        return self._cached("ids", build).get(feature_id)

    def extent(self) -> list[float] | None:
        """``[minx, miny, maxx, maxy]`` in CRS84 from the frame's total bounds; None when empty."""

        def build() -> list[float] | None:
            if self.frame.empty:
                return None
            bounds = self.frame.total_bounds
            return [float(v) for v in bounds] if np.isfinite(bounds).all() else None

        return self._cached("extent", build)

    def _filter_keys(self) -> pd.DataFrame:
        # The columns geo.query.filter_schools reads, on a positional index, so that
        # its matches are row positions; states and counties have only stusps.
        def build() -> pd.DataFrame:
            keys = pd.DataFrame(index=pd.RangeIndex(len(self.frame)))
            for column in ("stusps", "state", "locale", "locale4"):
                if column in self.frame.columns:
                    keys[column] = self.frame[column].to_numpy()
            if "state" not in keys.columns and "stusps" in keys.columns:
                keys["state"] = keys["stusps"]
            return keys

        return self._cached("filter_keys", build)

    def _value_positions(self, name: str, value: str) -> np.ndarray:
        """Sorted positions matching one property filter (validated, then cached per value)."""
        normal = value.strip().upper() if name == "state" else value.strip().lower()
        key = ("filter", name, normal)
        if key not in self._memo:
            one_filter: dict[str, Any] = {name: value}
            matched = filter_schools(self._filter_keys(), **one_filter)  # raises on a bad value
            self._memo[key] = matched.index.to_numpy(dtype=np.int64)
        return self._memo[key]

    def select(
        self,
        *,
        bbox: Sequence[float] | None = None,
        state: str | None = None,
        locale: str | None = None,
    ) -> np.ndarray | None:
        """Return the sorted row positions matching every filter, or None for all rows."""
        chosen: np.ndarray | None = None
        for name, value in (("state", state), ("locale", locale)):
            if value is not None:
                chosen = _intersect(chosen, self._value_positions(name, value))
        if bbox is not None:
            # The geometry column is kept as one GeoSeries: its STRtree is built on the
            # first query and reused (frame.geometry would make a new Series each time).
            geometries = self._cached("geometries", lambda: self.frame.geometry)
            chosen = _intersect(chosen, bbox_positions(geometries, bbox))
        return chosen

    def schema(self) -> dict[str, Any]:
        """Return the JSON Schema facts of the properties (types from the frame's dtypes)."""

        def build() -> dict[str, Any]:
            properties = {}
            for column in self.frame.columns:
                if column == self.frame.geometry.name:
                    continue
                entry: dict[str, Any] = {"type": _json_type(self.frame[column])}
                if entry["type"] == "integer" and _beyond_int32(self.frame[column]):
                    # GDAL's OAPIF driver reads "integer" as a 32-bit field and overflows
                    # (e.g. aland, m²); "number" keeps such whole numbers exact up to 2**53.
                    entry = {"type": "number", "format": "int64"}
                if column in self.column_descriptions:
                    entry["description"] = self.column_descriptions[column]
                properties[column] = entry
            kinds = sorted(set(self.frame.geom_type.dropna())) or ["Geometry"]
            return {"properties": properties, "geometry_types": kinds}

        return self._cached("schema", build)


def _intersect(left: np.ndarray | None, right: np.ndarray) -> np.ndarray:
    if left is None:
        return np.asarray(right, dtype=np.int64)
    return np.intersect1d(left, right, assume_unique=True)


def _beyond_int32(series: pd.Series) -> bool:
    values = series.dropna()
    return bool(len(values)) and (values.max() > 2**31 - 1 or values.min() < -(2**31))


def _json_type(series: pd.Series) -> str:
    # The data dictionary's plain names are JSON Schema's, but for its "text".
    kind = column_type(series)
    return "string" if kind == "text" else kind
