"""The movement's records on the web: the JSON API, the partner directory and the goal (docs/RECORDS.md).

* ``/api/coalitions``, ``/api/communities``, ``/api/partners``: each table as
  JSON, or as a CSV download with ``?f=csv``; every answer carries ``is_sample``.
* ``/api/plan/target``: the planner's target mode (:mod:`geo.planner_target`); ``/plan/target``
  redirects to the planner page's target mode (``/plan?mode=target``).
* ``/partners`` (directory with search) and ``/partners/<id>`` (a partner's schools on a map).
* ``/map/communities.geojson``: the Coalition Communities map layer.
* Template helpers for the landing page's goal and the state page's communities.

Views are thin: parse with the declared parameters (webmap.params), read the
per-build caches (webmap.record_data), serialize or render.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import numpy as np
import pandas as pd
from flask import Blueprint, current_app, redirect, render_template, request, url_for

from geo.errors import NotFoundError
from geo.goal import goal_progress, goal_targets
from geo.partners import search_partners
from geo.planner_target import MAX_TARGET_CHILDREN
from geo.registry.records import PARTNER_TYPES
from geo.store import csv_safe, json_safe
from webmap import record_data
from webmap.data import get_data
from webmap.exports import provenance
from webmap.http_cache import send_bytes
from webmap.params import STATE, Param, Parameters, known_state

logger = logging.getLogger(__name__)

bp = Blueprint("records", __name__)

API_MAX_AGE = 60
FORMAT = Param(
    "f",
    "json (default) or csv (a download of the whole table).",
    enum=("json", "csv"),
    fold="lower",
    default="json",
)
PARTNER_QUERY = Param("q", "Words the partner's name must contain (case-insensitive).")
PARTNER_TYPE = Param("type", "Only partners of this type.", enum=PARTNER_TYPES, fold="lower")
TARGET_CHILDREN = Param(
    "target_children",
    # A whole number of children, so the documented bounds are exact (the contract test probes
    # 100,000,000 and 100,000,001) and a schema-valid value is never refused.
    f"N: how many more children the new sites should reach (at most {MAX_TARGET_CHILDREN:,}).",
    type="integer",
    minimum=1,
    maximum=MAX_TARGET_CHILDREN,
    required=True,
)
OBJECTIVE = Param(
    "objective",
    "unserved: all children beyond reach; poverty: those in high-poverty ZCTAs.",
    enum=("unserved", "poverty"),
    fold="lower",
    default="unserved",
)
#: The parameters of each endpoint, declared once (webmap.api merges them into its table,
#: webmap.openapi documents them). Anything else in an API query is a 400.
PARAMETERS: dict[str, Parameters] = {
    "/api/coalitions": Parameters((FORMAT, STATE)),
    "/api/communities": Parameters((FORMAT, STATE)),
    "/api/partners": Parameters((FORMAT, STATE, PARTNER_QUERY, PARTNER_TYPE)),
    "/api/plan/target": Parameters((TARGET_CHILDREN, STATE, OBJECTIVE)),
}
PARTNERS_PAGE = Parameters((PARTNER_QUERY, PARTNER_TYPE), page=True)
TARGET_PAGE = Parameters((TARGET_CHILDREN, STATE, OBJECTIVE), page=True)
MAP_COMMUNITIES = Parameters((STATE,))


def _states(data) -> frozenset[str]:
    from webmap.exports import known_states

    return known_states(data)


def _csv_arguments() -> dict[str, Any]:
    """Return the request's filters with ``f=csv``: the link to the same answer as a download."""
    return {k: v for k, v in request.args.items() if k != "f"} | {"f": "csv"}


def _table_answer(name: str, key: str):
    values = PARAMETERS[f"/api/{name}"].parse(request.args)
    data = get_data()
    state = known_state(values.get("state"), _states(data))
    frame = record_data.table(data, name)
    filtered = state is not None or values.get("q") or values.get("type")
    suffix = "sample" if data.is_sample else "records"
    if values["f"] == "csv" and not filtered:
        body = record_data.csv_bytes(data, name)
        return send_bytes(body, "text/csv", filename=f"csmap-{name}-{suffix}.csv", charset="utf-8")
    keep = pd.Series(True, index=frame.index)
    if state is not None:
        keep &= frame["stusps"].astype("str") == state
    if name == "partners" and (values.get("q") or values.get("type")):
        keep &= frame.index.isin(
            search_partners(frame, values.get("q"), partner_type=values.get("type")).index
        )
    positions = np.flatnonzero(keep.to_numpy())
    if values["f"] == "csv":
        chosen = frame.iloc[positions].assign(built_at=provenance(data)["built_at"])
        buffer = io.StringIO()
        csv_safe(chosen).to_csv(buffer, index=False)
        body = buffer.getvalue().encode("utf-8")
        return send_bytes(body, "text/csv", filename=f"csmap-{name}-{suffix}.csv", charset="utf-8")
    rows = record_data.records(data, name)
    document = {
        **provenance(data),
        "filters": {k: v for k, v in values.items() if k != "f" and v is not None},
        "count": len(positions),
        "links": {"csv": url_for(f"records.api_{name}", **_csv_arguments())},
        key: [rows[i] for i in positions],
    }
    body = json.dumps(json_safe(document), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return send_bytes(
        body, "application/json", max_age=API_MAX_AGE, filename=f"csmap-{name}-{suffix}.json", inline=True
    )


@bp.get("/api/coalitions")
def api_coalitions():
    """State coalitions: stage, leads, public contact, website, join link, area."""
    return _table_answer("coalitions", "coalitions")


@bp.get("/api/communities")
def api_communities():
    """Coalition Communities: lead organization and type, area, linked school count."""
    return _table_answer("communities", "communities")


@bp.get("/api/partners")
def api_partners():
    """Partner organizations, with the schools each works with (counts)."""
    return _table_answer("partners", "partners")


def target_answer(values: dict[str, Any]) -> dict[str, Any]:
    """Run the target mode on the current build (the /plan page's own answer) and return its JSON."""
    from webmap.plan import compute_target

    data = get_data()
    state = known_state(values.get("state"), _states(data))
    answer = compute_target(data, state, values["objective"], values["target_children"])
    return json_safe({**provenance(data), "query": {**values, "state": state}, **answer.to_json()})


@bp.get("/api/plan/target")
def api_target():
    """Target mode: the fewest new sites (greedy) that reach N more children, or why they cannot."""
    values = PARAMETERS["/api/plan/target"].parse(request.args)
    body = json.dumps(target_answer(values), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return send_bytes(body, "application/json", max_age=API_MAX_AGE)


@bp.get("/plan/target")
def target_page():
    """Send the former target page to the planner page's target mode (same query)."""
    query = {key: value for key, value in request.args.items() if key in TARGET_PAGE.names}
    return redirect(url_for("plan.page", mode="target", **query), code=301)


# --------------------------------------------------------------------------
# Partner pages


@bp.get("/partners")
def partner_directory():
    """List the partner directory, searchable by name words and type."""
    values = PARTNERS_PAGE.parse(request.args)
    data = get_data()
    frame = record_data.table(data, "partners")
    found = search_partners(frame, values.get("q"), partner_type=values.get("type"))
    return render_template(
        "records/partners.html",
        partners=found.to_dict("records"),
        total=len(frame),
        q=values.get("q") or "",
        kind=values.get("type") or "",
        types=PARTNER_TYPES,
    )


@bp.get("/partners/<partner_id>")
def partner_page(partner_id: str):
    """One partner: its type, website and its schools on a map."""
    data = get_data()
    row = record_data.partner(data, partner_id)
    if row is None:
        msg = f"no partner {partner_id!r} in this build; /partners lists them"
        raise NotFoundError(msg)
    schools = record_data.partner_schools(data, partner_id)
    return render_template("records/partner.html", partner=row, schools=schools)


@bp.get("/map/communities.geojson")
def communities_geojson():
    """Serve the Coalition Communities map layer (GeoJSON), all or one state's (``?state=``)."""
    data = get_data()
    state = known_state(MAP_COMMUNITIES.parse(request.args)["state"], _states(data))
    return send_bytes(record_data.communities_geojson(data, state), "application/geo+json", max_age=300)


# --------------------------------------------------------------------------
# Template helpers (the landing and state pages include the records' partials)


@bp.app_context_processor
def record_helpers() -> dict[str, Any]:
    """Give templates ``national_goal()`` and ``state_records(code)``."""

    def national_goal() -> dict[str, Any] | None:
        try:
            data = get_data()
        except Exception:  # the error page must render with no build  # noqa: BLE001
            return None
        from webmap.exports import metrics_document

        # CSMAP_GOAL_SCHOOLS / CSMAP_GOAL_CHILDREN reach the config through from_prefixed_env.
        schools, children = goal_targets(current_app.config)
        return goal_progress(metrics_document(data).get("national", {}), schools=schools, children=children)

    def state_records(code: str) -> dict[str, Any]:
        data = get_data()
        coalitions = [r for r in record_data.records(data, "coalitions") if r.get("stusps") == code]
        return {
            "coalitions": [r for r in coalitions if r.get("stage") not in (None, "none")],
            "communities": record_data.state_communities(data, code),
            "communities_url": url_for("records.communities_geojson", state=code),
        }

    return {"national_goal": national_goal, "state_records": state_records}
