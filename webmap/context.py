"""Map context the page scripts draw over the basemap: place names, state outlines and labels.

The embedded basemap stops at zoom 6 (webmap.tiles), so what lets people orient
themselves closer in is drawn as vector layers from data the build already has:

- ``/map/context/places/<tier>.json``: GeoNames places (cities1000, US and Canada) as
  a columnar array, most populous first. ``major`` (50,000 people or more) is loaded
  with the page; ``all`` only once someone zooms in far enough to need it. The page
  script thins them by population for each zoom and drops any label that would
  overlap one already placed (static/js/csmap-context.js).
- ``/map/context/states.geojson``: every state's outline (web weight, no figures),
  with a label point inside its largest part; ``/map/context/state-labels.json`` the
  label points alone (the national map, whose choropleth draws the outlines).
- ``/map/context/counties/<code>.json``: a state's county names at label points.

Everything is cached per build and served with an ETag, as the other map data.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pandas as pd
from flask import Blueprint, url_for

from geo.errors import NotFoundError
from geo.geojson import feature_collection
from geo.reference import label_points
from webmap import page_data as pd_
from webmap.data import BuildData, get_data
from webmap.exports import cached
from webmap.http_cache import send_bytes

logger = logging.getLogger(__name__)

bp = Blueprint("context", __name__, url_prefix="/map/context")

#: Seconds a browser may reuse context data before revalidating (as webmap.pages map data).
CONTEXT_MAX_AGE = 300
#: Smallest population of each tier of place labels.
PLACE_TIERS = {"major": 50_000, "all": 0}
#: 4 decimals (about 11 m) is finer than any label needs.
DECIMALS = 4


def _dumps(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def places_array(data: BuildData, tier: str) -> bytes:
    """Return a tier's gazetteer places as ``{name, st, lat, lon, pop}`` columns, most populous first."""
    if tier not in PLACE_TIERS:
        msg = f"no place tier {tier!r}; choose one of {', '.join(PLACE_TIERS)}"
        raise NotFoundError(msg)

    def build() -> bytes:
        gazetteer = pd_.find_tables(data)[1]
        rows = gazetteer[gazetteer["population"] >= PLACE_TIERS[tier]]
        rows = rows.sort_values("population", ascending=False, kind="stable")
        return _dumps(
            {
                "count": len(rows),
                "name": rows["city"].astype(str).tolist(),
                "st": rows["state"].astype(str).tolist(),
                "lat": rows["lat"].round(DECIMALS).tolist(),
                "lon": rows["lon"].round(DECIMALS).tolist(),
                "pop": rows["population"].astype("int64").tolist(),
            }
        )

    return cached(data, f"context/places/{tier}", build)


def state_outlines(data: BuildData) -> bytes:
    """Return every state's outline with its name, code and label point (GeoJSON)."""

    def build() -> bytes:
        states = data.layer("states_web")
        labels = label_points(states, columns=("stusps", "name"))
        frame = states[["stusps", "name", "geometry"]].merge(
            labels.rename(columns={"lat": "label_lat", "lon": "label_lon"}), on=["stusps", "name"], how="left"
        )
        frame["label_lat"] = frame["label_lat"].round(DECIMALS)
        frame["label_lon"] = frame["label_lon"].round(DECIMALS)
        return feature_collection(
            frame,
            properties=["stusps", "name", "label_lat", "label_lon"],
            id_column="stusps",
            precision=DECIMALS,
        )

    return cached(data, "context/states", build)


def state_labels(data: BuildData) -> bytes:
    """Return every state's name, code and label point as columns (the national map's labels)."""

    def build() -> bytes:
        labels = label_points(data.layer("states_web"), columns=("stusps", "name"))
        return _dumps(
            {
                "count": len(labels),
                "code": labels["stusps"].astype(str).tolist(),
                "name": labels["name"].astype(str).tolist(),
                "lat": pd.Series(labels["lat"]).round(DECIMALS).tolist(),
                "lon": pd.Series(labels["lon"]).round(DECIMALS).tolist(),
            }
        )

    return cached(data, "context/state_labels", build)


def county_labels(data: BuildData, code: str) -> bytes:
    """Return one state's county names at label points, largest land area first."""

    def build() -> bytes:
        counties = data.layer("counties_web")
        counties = counties[counties["stusps"].astype(str) == code]
        if "aland" in counties.columns:
            counties = counties.sort_values("aland", ascending=False, kind="stable")
        labels = label_points(counties, columns=("geoid", "name"))
        return _dumps(
            {
                "count": len(labels),
                "name": labels["name"].astype(str).tolist(),
                "lat": pd.Series(labels["lat"]).round(DECIMALS).tolist(),
                "lon": pd.Series(labels["lon"]).round(DECIMALS).tolist(),
            }
        )

    return cached(data, f"context/counties/{code}", build)


def context_urls(state: str | None = None, *, outlines: bool = True) -> dict[str, str]:
    """Return the context data URLs a map page's config carries.

    ``state`` adds its county labels; ``outlines=False`` (the national map, whose choropleth
    already outlines every state) asks for the states' label points alone, 2 KB instead of 80.
    """
    urls = {
        "places_major_url": url_for("context.places", tier="major"),
        "places_all_url": url_for("context.places", tier="all"),
    }
    if outlines:
        urls["state_outlines_url"] = url_for("context.states")
    else:
        urls["state_labels_url"] = url_for("context.state_label_points")
    if state is not None:
        urls["county_labels_url"] = url_for("context.counties", code=state)
    return urls


@bp.get("/places/<tier>.json")
def places(tier: str):
    """Serve the place labels of a tier (``major`` or ``all``)."""
    return send_bytes(places_array(get_data(), tier), "application/json", max_age=CONTEXT_MAX_AGE)


@bp.get("/states.geojson")
def states():
    """Serve every state's outline and label point."""
    return send_bytes(state_outlines(get_data()), "application/geo+json", max_age=CONTEXT_MAX_AGE)


@bp.get("/state-labels.json")
def state_label_points():
    """Serve every state's label point (no outlines)."""
    return send_bytes(state_labels(get_data()), "application/json", max_age=CONTEXT_MAX_AGE)


@bp.get("/counties/<code>.json")
def counties(code: str):
    """Serve one state's county labels."""
    data = get_data()
    pd_.state_row(data, code)  # 404 for an unknown state
    return send_bytes(county_labels(data, code), "application/json", max_age=CONTEXT_MAX_AGE)
