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

import io
import json
import logging
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
from flask import Blueprint, Response, render_template, request, url_for
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import secure_filename

from geo import store
from geo.candidates import read_candidates
from geo.errors import InvalidParameterError, NoBuildError, SchoolDataError
from geo.metrics_tables import frame_records
from geo.plan_files import plan_csv as picks_csv
from geo.plan_files import plan_geojson as picks_geojson
from geo.planner import OBJECTIVES, Plan, plan_sites, what_if
from geo.planner_build import add_build_facts, build_planner_options
from geo.store import json_safe
from webmap import maps
from webmap import page_data as pd_
from webmap.data import BuildData, get_data
from webmap.exports import built_on, cached, provenance
from webmap.http_cache import content_disposition, send_bytes
from webmap.pages import map_page as render_map_page
from webmap.params import LAT_PATTERN, LON_PATTERN, Param, Parameters

logger = logging.getLogger(__name__)

bp = Blueprint("plan", __name__)

DEFAULT_K = 10
#: Largest k served. Greedy is fast (nation, k = 100: about 0.2 s), but no
#: coalition plans 100 new schools at once, and the page's map and table stay
#: readable; ``csmap plan`` has no cap.
MAX_K = 100
#: Most ``site=`` parameters in one GET: about 25 characters each keeps the
#: URL far below the 8 KB that common servers and proxies accept.
MAX_SITES = 50
#: Largest POST body: 100,000 candidate rows (geo.planner.MAX_CANDIDATES) of
#: name,lat,lon CSV are about 4 MB.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
#: Plans kept per build (each a few KB to a few hundred KB).
PLAN_CACHE_SIZE = 64
#: Decimal places of a clicked site (about 0.1 m) and of reached ZCTA points (about 11 m).
SITE_DECIMALS = 6
POINT_DECIMALS = 4
API_MAX_AGE = 60

OBJECTIVE_LABELS = {
    "unserved": "unserved children",
    "poverty": "unserved children in high-poverty ZCTAs",
}
#: Media types of a POST whose body is the candidates file itself, and the file's extension.
RAW_FILE_TYPES = {"text/csv": ".csv", "application/geo+json": ".geojson"}
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off", "")


@dataclass(frozen=True)
class PlanRequest:
    """A validated planner request; hashable, so it keys the plan cache.

    ``k`` is None in a what-if, where every site is added in order.
    """

    state: str | None
    objective: str
    k: int | None = DEFAULT_K
    sites: tuple[tuple[float, float], ...] = ()
    what_if: bool = False

    @property
    def mode(self) -> str:
        """``plan`` or ``what_if``."""
        return "what_if" if self.what_if else "plan"

    def query(self) -> dict[str, Any]:
        """Return the request as query parameters (for links; ``site`` as a list)."""
        out: dict[str, Any] = {"state": self.state or "", "objective": self.objective}
        if self.k is not None:
            out["k"] = self.k
        if self.sites:
            out["site"] = [format_site(lat, lon) for lat, lon in self.sites]
        return out

    def as_json(self) -> dict[str, Any]:
        """Return the request as the answer's ``query`` member."""
        return {
            "state": self.state,
            "objective": self.objective,
            "k": self.k,
            "sites": [[lat, lon] for lat, lon in self.sites],
        }


def format_site(lat: float, lon: float) -> str:
    """Return a ``site`` value, ``lat,lon``, without trailing zeros."""
    return ",".join(f"{value:.{SITE_DECIMALS}f}".rstrip("0").rstrip(".") for value in (lat, lon))


# --------------------------------------------------------------------------
# Parsing


def parse_site(text: str) -> tuple[float, float]:
    """Parse one ``site=lat,lon`` value (WGS84 degrees), rounded to :data:`SITE_DECIMALS`."""
    parts = text.split(",")
    try:
        lat, lon = (float(part) for part in parts) if len(parts) == 2 else (math.nan, math.nan)
    except ValueError:
        lat = lon = math.nan
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):  # also refuses NaN and inf
        msg = f"site must be 'lat,lon' in WGS84 degrees, e.g. '30.27,-97.74'; got {text!r}"
        raise InvalidParameterError("site", msg)
    return round(lat, SITE_DECIMALS), round(lon, SITE_DECIMALS)


def _flag(text: str) -> bool:
    return text.strip().lower() in _TRUE


# The parameters, declared once (webmap.params): the parsers below and webmap.openapi read them.
STATE = Param(
    "state",
    "Two-letter USPS code of the scope; omitted or empty: the nation (50 states, DC and PR).",
    pattern="[A-Za-z]{2}",
    pattern_hint="a two-letter USPS code such as 'TX', or empty for the nation",
    fold="upper",
    # Empty is the nation: the /plan form's "whole nation" choice sends state=.
    allow_empty=True,
)
K = Param(
    "k",
    f"Number of new sites, from 1 to {MAX_K}; not with site.",
    type="integer",
    minimum=1,
    maximum=MAX_K,
    default=DEFAULT_K,
)
OBJECTIVE = Param(
    "objective",
    "unserved: all children beyond reach; poverty: those in ZCTAs with 20%+ below poverty.",
    enum=tuple(OBJECTIVES),
    fold="lower",
    default="unserved",
)
SITE = Param(
    "site",
    "A what-if site as lat,lon (WGS84 degrees); repeat it, in order, for several. With site, "
    "k must be omitted: every site is added and its marginal gain reported.",
    type="array",
    max_items=MAX_SITES,
    # Plain decimals in range, as documented; parse_site reads them.
    pattern=f"{LAT_PATTERN},{LON_PATTERN}",
    pattern_hint="'lat,lon' in WGS84 degrees, e.g. '30.27,-97.74'",
    convert=parse_site,
    schema={"items": {"type": "string", "example": "30.27,-97.74"}},
    extra={"style": "form", "explode": True},
)
WHAT_IF = Param(
    "what_if",
    "true: add every candidate in order (a what-if) instead of choosing k of them.",
    enum=_TRUE + _FALSE[:-1],
    fold="lower",
    convert=_flag,
    default=False,
)
CANDIDATES = Param("candidates", "The candidate sites: a CSV or GeoJSON file (or its text).")
#: Query parameters of GET /api/plan, /plan.geojson and /plan.csv (``site`` may repeat).
PARAMETERS = Parameters((STATE, K, OBJECTIVE, SITE))
#: Members of a POST body (JSON object, or form fields and a ``candidates`` file). A form
#: field left empty means "not given", as it does in the browser.
BODY_PARAMETERS = Parameters(
    tuple(replace(p, allow_empty=True) for p in (STATE, K, OBJECTIVE, WHAT_IF, CANDIDATES))
)
#: The /plan page: the same parameters, but stray ones (utm_source...) are ignored.
PAGE_PARAMETERS = PARAMETERS.as_page()


def _plan_or_what_if(values: dict[str, Any], raw_k: str | None) -> PlanRequest:
    state, objective = values["state"], values["objective"]
    if values.get("site") or values.get("what_if"):
        if raw_k:
            what = "every site= is added, in order" if values.get("site") else "every candidate is added"
            msg = f"k={raw_k!r} does not apply to a what-if: {what}; drop k"
            raise InvalidParameterError("k", msg)
        return PlanRequest(state, objective, None, tuple(values.get("site") or ()), what_if=True)
    return PlanRequest(state, objective, values["k"])


def parse_request(args: MultiDict) -> PlanRequest:
    """Parse GET parameters: a plan (``state``, ``k``, ``objective``) or a what-if (``site``)."""
    return _plan_or_what_if(PARAMETERS.parse(args), args.get("k"))


def _body_values(body: dict[str, Any]) -> MultiDict:
    """Turn a JSON body's scalar members into strings for the query parsers."""
    values: MultiDict[str, str] = MultiDict()
    for name, value in body.items():
        if name == "candidates" or value is None:
            continue
        values.add(name, ("true" if value else "false") if isinstance(value, bool) else str(value))
    return values


def parse_body() -> tuple[PlanRequest, pd.DataFrame]:
    """Parse a POST: parameters from a JSON object or form fields, and the candidate sites."""
    if request.content_length is not None and request.content_length > MAX_UPLOAD_BYTES:
        msg = f"the body is {request.content_length:,} bytes; at most {MAX_UPLOAD_BYTES:,} are accepted"
        raise RequestEntityTooLarge(msg)
    request.max_content_length = MAX_UPLOAD_BYTES  # and werkzeug stops a longer chunked body with a 413
    if request.mimetype in RAW_FILE_TYPES:
        # The file itself as the body: `curl --data-binary @sites.csv -H 'Content-Type: text/csv' ...`.
        raw = MultiDict(list(request.args.items(multi=True)))
        values = BODY_PARAMETERS.only("state", "k", "objective", "what_if").parse(raw)
        name = "candidates" + RAW_FILE_TYPES[request.mimetype]
        candidates = _read_candidates_bytes(request.get_data(), name)
    elif request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            msg = 'the JSON body must be an object such as {"state": "TX", "k": 5, "candidates": [...]}'
            raise InvalidParameterError("candidates", msg)
        unknown = [name for name in body if name not in BODY_PARAMETERS.names]
        if unknown:
            msg = f"unknown member {unknown[0]!r}; expected some of: {', '.join(BODY_PARAMETERS.names)}"
            raise InvalidParameterError(unknown[0], msg)
        raw = _body_values(body)
        values, candidates = BODY_PARAMETERS.parse(raw), json_candidates(body.get("candidates"))
    else:
        # Form fields and the query string together, so `curl -F candidates=@f.csv '/api/plan?k=5'` works.
        raw = MultiDict(list(request.args.items(multi=True)) + list(request.form.items(multi=True)))
        values = BODY_PARAMETERS.parse(raw)
        upload = request.files.get("candidates")
        if upload is None and values["candidates"]:  # the file's text sent as a plain field
            upload = FileStorage(io.BytesIO(values["candidates"].encode("utf-8")), filename="candidates")
        candidates = file_candidates(upload)
    return _plan_or_what_if(values, raw.get("k")), candidates


_NO_CANDIDATES = (
    "POST needs candidate sites: a JSON list of {name, lat, lon} objects or a GeoJSON FeatureCollection "
    "of points as 'candidates', or a CSV/GeoJSON file in the form field 'candidates' "
    "(use GET to plan over the ZCTA points)"
)


def json_candidates(value: Any) -> pd.DataFrame:
    """Return the candidates of a JSON body: a list of objects, or a GeoJSON FeatureCollection."""
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        return pd.DataFrame(value)
    if isinstance(value, dict) and value.get("type") == "FeatureCollection":
        return _read_candidates_bytes(json.dumps(value).encode("utf-8"), "candidates.geojson")
    if value is None:
        raise InvalidParameterError("candidates", _NO_CANDIDATES)
    msg = f"candidates must be a non-empty list of objects or a FeatureCollection; got {str(value)[:60]!r}"
    raise InvalidParameterError("candidates", msg)


def file_candidates(upload: FileStorage | None) -> pd.DataFrame:
    """Read an uploaded CSV or GeoJSON candidates file (by extension, else by its first byte)."""
    if upload is None:
        raise InvalidParameterError("candidates", _NO_CANDIDATES)
    content = upload.read()
    name = secure_filename(upload.filename or "") or "candidates"
    if Path(name).suffix.lower() not in (".csv", ".txt", ".geojson", ".json"):
        name += ".geojson" if content.lstrip().startswith(b"{") else ".csv"
    return _read_candidates_bytes(content, name)


def _read_candidates_bytes(content: bytes, name: str) -> pd.DataFrame:
    try:
        return read_candidates(content, name=name)  # read in memory: no temporary file
    except SchoolDataError as exc:  # a malformed upload is the caller's bad parameter
        raise InvalidParameterError("candidates", str(exc)) from exc


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
