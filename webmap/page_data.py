"""What the pages read from a build, shaped for templates and map scripts, cached per build.

Map data is compact on purpose (issue #5 page weight): the schools travel as a
columnar array of rounded coordinates and a precision code, and a popup's
details are fetched by row when it opens; the states and counties travel as
GeoJSON with only the properties their tooltips show. Everything is cached in
:attr:`webmap.data.BuildData.cache`, so a new build starts afresh.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from flask import url_for

from geo import areas
from geo.errors import NoBuildError, NotFoundError
from geo.geojson import feature_collection
from geo.reference import normalize_place
from geo.store import json_safe
from webmap.data import BuildData
from webmap.exports import cached
from webmap.figures import MAP_METRICS, Legend, classify

logger = logging.getLogger(__name__)

#: Coordinates of school points on the overview maps: 4 decimals, about 11 m,
#: finer than any cluster and than a ZIP centroid; popups give the address.
POINT_DECIMALS = 4
#: Geocode precision codes in the compact array, best first (docs/SCHEMA.md "precision").
PRECISIONS = ("given", "street", "zip", "city", "state")
#: Precisions that place a school only at its ZIP, city or state centre.
LOW_PRECISIONS = frozenset({"zip", "city", "state"})
POPUP_FIELDS = (
    "school_id",
    "name",
    "address",
    "city",
    "state",
    "zip",
    "grades",
    "lead_partner",
    "district",
    "precision",
    "geocode_method",
    "geocode_note",
    "is_sample",
)
STATE_PROPERTIES = [
    "stusps",
    "name",
    "community_schools",
    "children",
    "unserved_high_poverty_children",
    "coalition_status",
    "desert_counties",
    *MAP_METRICS,
]
COUNTY_PROPERTIES = [
    "geoid",
    "name",
    "community_schools",
    "children",
    "children_within_reach",
    "reach_share",
    "unserved_children",
    "unserved_high_poverty_children",
    "is_desert",
]


def _dumps(document: Any) -> bytes:
    return json.dumps(json_safe(document), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def metrics_document(data: BuildData) -> dict[str, Any]:
    """Return the build's metrics.json (docs/METRICS.md), read once."""

    def read() -> dict[str, Any]:
        path = data.build_dir / "metrics.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            msg = f"build {data.build_id} has no readable metrics.json ({exc})"
            raise NoBuildError(msg) from exc

    return cached(data, "pages/metrics", read)


def state_rows(data: BuildData) -> dict[str, dict[str, Any]]:
    """Return the metrics of each in-scope state by USPS code, ordered by name."""
    states = metrics_document(data).get("states", {})
    return dict(sorted(states.items(), key=lambda item: str(item[1].get("name", item[0]))))


def state_row(data: BuildData, code: str) -> dict[str, Any]:
    """Return one state's metrics; NotFoundError for a code the build does not cover."""
    rows = metrics_document(data).get("states", {})
    if code not in rows:
        msg = f"unknown state {code!r}: the map covers the 50 states, DC and PR (e.g. 'TX')"
        raise NotFoundError(msg)
    return rows[code]


def national_legends(data: BuildData) -> list[Legend]:
    """Return one classed legend per choropleth metric, over the states."""

    def build() -> list[Legend]:
        rows = list(metrics_document(data).get("states", {}).values())
        return [classify(key, (row.get(key) for row in rows)) for key in MAP_METRICS]

    return cached(data, "pages/national_legends", build)


# --------------------------------------------------------------------------
# Map data (bytes, served by the pages blueprint)


def schools_array(data: BuildData, state: str | None = None) -> bytes:
    """Return the schools as a compact columnar JSON array (all, or one state's).

    Members: ``build`` (id, for popup requests), ``lat``, ``lon`` (rounded),
    ``p`` (index into ``precisions``) and ``row`` (positions in the build's
    schools layer, omitted for all schools, where the row is the position).
    """

    def build() -> bytes:
        schools = data.schools
        positions = None
        if state is not None:
            positions = np.flatnonzero((school_states(data) == state).to_numpy())
            schools = schools.iloc[positions]
        codes = {name: i for i, name in enumerate(PRECISIONS)}
        precision = schools["precision"].map(codes).fillna(len(PRECISIONS) - 1).astype(int)
        document = {
            "build": data.build_id,
            "count": len(schools),
            "precisions": list(PRECISIONS),
            "lat": np.round(schools.geometry.y.to_numpy(float), POINT_DECIMALS).tolist(),
            "lon": np.round(schools.geometry.x.to_numpy(float), POINT_DECIMALS).tolist(),
            "p": precision.tolist(),
        }
        if positions is not None:
            document["row"] = positions.tolist()
        return _dumps(document)

    return cached(data, f"pages/schools_array/{state or 'all'}", build)


def school_states(data: BuildData) -> pd.Series:
    """Return each school's USPS state code as the metrics count it (:func:`geo.areas.school_states`)."""

    def build() -> pd.Series:
        states = metrics_document(data).get("states", {})
        return areas.school_states(
            data.schools, {str(row.get("statefp")): code for code, row in states.items()}
        )

    return cached(data, "pages/school_states", build)


def school_popup(data: BuildData, row: int) -> dict[str, Any]:
    """Return the popup fields of the school at position ``row``."""
    if not 0 <= row < len(data.schools):
        msg = f"no school at row {row!r} of build {data.build_id!r} ({len(data.schools)} schools)"
        raise NotFoundError(msg)
    record = data.schools.iloc[row]
    out = {name: record.get(name) for name in POPUP_FIELDS}
    out["low_precision"] = str(out.get("precision")) in LOW_PRECISIONS
    # The school's own page (webmap.school_page): contact, directions, coalition, nearby schools.
    out["page_url"] = url_for("schools.page", school_id=str(out["school_id"]))
    return json_safe(out)


def _areas_geojson(data: BuildData, frame: gpd.GeoDataFrame, wanted: Sequence[str], id_column: str) -> bytes:
    """Serialize map areas with the wanted properties they have (GeoJSON, 4 decimals, provenance)."""
    return feature_collection(
        frame,
        properties=[c for c in wanted if c in frame.columns],
        id_column=id_column,
        precision=4,
        members={"build_id": data.build_id, "is_sample": data.is_sample},
    )


def states_geojson(data: BuildData) -> bytes:
    """Return the states with the properties the national map shows (GeoJSON, 4 decimals)."""

    def build() -> bytes:
        return _areas_geojson(data, data.layer("state_metrics"), STATE_PROPERTIES, "stusps")

    return cached(data, "pages/states_geojson", build)


def county_frame(data: BuildData, code: str) -> gpd.GeoDataFrame:
    """Return the counties of one state with their metrics."""
    frame = data.layer("county_metrics")
    return frame[frame["stusps"].astype(str) == code]


def counties_geojson(data: BuildData, code: str) -> bytes:
    """Return one state's counties with the properties the state map shows."""

    def build() -> bytes:
        return _areas_geojson(data, county_frame(data, code), COUNTY_PROPERTIES, "geoid")

    return cached(data, f"pages/counties_geojson/{code}", build)


def county_legend(data: BuildData, code: str) -> Legend:
    """Return the legend of unserved children over one state's counties."""
    return cached(
        data,
        f"pages/county_legend/{code}",
        lambda: classify("unserved_children", county_frame(data, code)["unserved_children"].tolist()),
    )


def state_bounds(data: BuildData, code: str) -> list[list[float]]:
    """Return ``[[south, west], [north, east]]`` of a state, for folium (:func:`geo.areas.state_bounds`)."""

    def build() -> list[list[float]]:
        return areas.state_bounds(data.layer("state_metrics"), code)

    return cached(data, f"pages/state_bounds/{code}", build)


# --------------------------------------------------------------------------
# Tables for the pages


def locale_rows(document: dict[str, Any], scheme: str) -> list[dict[str, Any]]:
    """Return the rows of one locale scheme (``locale``: urban/suburban/rural; ``locale4``)."""
    return list(document.get(scheme, {}).values())


def state_deserts(data: BuildData, code: str) -> list[dict[str, Any]]:
    """Return the desert counties of a state, most children first."""
    return [row for row in metrics_document(data).get("deserts", []) if row.get("stusps") == code]


def state_coalitions(data: BuildData, code: str) -> list[dict[str, Any]]:
    """Return the coalitions table rows of a state (name, status, area)."""

    def build() -> list[dict[str, Any]]:
        try:
            frame = data.layer("coalitions")
        except Exception as exc:  # an older build without the layer still has the status in its metrics
            logger.warning("no coalitions layer in build %s: %s", data.build_id, exc)
            return []
        rows = frame[frame["stusps"].astype(str) == code]
        columns = [c for c in ("coalition_name", "status", "area_type") if c in rows.columns]
        return [
            json_safe(dict(zip(columns, values, strict=True)))
            for values in rows[columns].itertuples(index=False)
        ]

    return cached(data, f"pages/coalitions/{code}", build)


def find_tables(data: BuildData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the ZIP points (with normalized city names) and gazetteer for :func:`geo.find.resolve_query`."""

    def build() -> tuple[pd.DataFrame, pd.DataFrame]:
        zips = pd.DataFrame(data.layer("zip_points")).drop(columns="geometry", errors="ignore")
        zips = zips.assign(zip=zips["zip"].astype(str), city_norm=normalize_place(zips["city"]))
        gazetteer = pd.DataFrame(data.layer("gazetteer")).drop(columns="geometry", errors="ignore")
        return zips, gazetteer

    return cached(data, "pages/find_tables", build)


def search_schools(data: BuildData) -> pd.DataFrame:
    """Return the schools' names, districts and points for :func:`geo.find.search` (name search)."""

    def build() -> pd.DataFrame:
        from rapidfuzz import utils

        schools = data.schools
        columns = [c for c in ("name", "district", "city", "state") if c in schools.columns]
        table = pd.DataFrame(schools[columns]).reset_index(drop=True)
        table["lat"] = schools.geometry.y.to_numpy()
        table["lon"] = schools.geometry.x.to_numpy()
        table["name_norm"] = [utils.default_process(str(n or "")) for n in table["name"]]
        if "district" in table.columns:
            unique = sorted(set(table["district"].dropna().astype(str)) - {""})
            table.attrs["districts"] = (unique, [utils.default_process(d) for d in unique])
        return table

    return cached(data, "pages/search_schools", build)
