"""The expansion planner on the web: the ``/plan`` page, its downloads, and ``/api/plan``'s answer.

Views are thin: they parse the request into a :class:`PlanRequest`, ask
:mod:`geo.planner` (with the reach and poverty threshold the build was made
with, :mod:`geo.planner_build`, exactly as ``csmap plan`` does) and serialize.
Plans over the build's own ZCTA candidates are deterministic, so they are kept
in a small per-build LRU cache keyed by the request; uploaded candidate lists
are planned afresh. See docs/PLANNER.md and docs/API.md.

Two modes share one answer shape:

* **plan**: ``state``, ``k``, ``objective`` (and ``keep`` / ``exclude`` ids): the
  greedy (CELF) choice of k sites among the scope's ZCTA points, or among an
  uploaded candidate list;
* **what-if**: ``site=lat,lon`` (repeated) or an uploaded list with
  ``what_if``: each site added in the order given, with its marginal gain
  over the existing schools, and the new totals.

The page adds the target mode (``mode=target&target_children=N``: the fewest
greedy sites that reach N more children, :mod:`geo.planner_target`) and a typed
``place`` that becomes a what-if site (:func:`geo.find.search`). Request parsing
lives in :mod:`webmap.plan_request`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
from flask import Blueprint, Response, render_template, request, url_for
from flask_babel import gettext
from werkzeug.datastructures import MultiDict

from geo import store
from geo.errors import InvalidParameterError, NoBuildError
from geo.metrics_tables import frame_records
from geo.plan_files import plan_csv as picks_csv
from geo.plan_files import plan_geojson as picks_geojson
from geo.planner import Plan, plan_sites, what_if
from geo.planner_build import add_build_facts, build_planner_options
from geo.planner_target import MAX_TARGET_CHILDREN, TargetAnswer, plan_to_target
from geo.store import json_safe
from webmap import maps
from webmap import page_data as pd_
from webmap.data import BuildData, get_data
from webmap.exports import built_on, cached, provenance
from webmap.http_cache import content_disposition, send_bytes
from webmap.i18n import N_
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
from webmap.plan_words import translate_plan_text

logger = logging.getLogger(__name__)

bp = Blueprint("plan", __name__)
bp.add_app_template_filter(translate_plan_text, "plan_text")  # the planner's English sentences, translated

#: Plans kept per build (each a few KB to a few hundred KB).
PLAN_CACHE_SIZE = 64
#: Decimal places of reached ZCTA points (about 11 m).
POINT_DECIMALS = 4
API_MAX_AGE = 60

OBJECTIVE_LABELS = {
    "unserved": N_("unserved children"),
    "poverty": N_("unserved children in high-poverty ZCTAs"),
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
        plan = plan_sites(
            zctas,
            data.schools,
            k=req.k or DEFAULT_K,
            candidates=candidates,
            keep=req.keep,
            exclude=req.exclude,
            **common,
        )
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


@dataclass(frozen=True)
class PageRequest:
    """What /plan was asked: the mode, the plan (or target) and the visitor's what-if sites."""

    mode: str
    plan: PlanRequest
    target: int | None
    whatif: PlanRequest | None
    place_note: str = ""
    place_error: bool = False


def _page_request(data: BuildData, args: MultiDict, states: dict[str, Any]) -> PageRequest:
    """Parse /plan's query: the mode, the plan or target, and the what-if of ``site`` and ``place``."""
    values = PAGE_PARAMETERS.parse(args)
    state, objective, sites = values["state"], values["objective"], list(values["site"])
    if state is not None and state not in states:
        msg = f"unknown state {args.get('state')!r}; the planner page covers the 50 states, DC and PR"
        raise InvalidParameterError("state", msg)
    # A link with only target_children (the landing page's, or /plan/target's) is the target mode.
    mode = "target" if "mode" not in args and values["target_children"] else values["mode"]
    target = values["target_children"] if mode == "target" else None
    note, failed = "", False
    if values["place"]:
        site, note = resolve_place(data, values["place"], states)
        failed = site is None or len(sites) >= MAX_SITES
        if len(sites) >= MAX_SITES:
            note = f"At most {MAX_SITES} sites; remove one first."
        elif site is not None:
            sites.append(site)
            note = f"Added {note} as your site {len(sites)}."
    whatif = PlanRequest(state, objective, None, tuple(sites), what_if=True) if sites else None
    if mode == "target":
        return PageRequest(mode, PlanRequest(state, objective, None), target, whatif, note, failed)
    keep, exclude = tuple(values["keep"]), tuple(values["exclude"])
    req = PlanRequest(state, objective, values["k"], keep=keep, exclude=exclude)
    return PageRequest(mode, req, None, whatif, note, failed)


def resolve_place(
    data: BuildData, text: str, states: dict[str, Any]
) -> tuple[tuple[float, float] | None, str]:
    """Place a typed place name or ZIP (geo.find.search, offline): its point and its label, or why not."""
    from geo.find import search

    zips, gazetteer = pd_.find_tables(data)
    found = search(text, zips, gazetteer, us_states=frozenset(states))
    shown = " ".join(text.split())[:80]
    if found.location is not None:
        where = found.location
        return (
            round(where.lat, SITE_DECIMALS),
            round(where.lon, SITE_DECIMALS),
        ), f"\u201c{where.label}\u201d"
    if found.choices:
        options = "; ".join(f"{c.city}, {c.state}" for c in found.choices[:5])
        first = found.choices[0]
        example = f"\u201c{first.city}, {first.state}\u201d"
        return None, f"\u201c{shown}\u201d is in several states ({options}): add the state, e.g. {example}."
    if found.state is not None:
        return None, f"\u201c{shown}\u201d is a state: type a city, town or ZIP in it."
    if found.message:
        return None, found.message
    return None, f"No place or ZIP called \u201c{shown}\u201d was found; try a city with its state, or a ZIP."


def compute_target(data: BuildData, state: str | None, objective: str, target: int) -> TargetAnswer:
    """Run the target mode on the build with its own options (cached per build and query)."""

    def build() -> TargetAnswer:
        answer = plan_to_target(
            plan_zctas(data),
            data.schools,
            target_children=target,
            state=state,
            objective=objective,
            **build_planner_options(data.manifest),
        )
        if answer.plan is not None:
            add_build_facts(answer.plan, data.manifest, data.build_id)
        return answer

    return cached(data, f"plan/target/{target}/{state}/{objective}", build)


def _locale_rows(plan: Plan, level: str) -> list[dict[str, Any]]:
    return [row for row in frame_records(plan.by_locale) if row["level"] == level]


def _page_query(ask: PageRequest) -> dict[str, Any]:
    """Return the page's own query without the sites (the script adds the visitor's sites)."""
    req = ask.plan
    out: dict[str, Any] = {"mode": ask.mode, "state": req.state or "", "objective": req.objective}
    if ask.mode == "target":
        out["target_children"] = ask.target
    else:
        out["k"] = req.k
        out |= {key: value for key, value in req.query().items() if key in ("keep", "exclude")}
    return out


@bp.get("/plan")
def page():
    """Choose a scope, k (or a target) and objective; see the sites, their gains, and try your own."""
    data = get_data()
    states = pd_.state_rows(data)
    context: dict[str, Any] = {
        "states": states,
        "objectives": OBJECTIVE_LABELS,
        "max_k": MAX_K,
        "max_sites": MAX_SITES,
        "max_target": MAX_TARGET_CHILDREN,
        "form": {"state": "", "k": DEFAULT_K, "objective": "unserved", "mode": "plan", "target": 1_000_000},
        "plan": None,
        "answer": None,
    }
    if not any(name in request.args for name in PAGE_PARAMETERS.names):
        return render_template("plan.html", **context)
    ask = _page_request(data, request.args, states)
    req = ask.plan
    context["form"] = {
        "state": req.state or "",
        "k": req.k or DEFAULT_K,
        "objective": req.objective,
        "mode": ask.mode,
        "target": ask.target or 1_000_000,
    }
    if ask.mode == "target" and ask.target is None:  # "/plan?mode=target": the form, set to a target
        return render_template("plan.html", **context)
    answer = compute_target(data, req.state, req.objective, ask.target) if ask.target else None
    if answer is not None:
        context["answer"] = answer
        if answer.plan is None:  # the plain "cannot reach it": no sites to map
            return render_template("plan.html", **context)
        plan = answer.plan
        req = replace(req, k=answer.k)
    else:
        plan = compute_plan(data, req)
    whatif = ask.whatif
    whatif_document = plan_document(data, compute_plan(data, whatif), whatif) if whatif is not None else None
    scope = req.state or "US"
    bounds = pd_.state_bounds(data, req.state) if req.state else maps.CONUS_BOUNDS
    # Once per build, scope and tile setting.
    map_page = render_map_page(data, f"plan/{scope}", lambda **kw: maps.plan_map(bounds, **kw))
    picks = frame_records(plan.picks)
    page_query = _page_query(ask)
    config = {
        "map": map_page.map_name,
        "layers": map_page.layers,
        "query": req.as_json(),
        "page_query": page_query,
        "objective_label": gettext(OBJECTIVE_LABELS[req.objective]),
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
    downloadable = req.k is not None and req.k <= MAX_K  # a target's k can be above what /plan.* serve
    context.update(
        plan=plan,
        picks=picks,
        kept=set(req.keep),
        excluded=list(req.exclude),
        page_query=page_query,
        sites=[format_site(lat, lon) for lat, lon in (whatif.sites if whatif else ())],
        place_note=ask.place_note,
        place_error=ask.place_error,
        scope_name=states[req.state]["name"] if req.state else gettext("the nation (50 states, DC and PR)"),
        objective_label=OBJECTIVE_LABELS[req.objective],
        objective_gain=float(plan.picks["gain"].sum()),
        locale3=_locale_rows(plan, "locale"),
        locale4=_locale_rows(plan, "locale4"),
        assumptions=plan.assumptions,
        downloads={
            "geojson": url_for("plan.geojson", **req.query()) if downloadable else None,
            "csv": url_for("plan.csv", **req.query()) if downloadable else None,
            "json": url_for("api.plan", **req.query())
            if ask.mode == "plan"
            else url_for(
                "records.api_target",
                target_children=ask.target,
                state=req.state or "",
                objective=req.objective,
            ),
        },
        map_page=map_page,
        config=json_safe(config),
    )
    return render_template("plan.html", **context)
