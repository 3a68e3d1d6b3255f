"""OGC API – Features under ``/ogcapi``: a thin Flask adapter over :mod:`webmap.ogc_core`.

The views pass the query arguments and the ``Accept`` header to the core and
send its ``(headers, status, body)`` answer through :func:`webmap.http_cache.send_bytes`
(ETag, 304 and gzip). The collections are built once per build from the
frames the rest of the app serves (docs/OGCAPI.md).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
from flask import Blueprint, Response, current_app, render_template, request
from jinja2 import TemplateNotFound

from webmap import exports, ogc_core
from webmap.data import BuildData, get_data
from webmap.data_dictionary import TITLES, describe
from webmap.http_cache import send_bytes

logger = logging.getLogger(__name__)

bp = Blueprint("ogcapi", __name__, url_prefix="/ogcapi")

#: The site's page template, which the HTML pages extend when it exists.
SITE_BASE = "base.html"

#: Seconds a client may reuse an answer before revalidating (as /api).
MAX_AGE = 60

#: GeoPackage layers of the polygon collections: the web-weight polygons with
#: metrics, or the plain web-weight boundaries in a build that has no metrics.
POLYGON_LAYERS = {"states": ("state_metrics", "states_web"), "counties": ("county_metrics", "counties_web")}

_DESCRIPTIONS = {
    "schools": "Community Schools as points (WGS84), with their geocoding precision and locale class.",
    "states": "The 50 states, DC and Puerto Rico, with coverage and gap metrics (docs/METRICS.md).",
    "counties": "Counties with coverage and gap metrics (docs/METRICS.md).",
}


def _polygons(data: BuildData, dataset: str) -> gpd.GeoDataFrame | None:
    """Return the polygons with metrics, else the plain boundaries (an older build), else None."""
    for layer in POLYGON_LAYERS[dataset]:
        try:
            return data.layer(layer)
        except Exception as exc:  # a missing layer: try the next one
            logger.warning("no %s layer in build %s: %s", layer, data.build_id, exc)
    return None


def build_collections(data: BuildData) -> dict[str, ogc_core.Collection]:
    """Return the schools, states and counties collections of a build (EPSG:4326 frames).

    A polygon collection whose layers are missing from the build is left out
    (and logged), so the schools are still served.
    """
    frames = {
        "schools": data.schools,
        "states": _polygons(data, "states"),
        "counties": _polygons(data, "counties"),
    }
    filters = {"schools": ("state", "locale"), "states": ("state",), "counties": ("state",)}
    out = {}
    for dataset, frame in frames.items():
        if frame is None:
            continue
        out[dataset] = ogc_core.Collection(
            id=dataset,
            title=TITLES[dataset],
            description=_DESCRIPTIONS[dataset],
            frame=frame,
            id_column=exports.ID_COLUMNS[dataset],
            filters=filters[dataset],
            # Coordinates exactly as stored, so a client reads what the GeoPackage holds
            # (the web-weight polygons are already rounded to 5 decimals by the build).
            precision=None,
            column_descriptions={c: describe(dataset, c) for c in frame.columns if c != frame.geometry.name},
        )
    return out


def _render(template: str, context: Mapping[str, Any]) -> str:
    # Inside the site's page shell (navigation, sample banner) when the app has one.
    try:
        current_app.jinja_env.get_template(SITE_BASE)
        base = SITE_BASE
    except TemplateNotFound:
        base = None
    return render_template(template, ogc_base=base, **context)


def _service() -> ogc_core.Service:
    data = get_data()
    collections = exports.cached(data, "ogcapi/collections", lambda: build_collections(data))
    # scheme://host/root from the request's parts (request.url_root re-parses the whole URL).
    base_url = f"{request.scheme}://{request.host}{request.root_path}{bp.url_prefix}"
    return ogc_core.Service(
        base_url=base_url, collections=collections, provenance=exports.provenance(data), render=_render
    )


def _send(answer: ogc_core.Answer) -> Response:
    """Turn a core answer into a response; successes go through send_bytes (ETag, 304, gzip)."""
    headers, status, body = answer
    if status != 200:
        return Response(body, status=status, headers=headers)
    headers = dict(headers)
    content_type = headers.pop("Content-Type")
    validator = headers.pop("ETag", None)
    tag = validator.removeprefix("W/").strip('"') if validator else None
    response = send_bytes(body, content_type, etag=tag, max_age=MAX_AGE)
    sent_tag, _ = response.get_etag()  # send_bytes always sets one (tag or its gzip variant)
    if validator and sent_tag:
        # The validator names the content, not the bytes (timeStamp varies), so it is weak.
        response.set_etag(sent_tag, weak=True)
    response.vary.add("Accept")
    response.headers.update(headers)
    return response


def _args() -> dict[str, list[str]]:
    return request.args.to_dict(flat=False)


def _accept() -> str | None:
    return request.headers.get("Accept")


@bp.get("")
@bp.get("/")
def landing_page():
    """Serve the landing page."""
    return _send(ogc_core.landing_page(_service(), _args(), _accept()))


@bp.get("/conformance")
def conformance():
    """Serve the conformance declaration."""
    return _send(ogc_core.conformance(_service(), _args(), _accept()))


@bp.get("/api")
def api_definition():
    """Serve the OpenAPI 3.0 definition (service-desc)."""
    return _send(ogc_core.api_definition(_service(), _args(), _accept()))


@bp.get("/collections")
def collections():
    """Serve every feature collection."""
    return _send(ogc_core.collections(_service(), _args(), _accept()))


@bp.get("/collections/<collection_id>")
def collection(collection_id: str):
    """Serve one feature collection."""
    return _send(ogc_core.collection(_service(), collection_id, _args(), _accept()))


@bp.get("/collections/<collection_id>/schema")
def schema(collection_id: str):
    """Serve the JSON Schema of a collection's features."""
    return _send(ogc_core.schema(_service(), collection_id, _args(), _accept()))


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str):
    """Serve a page of features."""
    return _send(ogc_core.items(_service(), collection_id, _args(), _accept()))


@bp.get("/collections/<collection_id>/items/<feature_id>")
def item(collection_id: str, feature_id: str):
    """Serve one feature."""
    return _send(ogc_core.item(_service(), collection_id, feature_id, _args(), _accept()))
