"""The OpenAPI 3.0 document of the JSON API and the downloads, built from a dict.

Served at ``/api/openapi.json``. tests/webmap/test_api.py validates it with
openapi-spec-validator and checks that its paths and parameters are exactly
the ones the views accept (webmap.api.PARAMETERS, webmap.downloads.DOWNLOADS).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import Any

from flask import current_app, has_app_context

from geo import registry
from webmap.openapi_schema import (
    _LINKS,
    _PROVENANCE,
    _STR,
    NO_K_IN_A_WHAT_IF,
    _plan_schemas,
    _ref,
    plan_request_schema,
    plan_state_schema,
)
from webmap.records_openapi import record_paths, record_schemas

logger = logging.getLogger(__name__)

OPENAPI_VERSION = "3.0.3"
#: gunicorn refuses a request line over 4,094 bytes (its limit_request_line) before the app sees it.
URI_TOO_LONG = "The URL is too long: the request line is over the server's limit (4,094 bytes)."


def _server_url() -> str:
    """Return the configured public origin (webmap.edge), never the request's Host; else ``/``."""
    base = current_app.config.get("BASE_URL") if has_app_context() else None
    return str(base or "").rstrip("/") + "/"


def _schemas() -> dict[str, Any]:
    def with_provenance(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {**_PROVENANCE, **properties},
            "required": ["is_sample", "built_at", "build_id", *required],
        }

    # The columns are read from geo.registry on each call: a school is every column the API
    # serves; a state row carries its columns and figures (docs/METRICS.md), and may carry more.
    school = {c.name: c.json_schema() for c in registry.api_school_columns()}
    school_required = [c.name for c in registry.api_school_columns() if c.required]
    state = {c.name: c.json_schema() for c in registry.dataset_columns("states")}
    state_required = [c.name for c in registry.dataset_columns("states") if c.required]
    # A coalitions-table row; the API splits its ';'-joined county FIPS codes into a list.
    coalition = {
        "type": "object",
        "properties": {
            **{c.name: c.json_schema() for c in registry.dataset_columns("coalitions")},
            "county_fips": {"type": "array", "items": _STR, "description": "county FIPS codes (regional)"},
        },
    }
    return {
        "School": {
            "type": "object",
            "properties": school,
            "required": school_required,
            "additionalProperties": False,
        },
        # A copy, not allOf: "additionalProperties: false" does not see through allOf.
        "NearbySchool": {
            "type": "object",
            "additionalProperties": False,
            "properties": {**school, "distance_mi": {"type": "number", "description": "great-circle miles"}},
            "required": [*school_required, "distance_mi"],
        },
        "StateMetrics": {
            "type": "object",
            "description": "One state's figures (docs/METRICS.md).",
            "properties": state,
            "required": state_required,
            "additionalProperties": True,
        },
        "Error": {
            "type": "object",
            "properties": {
                "status": {"type": "integer"},
                "title": _STR,
                "description": _STR,
                "parameter": {"type": "string", "description": "the query parameter at fault (400 only)"},
            },
            "required": ["status", "title", "description"],
        },
        "SchoolPage": with_provenance(
            {
                "filters": {"type": "object", "additionalProperties": {"type": "string"}},
                "total": {"type": "integer", "description": "schools matching the filters"},
                "limit": {"type": "integer"},
                "offset": {"type": "integer"},
                "count": {"type": "integer", "description": "schools in this page"},
                "links": {
                    **_LINKS,
                    "description": "self, next, prev (null at the ends) and geojson (the same "
                    "filters as a download); relative URLs",
                },
                "schools": {"type": "array", "items": _ref("School")},
            },
            ["total", "limit", "offset", "count", "links", "schools"],
        ),
        "NearestAnswer": with_provenance(
            {
                "query": {"type": "object"},
                "within_radius": {
                    "type": "boolean",
                    "nullable": True,
                    "description": "null without radius_mi; false when no school is within it "
                    "and the schools listed are the nearest beyond it",
                },
                "message": {"type": "string", "nullable": True},
                "count": {"type": "integer"},
                "schools": {"type": "array", "items": _ref("NearbySchool")},
            },
            ["within_radius", "count", "schools"],
        ),
        "SchoolDetail": with_provenance(
            {
                "school": _ref("School"),
                "contact": {
                    "type": "object",
                    "description": "phone, website and email (null when not on file; the sample has none)",
                    "properties": {
                        c: {"type": "string", "nullable": True} for c in ("phone", "website", "email")
                    },
                },
                "directions": {
                    "type": "object",
                    "description": "osm: OpenStreetMap directions to the school; geo: a geo: URI (RFC 5870)",
                    "properties": {"osm": _STR, "geo": _STR},
                },
                "coalition": {
                    "type": "object",
                    "nullable": True,
                    "description": "the state coalition (contact only when public), with covers_school",
                },
                "communities": {"type": "array", "items": {"type": "object"}},
                "partners": {"type": "array", "items": {"type": "object"}},
                "nearby": {
                    "type": "array",
                    "description": "the nearest Community Schools, closest first, distance_mi great-circle",
                    "items": {"type": "object"},
                },
                "nearby_within_radius": {
                    "type": "boolean",
                    "description": "false when none lies within 25 miles and the nearest beyond are listed",
                },
                "links": _LINKS,
            },
            ["school", "contact", "directions", "coalition", "communities", "partners", "nearby", "links"],
        ),
        "StateList": with_provenance(
            {
                "national": {"type": "object", "description": "the 50 states, DC and PR together"},
                "parameters": {"type": "object", "description": "reach distances and thresholds used"},
                "count": {"type": "integer"},
                "states": {
                    "type": "array",
                    "items": {
                        "allOf": [_ref("StateMetrics"), {"type": "object", "properties": {"links": _LINKS}}]
                    },
                },
            },
            ["count", "states"],
        ),
        **_plan_schemas(),
        "StateDetail": with_provenance(
            {
                "state": _ref("StateMetrics"),
                "locales": {
                    "type": "object",
                    "description": "figures by locale: {locale4|locale: {class: row}}",
                },
                "desert_counties": {"type": "array", "items": {"type": "object"}},
                "coalition": {
                    "type": "object",
                    "properties": {
                        "status": {"type": "string", "nullable": True},
                        "coalitions": {"type": "array", "items": coalition},
                    },
                },
                "links": _LINKS,
            },
            ["state", "locales", "desert_counties", "coalition"],
        ),
    }


# --------------------------------------------------------------------------
# The expansion planner (/api/plan; docs/PLANNER.md). Every object is closed
# (additionalProperties false), so a field added to geo.planner's output shows
# up as a test failure until it is documented here.


#: Which build codes each ``state`` query parameter accepts: a key of :func:`state_codes`.
StateCodes = Mapping[str, Collection[str]]


def state_codes(data: Any) -> dict[str, frozenset[str]]:
    """Return the USPS codes the build's ``state`` parameters accept, by what they filter.

    The server refuses a well-formed code its build lacks (``state=ZZ``: 400), so
    the document served with a build lists exactly these codes.
    """
    from geo.errors import NoBuildError
    from webmap import exports, plan

    codes = {"schools": exports.known_states(data), "counties": exports.county_states(data)}
    try:
        codes["plan"] = plan.state_codes(data)
        # The target mode checks the code against the schools' states, then the plan's ZCTAs'.
        codes["target"] = frozenset(codes["schools"]) & codes["plan"]
    except NoBuildError:  # a build without ZCTAs cannot plan (/api/plan answers 503)
        logger.info("build %s has no zctas: the plan's state is documented by its pattern", data.build_id)
    return codes


def _with_codes(parameters: Any, codes: StateCodes | None, vocabulary: str) -> list[dict[str, Any]]:
    if codes is not None and vocabulary in codes:
        parameters = parameters.with_values("state", codes[vocabulary])
    return parameters.openapi()


def _parameters(path: str, codes: StateCodes | None = None) -> list[dict[str, Any]]:
    """Return the parameters of an /api path: the very table its view parses with."""
    from webmap.api import PARAMETERS

    vocabulary = {"/api/plan": "plan", "/api/plan/target": "target"}.get(path, "schools")
    return _with_codes(PARAMETERS[path], codes, vocabulary)


def _plan_path(codes: StateCodes | None) -> dict[str, Any]:
    from webmap.plan import MAX_UPLOAD_BYTES, OBJECTIVE, K
    from webmap.plan_request import CSV_PATTERN

    answer = _json_response(
        "PlanAnswer", "The plan: picks in order with marginal gains, totals, assumptions."
    )
    too_large = {
        "description": f"The body is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.",
        "content": {"application/json": {"schema": _ref("Error")}},
    }
    get = _get(
        "Expansion plan: where k new sites reach the most unserved children, or a what-if",
        [],
        {"200": answer},
        description="Greedy maximal coverage (CELF) over the scope's ZCTA points, with the build's reach "
        "distances; or, with site=, the marginal gain of each given site in order. See docs/PLANNER.md.",
        extra=_parameters("/api/plan", codes),
    )
    state = plan_state_schema(codes.get("plan") if codes else None)
    csv_file = {
        "type": "string",
        "pattern": f"^(?:{CSV_PATTERN})$",
        "maxLength": MAX_UPLOAD_BYTES,
        "description": "a CSV list: the header lat,lon or name,lat,lon, then one row per site; "
        "the server also reads the other forms of docs/PLANNER.md (column synonyms and order, quotes)",
        "example": "name,lat,lon\nNorth site,30.31,-97.74\nSouth site,30.2,-97.75",
    }
    post = {
        "summary": "Plan over, or what-if, your own candidate list",
        "tags": ["api"],
        "description": "A JSON body (PlanRequest), or a multipart form with the candidates' CSV in the "
        "field `candidates` and state, k, objective, what_if as fields, or the CSV itself as a "
        "text/csv body with the parameters in the query. A CSV or GeoJSON *file* may be uploaded in "
        "the form field too, and a GeoJSON FeatureCollection of points may be sent as an "
        "application/geo+json body (docs/API.md): OpenAPI 3.0 cannot state a [lon, lat] position's "
        "two ranges, so those forms are described in words only. A k above the candidates left is "
        "capped (a note says so). POST answers are not cached and have no links.",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": plan_request_schema(codes.get("plan") if codes else None)},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "candidates": csv_file,
                            "state": state,
                            "k": K.openapi_schema(),
                            "objective": OBJECTIVE.openapi_schema(),
                            "what_if": {"type": "boolean"},
                        },
                        "required": ["candidates"],
                        **NO_K_IN_A_WHAT_IF,
                    }
                },
                "text/csv": {"schema": csv_file},
            },
        },
        "responses": {
            "200": {
                "description": "The plan (as for GET, without links).",
                "content": {"application/json": {"schema": _ref("PlanAnswer")}},
            },
            "400": _ERRORS["400"],
            "413": too_large,
            "414": _ERRORS["414"],
        },
    }
    return {**get, "post": post}


def _plan_download(kind: str, media_type: str, codes: StateCodes | None) -> dict[str, Any]:
    post = dict(_plan_path(codes)["post"])
    post["summary"] = f"The plan's sites as {kind}, over your own candidate list (bodies as for /api/plan)"
    post["tags"] = ["downloads"]
    post["responses"] = {
        **post["responses"],
        "200": {"description": f"{kind} with Content-Disposition", "content": {media_type: {}}},
    }
    return {**_get_plan_download(kind, media_type, codes), "post": post}


def _get_plan_download(kind: str, media_type: str, codes: StateCodes | None) -> dict[str, Any]:
    return _get(
        f"The plan's sites as {kind} (the parameters of GET /api/plan; POST as for /api/plan too)",
        [],
        {
            "200": {
                "description": f"{kind} with Content-Disposition; is_sample on every row",
                "content": {media_type: {}},
            }
        },
        extra=_parameters("/api/plan", codes),
        tag="downloads",
    )


def _json_response(schema: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref(schema)}},
        "headers": {"ETag": {"schema": _STR}, "Cache-Control": {"schema": _STR}},
    }


_ERRORS = {
    "400": {
        "description": "A bad or unknown query parameter; `parameter` names it.",
        "content": {"application/json": {"schema": _ref("Error")}},
    },
    "304": {"description": "Not modified (If-None-Match matched the ETag)."},
    "414": {"description": URI_TOO_LONG},
}


def _get(
    summary: str,
    params: list[dict[str, Any]],
    responses: dict[str, Any],
    *,
    description: str = "",
    extra: list[dict[str, Any]] | None = None,
    tag: str = "api",
) -> dict[str, Any]:
    operation = {
        "summary": summary,
        "tags": [tag],
        "parameters": [*(extra or []), *params],
        "responses": {**responses, **_ERRORS},
    }
    if description:
        operation["description"] = description
    return {"get": operation}


def _download_paths(codes: StateCodes | None) -> dict[str, Any]:
    """One path per file of webmap.downloads.DOWNLOADS, each with exactly the filters it takes."""
    from webmap.downloads import DICTIONARY_FILES, DOWNLOADS, FORMATS

    paths = {}
    for name, download in DOWNLOADS.items():
        fmt = FORMATS[download.format]
        filters = ", ".join(download.parameters.names) or "no filters"
        paths[f"/downloads/{name}"] = _get(
            f"{download.dataset} as {fmt.label} ({filters})",
            _with_codes(download.parameters, codes, download.dataset),
            {
                "200": {
                    "description": "The file, with Content-Disposition, ETag and Cache-Control; gzip when "
                    "accepted. Empty filters (as the /downloads form sends them) mean no filter.",
                    "content": {fmt.mimetype: {}},
                }
            },
            tag="downloads",
        )
    for name, (media, _) in DICTIONARY_FILES.items():
        paths[f"/downloads/{name}"] = _get(
            "The data dictionary: every column of every file, with its type and meaning",
            [],
            {"200": {"description": "The data dictionary.", "content": {media: {}}}},
            tag="downloads",
        )
    return paths


def document(codes: StateCodes | None = None) -> dict[str, Any]:
    """Return the OpenAPI 3.0 document (a new dict each call).

    ``codes`` (:func:`state_codes` of the build served) lists the ``state`` values
    each endpoint accepts; without it a state is documented by its pattern only.
    """
    not_found = {
        "description": "No such state / file.",
        "content": {"application/json": {"schema": _ref("Error")}},
    }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Community Schools Map API",
            "version": "1.0.0",
            "description": (
                "Where Community Schools are, and which children they reach. Every answer says whether the "
                "data is the generated sample (`is_sample`) and when it was built (`built_at`). Unknown or "
                "repeated query parameters are refused with a 400 naming them. Metric definitions: "
                "docs/METRICS.md; guide: docs/API.md."
            ),
            "license": {"name": "MIT"},
        },
        # The configured public origin (webmap.edge), never the request's Host.
        "servers": [{"url": _server_url()}],
        "tags": [
            {"name": "api", "description": "JSON answers"},
            {"name": "downloads", "description": "whole or filtered files"},
        ],
        "paths": {
            "/api": _get(
                "List the endpoints",
                _parameters("/api"),
                {"200": {"description": "Links to every endpoint.", "content": {"application/json": {}}}},
            ),
            "/api/schools": _get(
                "Schools, filtered and paged",
                _parameters("/api/schools", codes),
                {"200": _json_response("SchoolPage", "A page of schools in layer order.")},
                description="Filters combine with AND. `total` counts every match; follow `links.next`.",
            ),
            "/api/schools/nearest": _get(
                "The schools nearest a point",
                _parameters("/api/schools/nearest"),
                {"200": _json_response("NearestAnswer", "Schools, closest first, with distance_mi.")},
            ),
            "/api/schools/{school_id}": _get(
                "One school: its fields, contact, directions, coalition, communities, partners, nearby",
                _parameters("/api/schools/{school_id}"),
                {
                    "200": _json_response("SchoolDetail", "The school and its setting."),
                    "404": {
                        "description": "No school with this id in the build.",
                        "content": {"application/json": {"schema": _ref("Error")}},
                    },
                },
                description="The same document as the page /schools/{school_id}. A school_id stays the same "
                "across builds of the same list (docs/SCHOOLS.md).",
            ),
            "/api/states": _get(
                "Every state with its metrics",
                _parameters("/api/states"),
                {"200": _json_response("StateList", "50 states, DC and PR, by FIPS.")},
            ),
            "/api/states/{state}": _get(
                "One state: metrics, locales, desert counties and coalition",
                _parameters("/api/states/{state}"),
                {"200": _json_response("StateDetail", "The state."), "404": not_found},
            ),
            "/api/plan": _plan_path(codes),
            "/plan.geojson": _plan_download("GeoJSON", "application/geo+json", codes),
            "/plan.csv": _plan_download("CSV", "text/csv", codes),
            "/api/openapi.json": _get(
                "This document",
                _parameters("/api/openapi.json"),
                {"200": {"description": "OpenAPI 3.0 document.", "content": {"application/json": {}}}},
            ),
            **_download_paths(codes),
            **record_paths(_get, lambda path: _parameters(path, codes)),
        },
        "components": {"schemas": {**_schemas(), **record_schemas()}},
    }
