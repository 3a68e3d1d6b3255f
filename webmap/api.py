"""The JSON API under ``/api`` (documented in docs/API.md and at /api/openapi.json).

Views are thin: they validate the query (webmap.params), ask geo/ or the
per-build caches (webmap.exports) and serialize. Every answer carries
``is_sample``, ``built_at`` and ``build_id``; errors are JSON 400/404 naming the
bad parameter (webmap.errors).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, request, url_for

from geo.errors import NotFoundError
from geo.metrics_tables import frame_records
from geo.query import nearest_positions
from geo.store import json_safe
from webmap import exports, openapi, records, school_page
from webmap import plan as planner
from webmap.data import get_data
from webmap.http_cache import send_bytes
from webmap.params import SCHOOL_FILTERS, STATE, Param, Parameters, school_filters

logger = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api")

#: Paging of /api/schools: 100 by default, 1,000 at most per page (a page of
#: 1,000 schools is about 0.5 MB of JSON; the whole layer is a download).
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
#: /api/schools/nearest: 10 by default, at most 100 schools.
DEFAULT_K = 10
MAX_K = 100
#: Largest search radius, in miles: wider than any state but Alaska is tall,
#: and the answer is still the k nearest, so a bigger radius adds nothing.
MAX_RADIUS_MI = 500.0
#: Seconds a client may reuse an API answer before revalidating (the ETag
#: changes with the build, so a revalidation after a rebuild gets fresh data).
API_MAX_AGE = 60

NO_PARAMETERS = Parameters(())
LIMIT = Param(
    "limit", "Schools per page.", type="integer", minimum=1, maximum=MAX_LIMIT, default=DEFAULT_LIMIT
)
OFFSET = Param("offset", "Schools to skip.", type="integer", minimum=0, default=0)
LAT = Param("lat", "Latitude, WGS84 degrees.", type="number", minimum=-90, maximum=90, required=True)
LON = Param("lon", "Longitude, WGS84 degrees.", type="number", minimum=-180, maximum=180, required=True)
K = Param("k", "How many schools.", type="integer", minimum=1, maximum=MAX_K, default=DEFAULT_K)
RADIUS_MI = Param(
    "radius_mi",
    "Only schools within this many miles (great-circle); when none are, the k "
    "nearest beyond it are returned with within_radius=false.",
    type="number",
    minimum=0,
    exclusive_minimum=True,
    maximum=MAX_RADIUS_MI,
)
STATE_PATH = Param(
    "state",
    "Two-letter USPS code, e.g. IL.",
    where="path",
    pattern=STATE.pattern,
    pattern_hint=STATE.pattern_hint,
)

#: The parameters of each endpoint, declared once: the views parse with them and
#: webmap.openapi documents them. Anything else in a query is a 400.
PARAMETERS: dict[str, Parameters] = {
    "/api/schools": SCHOOL_FILTERS + (LIMIT, OFFSET),
    "/api/schools/nearest": Parameters((LAT, LON, K, RADIUS_MI)),
    "/api/states": NO_PARAMETERS,
    "/api/states/{state}": Parameters((STATE_PATH,)),
    "/api/openapi.json": NO_PARAMETERS,
    "/api/plan": planner.PARAMETERS,
    "/api": NO_PARAMETERS,
    **records.PARAMETERS,
    **school_page.PARAMETERS,
}


def _json(document: dict[str, Any], *, max_age: int = API_MAX_AGE, schools: list[str] | None = None):
    """Serialize ``document``; ``schools`` (pre-serialized objects) become its last member."""
    text = json.dumps(json_safe(document), ensure_ascii=False, separators=(",", ":"))
    if schools is not None:
        text = text[:-1] + (',"schools":[' if document else '{"schools":[') + ",".join(schools) + "]}"
    return send_bytes(text.encode("utf-8"), "application/json", max_age=max_age)


def _answer(data, *, schools: list[str] | None = None, **members: Any):
    return _json({**exports.provenance(data), **members}, schools=schools)


@bp.get("")
@bp.get("/")
def index():
    """List the endpoints."""
    PARAMETERS["/api"].parse(request.args)
    data = get_data()
    return _answer(
        data,
        links={
            "schools": url_for("api.schools"),
            "nearest": url_for("api.nearest"),
            "states": url_for("api.states"),
            "plan": url_for("api.plan"),
            "coalitions": url_for("records.api_coalitions"),
            "communities": url_for("records.api_communities"),
            "partners": url_for("records.api_partners"),
            "plan_target": url_for("records.api_target"),
            "openapi": url_for("api.openapi_json"),
            "downloads": "/downloads",
        },
    )


@bp.get("/openapi.json")
def openapi_json():
    """Serve the OpenAPI 3 document of this API."""
    PARAMETERS["/api/openapi.json"].parse(request.args)
    codes = openapi.state_codes(get_data())
    body = json.dumps(openapi.document(codes), ensure_ascii=False, indent=1).encode("utf-8")
    return send_bytes(body, "application/json", max_age=3600)


@bp.get("/schools")
def schools():
    """Schools filtered by state, locale and bbox, a page at a time."""
    query = PARAMETERS["/api/schools"].parse(request.args)
    data = get_data()
    filters = school_filters(query, exports.known_states(data))
    limit, offset = query["limit"], query["offset"]
    positions = exports.select_positions(data, "schools", filters)
    records = exports.school_json(data)
    total = len(records) if positions is None else len(positions)
    page = range(offset, min(offset + limit, total))
    chosen = [records[i] for i in page] if positions is None else [records[positions[i]] for i in page]

    def link(start: int) -> str:
        return url_for("api.schools", **filters.query(), limit=limit, offset=start)

    links = {
        "self": link(offset),
        "next": link(offset + limit) if offset + limit < total else None,
        "prev": link(max(offset - limit, 0)) if offset > 0 else None,
        "geojson": url_for("downloads.download", name="schools.geojson", **filters.query()),
    }
    return _answer(
        data,
        filters=filters.query(),
        total=total,
        limit=limit,
        offset=offset,
        count=len(chosen),
        links=links,
        schools=chosen,
    )


@bp.get("/schools/nearest")
def nearest():
    """List the k schools nearest a point, closest first, with distances in miles."""
    query = PARAMETERS["/api/schools/nearest"].parse(request.args)
    lat, lon, k, radius = query["lat"], query["lon"], query["k"], query["radius_mi"]
    data = get_data()
    positions, miles, within = nearest_positions(exports.school_index(data), lat, lon, k=k, radius_mi=radius)
    records = exports.school_json(data)
    # Each record is a JSON object: drop its closing brace and add the distance (3 decimals, ~5 ft).
    chosen = [
        f'{records[p][:-1]},"distance_mi":{round(float(d), 3)!r}}}'
        for p, d in zip(positions, miles, strict=True)
    ]
    message = None
    if radius is None:
        within = None
    elif not within:
        message = (
            f"no schools within {radius:g} miles; showing the {len(chosen)} nearest beyond it"
            if chosen
            else f"no schools within {radius:g} miles, and none in the data"
        )
    return _answer(
        data,
        query={"lat": lat, "lon": lon, "k": k, "radius_mi": radius},
        within_radius=within,
        message=message,
        count=len(chosen),
        schools=chosen,
    )


def _state_links(code: str) -> dict[str, str]:
    return {
        "self": url_for("api.state", code=code),
        "page": f"/states/{code}",
        "schools": url_for("api.schools", state=code),
    }


@bp.get("/states")
def states():
    """Every state (50, DC and PR) with its metrics, and the national figures."""
    PARAMETERS["/api/states"].parse(request.args)
    data = get_data()
    metrics = exports.metrics_document(data)
    rows = [{**row, "links": _state_links(code)} for code, row in metrics.get("states", {}).items()]
    return _answer(
        data,
        national=metrics.get("national"),
        parameters=metrics.get("parameters"),
        count=len(rows),
        states=rows,
    )


@bp.get("/states/<code>")
def state(code: str):
    """One state: its metrics, locale breakdown, desert counties and coalition."""
    PARAMETERS["/api/states/{state}"].parse(request.args)
    usps = STATE_PATH.parse(code).upper()
    data = get_data()
    metrics = exports.metrics_document(data)
    row = metrics.get("states", {}).get(usps)
    if row is None:
        msg = f"no state {code!r} in this build; /api/states lists the 50 states, DC and PR"
        raise NotFoundError(msg)
    deserts = [d for d in metrics.get("deserts", []) if d.get("stusps") == usps]
    coalitions = exports.coalitions_table(data)
    mine = coalitions[coalitions["stusps"].astype(str).str.upper() == usps]
    coalition_rows = [
        {**r, "county_fips": [c for c in str(r.get("county_fips") or "").split(";") if c]}
        for r in frame_records(mine)
    ]
    return _answer(
        data,
        state=row,
        locales=metrics.get("state_locales", {}).get(usps, {}),
        desert_counties=deserts,
        coalition={"status": row.get("coalition_status"), "coalitions": coalition_rows},
        links=_state_links(usps),
    )


@bp.route("/plan", methods=["GET", "POST"])
def plan():
    """Plan k new sites that reach the most unserved children, or a what-if of given sites."""
    return planner.api_answer()
