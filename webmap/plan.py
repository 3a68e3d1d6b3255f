"""The expansion planner on the web: the ``/plan`` page, its downloads, and ``/api/plan``'s answer.

Views are thin: they parse the request into a :class:`PlanRequest`, ask
:mod:`geo.planner` (with the reach and poverty threshold the build was made
with, :mod:`geo.planner_build`, exactly as ``csmap plan`` does) and serialize.
Plans over the build's own ZCTA candidates are deterministic, so they are kept
in a small per-build LRU cache keyed by the request; uploaded candidate lists
are planned afresh. See docs/PLANNER.md and docs/API.md.

Two modes share one answer shape:

* **plan**: ``state``, ``k``, ``objective``: the greedy (CELF) choice of k
  sites among the scope's ZCTA points, or among an uploaded candidate list;
* **what-if**: ``site=lat,lon`` (repeated) or an uploaded list with
  ``what_if``: each site added in the order given, with its marginal gain
  over the existing schools, and the new totals.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from typing import Any

import pandas as pd
from flask import Blueprint, Response, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from geo import store
from geo.errors import InvalidParameterError, NoBuildError
from geo.metrics_tables import frame_records
from geo.plan_files import plan_csv as picks_csv
from geo.plan_files import plan_geojson as picks_geojson
from geo.planner import Plan, plan_sites, what_if
from geo.planner_build import add_build_facts, build_planner_options
from geo.store import json_safe
from webmap import maps
from webmap import page_data as pd_
from webmap.data import BuildData, get_data
from webmap.exports import built_on, cached, provenance
from webmap.http_cache import content_disposition, send_bytes
from webmap.pages import map_page as render_map_page

# The requests' parameters and parsers live in webmap.plan_request; importable from here as before.
from webmap.plan_request import (  # noqa: F401
    BODY_PARAMETERS,
    CANDIDATES,
    DEFAULT_K,
    MAX_K,
    MAX_SITES,
    MAX_UPLOAD_BYTES,
    OBJECTIVE,
    PAGE_PARAMETERS,
    PARAMETERS,
    RAW_FILE_TYPES,
    SITE,
    SITE_DECIMALS,
    STATE,
    WHAT_IF,
    K,
    PlanRequest,
    file_candidates,
    format_site,
    json_candidates,
    parse_body,
    parse_request,
    parse_site,
)

logger = logging.getLogger(__name__)

bp = Blueprint("plan", __name__)

#: Plans kept per build (each a few KB to a few hundred KB).
PLAN_CACHE_SIZE = 64
#: Decimal places of reached ZCTA points (about 11 m).
POINT_DECIMALS = 4
API_MAX_AGE = 60

OBJECTIVE_LABELS = {
    "unserved": "unserved children",
    "poverty": "unserved children in high-poverty ZCTAs",
}


# --------------------------------------------------------------------------
# Planning, cached


class _PlanCache:
    """A small thread-safe LRU of plans keyed by :class:`PlanRequest`."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[PlanRequest, Plan] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: PlanRequest) -> Plan | None:
        with self.lock:
            plan = self.items.get(key)
            if plan is not None:
                self.items.move_to_end(key)
            return plan

    def put(self, key: PlanRequest, plan: Plan) -> None:
        with self.lock:
            self.items[key] = plan
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


def plan_zctas(data: BuildData) -> pd.DataFrame:
    """Return the build's ``zctas`` table (no geometry), read once per build."""

    def read() -> pd.DataFrame:
        try:
            return store.read_table(data.build_dir, "zctas")
        except Exception as exc:  # pyogrio raises several types for a missing layer
            msg = f"build {data.build_id} has no readable zctas layer ({exc}); run 'csmap build --force'"
            raise NoBuildError(msg) from exc

    return cached(data, "plan/zctas", read)


def what_if_names(data: BuildData, sites: tuple[tuple[float, float], ...]) -> list[str]:
    """Name what-if sites by their nearest place: "Your site 2, near Dublin, OH" (issue 16)."""
    from geo.places import nearest_place_names

    _, gazetteer = pd_.find_tables(data)
    places = nearest_place_names([lat for lat, _ in sites], [lon for _, lon in sites], gazetteer)
    names = []
    for i, place in enumerate(places, start=1):
        names.append(f"Your site {i}, near {place}" if place else f"Your site {i}")
    return names


def state_codes(data: BuildData) -> frozenset[str]:
    """USPS codes a plan's ``state`` may name: the states of the build's ZCTAs (geo.planner)."""
    return frozenset(plan_zctas(data)["stusps"].dropna().astype(str))


def compute_plan(data: BuildData, req: PlanRequest, candidates: pd.DataFrame | None = None) -> Plan:
    """Plan (or what-if) on the build with its own options; cached when the candidates are the build's."""
    cache = cached(data, "plan/cache", lambda: _PlanCache(PLAN_CACHE_SIZE)) if candidates is None else None
    plan = cache.get(req) if cache else None
    if plan is not None:
        return plan
    zctas, options = plan_zctas(data), build_planner_options(data.manifest)
    if req.sites:
        candidates = pd.DataFrame(
            {
                "candidate_id": [f"site-{i}" for i in range(1, len(req.sites) + 1)],
                "name": what_if_names(data, req.sites),
                "lat": [lat for lat, _ in req.sites],
                "lon": [lon for _, lon in req.sites],
            }
        )
    common = {"state": req.state, "objective": req.objective, **options}
    if req.what_if:
        plan = what_if(zctas, data.schools, candidates, **common)
    else:
        plan = plan_sites(zctas, data.schools, k=req.k or DEFAULT_K, candidates=candidates, **common)
    add_build_facts(plan, data.manifest, data.build_id)
    if cache:
        cache.put(req, plan)
    return plan


# --------------------------------------------------------------------------
# Serializers


def reached_records(plan: Plan) -> list[dict[str, Any]]:
    """Return the ZCTAs the sites newly reach: zcta, stusps, lat, lon, children, high_poverty, order."""
    columns = ["zcta", "stusps", "lat", "lon", "children", "locale4", "high_poverty", "order"]
    frame = plan.reached[[c for c in columns if c in plan.reached.columns]]
    frame = frame.assign(lat=frame["lat"].round(POINT_DECIMALS), lon=frame["lon"].round(POINT_DECIMALS))
    return frame_records(frame)


def plan_links(req: PlanRequest) -> dict[str, str]:
    """Return self, page, geojson and csv links of a GET request."""
    query = req.query()
    page = {k: v for k, v in query.items() if k != "site"} if not req.what_if else dict(query)
    if req.what_if:
        page["k"] = DEFAULT_K
    return {
        "self": url_for("api.plan", **query),
        "page": url_for("plan.page", **page),
        "geojson": url_for("plan.geojson", **query),
        "csv": url_for("plan.csv", **query),
    }


def plan_document(data: BuildData, plan: Plan, req: PlanRequest, *, links: bool = True) -> dict[str, Any]:
    """Return the JSON answer: provenance, mode, query, the plan, the reached ZCTAs and links."""
    document = {
        **provenance(data),
        "mode": req.mode,
        "query": req.as_json(),
        **plan.to_json(),
        "reached": reached_records(plan),
    }
    if links:
        document["links"] = plan_links(req)
    return json_safe(document)


def _stem(data: BuildData, plan: Plan, req: PlanRequest) -> str:
    a = plan.assumptions
    size = f"{len(plan.picks)}sites" if req.what_if else f"k{req.k}"
    kind = "whatif" if req.what_if else "plan"
    # Only generated parts: the scope is a checked USPS code or "US".
    return f"csmap-{kind}-{a['scope']}-{a['objective']}-{size}-{built_on(data)}"


def plan_geojson(data: BuildData, plan: Plan, title: str) -> bytes:
    """Return the picks as GeoJSON (:func:`geo.plan_files.plan_geojson`, as ``csmap plan`` writes them)."""
    return picks_geojson(plan, title=title, facts=provenance(data))


def plan_csv(data: BuildData, plan: Plan) -> bytes:
    """Return the picks as CSV (:func:`geo.plan_files.plan_csv`, as ``csmap plan`` writes them)."""
    return picks_csv(plan, facts=provenance(data))


def _request_and_plan(data: BuildData) -> tuple[PlanRequest, Plan, bool]:
    """Parse a GET or POST and plan it; the flag says whether the answer is cacheable (GET)."""
    if request.method == "POST":
        req, candidates = parse_body()
        return req, compute_plan(data, req, candidates), False
    req = parse_request(request.args)
    return req, compute_plan(data, req), True


def _send(
    body: bytes, mimetype: str, *, cacheable: bool, filename: str | None = None, charset: str | None = None
) -> Response:
    """Send a GET answer with ETag and caching (webmap.http_cache); a POST answer uncached."""
    if cacheable:
        return send_bytes(body, mimetype, filename=filename, max_age=API_MAX_AGE, charset=charset)
    headers = {"Cache-Control": "no-store"}
    if filename:
        headers["Content-Disposition"] = content_disposition(filename)
    content_type = f"{mimetype}; charset={charset}" if charset else mimetype
    return Response(body, status=200, headers=headers, content_type=content_type)


def api_answer() -> Response:
    """Answer ``/api/plan`` (GET or POST) with the plan as JSON (called by :mod:`webmap.api`)."""
    data = get_data()
    req, plan, cacheable = _request_and_plan(data)
    document = plan_document(data, plan, req, links=cacheable)
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return _send(body, "application/json", cacheable=cacheable)


# --------------------------------------------------------------------------
# Routes: downloads and the page


@bp.route("/plan.geojson", methods=["GET", "POST"])
def geojson():
    """Download the plan's sites as GeoJSON points (same parameters as /api/plan)."""
    data = get_data()
    req, plan, cacheable = _request_and_plan(data)
    stem = _stem(data, plan, req)
    body = plan_geojson(data, plan, title=stem)
    return _send(body, "application/geo+json", cacheable=cacheable, filename=f"{stem}.geojson")


@bp.route("/plan.csv", methods=["GET", "POST"])
def csv():
    """Download the plan's sites as CSV (same parameters as /api/plan)."""
    data = get_data()
    req, plan, cacheable = _request_and_plan(data)
    body = plan_csv(data, plan)
    return _send(
        body, "text/csv", cacheable=cacheable, filename=f"{_stem(data, plan, req)}.csv", charset="utf-8"
    )


def _page_request(args: MultiDict, states: dict[str, Any]) -> tuple[PlanRequest, PlanRequest | None]:
    """Parse /plan's query: the plan, and the what-if of the visitor's ``site`` values if any."""
    values = PAGE_PARAMETERS.parse(args)
    state, objective, k, sites = values["state"], values["objective"], values["k"], tuple(values["site"])
    if state is not None and state not in states:
        msg = f"unknown state {args.get('state')!r}; the planner page covers the 50 states, DC and PR"
        raise InvalidParameterError("state", msg)
    whatif = PlanRequest(state, objective, None, sites, what_if=True) if sites else None
    return PlanRequest(state, objective, k), whatif


def _locale_rows(plan: Plan, level: str) -> list[dict[str, Any]]:
    return [row for row in frame_records(plan.by_locale) if row["level"] == level]


@bp.get("/plan")
def page():
    """Choose a scope, k and objective; see the proposed sites, their gains, and try your own."""
    data = get_data()
    states = pd_.state_rows(data)
    context: dict[str, Any] = {
        "states": states,
        "objectives": OBJECTIVE_LABELS,
        "max_k": MAX_K,
        "max_sites": MAX_SITES,
        "form": {"state": "", "k": DEFAULT_K, "objective": "unserved"},
        "plan": None,
    }
    if not any(name in request.args for name in PARAMETERS.names):
        return render_template("plan.html", **context)
    req, whatif_req = _page_request(request.args, states)
    plan = compute_plan(data, req)
    whatif_document = (
        plan_document(data, compute_plan(data, whatif_req), whatif_req) if whatif_req is not None else None
    )
    scope = req.state or "US"
    bounds = pd_.state_bounds(data, req.state) if req.state else maps.CONUS_BOUNDS
    # Once per build, scope and tile setting.
    map_page = render_map_page(data, f"plan/{scope}", lambda **kw: maps.plan_map(bounds, **kw))
    picks = frame_records(plan.picks)
    config = {
        "map": map_page.map_name,
        "layers": map_page.layers,
        "query": req.as_json(),
        "objective_label": OBJECTIVE_LABELS[req.objective],
        "api_url": url_for("api.plan"),
        "page_url": url_for("plan.page"),
        "schools_url": url_for("pages.schools_array", **({"state": req.state} if req.state else {})),
        "states_url": url_for("pages.states_geojson"),
        "counties_url": url_for("pages.counties_geojson", code=req.state) if req.state else None,
        "picks": picks,
        "reached": reached_records(plan),
        "whatif": whatif_document,
        "max_sites": MAX_SITES,
    }
    context.update(
        form={"state": req.state or "", "k": req.k, "objective": req.objective},
        plan=plan,
        picks=picks,
        scope_name=states[req.state]["name"] if req.state else "the nation (50 states, DC and PR)",
        objective_label=OBJECTIVE_LABELS[req.objective],
        objective_gain=float(plan.picks["gain"].sum()),
        locale3=_locale_rows(plan, "locale"),
        locale4=_locale_rows(plan, "locale4"),
        assumptions=plan.assumptions,
        downloads={
            "geojson": url_for("plan.geojson", **req.query()),
            "csv": url_for("plan.csv", **req.query()),
            "json": url_for("api.plan", **req.query()),
        },
        map_page=map_page,
        config=json_safe(config),
    )
    return render_template("plan.html", **context)
