"""The OpenAPI 3.0 document of the JSON API and the downloads, built from a dict.

Served at ``/api/openapi.json``. tests/webmap/test_api.py validates it with
openapi-spec-validator and checks that its paths and parameters are exactly
the ones the views accept (webmap.api.PARAMETERS, webmap.downloads.DOWNLOADS).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, has_app_context

logger = logging.getLogger(__name__)

OPENAPI_VERSION = "3.0.3"


def _server_url() -> str:
    """Return the configured public origin (webmap.edge), never the request's Host; else ``/``."""
    base = current_app.config.get("BASE_URL") if has_app_context() else None
    return str(base or "").rstrip("/") + "/"


_STR = {"type": "string"}
_STR_NULL = {"type": "string", "nullable": True}
_NUM_NULL = {"type": "number", "nullable": True}
_INT_NULL = {"type": "integer", "nullable": True}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _param(
    name: str, description: str, schema: dict[str, Any], *, required: bool = False, where: str = "query"
) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "description": description, "schema": schema}


PARAMETERS: dict[str, dict[str, Any]] = {
    "state": _param(
        "state",
        "Two-letter USPS code (case-insensitive), e.g. IL. Schools are matched by the "
        "state their point falls in.",
        {"type": "string", "pattern": "^[A-Za-z]{2}$"},
    ),
    "locale": _param(
        "locale",
        "Locale class: urban, suburban, rural (three classes) or city, suburb, town "
        "(NCES-style; rural matches both schemes).",
        {"type": "string", "enum": ["urban", "suburban", "rural", "city", "suburb", "town"]},
    ),
    "bbox": _param(
        "bbox",
        "minLon,minLat,maxLon,maxLat in WGS84 degrees; west > east crosses the antimeridian.",
        {"type": "string", "example": "-88.0,41.6,-87.5,42.1"},
    ),
    "limit": _param(
        "limit", "Schools per page.", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}
    ),
    "offset": _param("offset", "Schools to skip.", {"type": "integer", "minimum": 0, "default": 0}),
    "lat": _param(
        "lat", "Latitude, WGS84 degrees.", {"type": "number", "minimum": -90, "maximum": 90}, required=True
    ),
    "lon": _param(
        "lon", "Longitude, WGS84 degrees.", {"type": "number", "minimum": -180, "maximum": 180}, required=True
    ),
    "k": _param("k", "How many schools.", {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}),
    "radius_mi": _param(
        "radius_mi",
        "Only schools within this many miles (great-circle); when none are, the k "
        "nearest beyond it are returned with within_radius=false.",
        {"type": "number", "exclusiveMinimum": True, "minimum": 0, "maximum": 500},
    ),
}

_PROVENANCE = {
    "is_sample": {"type": "boolean", "description": "true when the schools are the generated sample"},
    "built_at": {
        "type": "string",
        "format": "date-time",
        "nullable": True,
        "description": "when the build was made (UTC)",
    },
    "build_id": {"type": "string"},
}

_SCHOOL = {
    "school_id": _STR,
    "name": _STR_NULL,
    "address": _STR_NULL,
    "city": _STR_NULL,
    "state": _STR_NULL,
    "zip": _STR_NULL,
    "country": _STR_NULL,
    "nces_id": _STR_NULL,
    "district": _STR_NULL,
    "grades": _STR_NULL,
    "lead_partner": _STR_NULL,
    "year_started": _INT_NULL,
    "nces_locale": _INT_NULL,
    "lat": {"type": "number"},
    "lon": {"type": "number"},
    "precision": {
        "type": "string",
        "enum": ["given", "street", "zip", "city", "state"],
        "description": "zip and coarser points are approximate",
    },
    "geocode_method": _STR_NULL,
    "geocode_note": _STR_NULL,
    "statefp": _STR_NULL,
    "stusps": _STR_NULL,
    "county_fips": _STR_NULL,
    "zcta": _STR_NULL,
    "locale4": _STR_NULL,
    "locale": _STR_NULL,
    "locale_source": _STR_NULL,
    "is_sample": {"type": "boolean"},
}

#: The figures of docs/METRICS.md (geo/metrics.py METRIC_COLUMNS); rows may carry more.
_METRICS = {
    "community_schools": {"type": "integer"},
    "children": {"type": "number"},
    "schools_per_10k_children": _NUM_NULL,
    "children_within_reach": {"type": "number"},
    "reach_share": _NUM_NULL,
    "unserved_children": {"type": "number"},
    "high_poverty_children": {"type": "number"},
    "high_poverty_children_within_reach": {"type": "number"},
    "high_poverty_reach_share": _NUM_NULL,
    "unserved_high_poverty_children": {"type": "number"},
}

_LINKS = {"type": "object", "additionalProperties": {"type": "string", "nullable": True}}


def _schemas() -> dict[str, Any]:
    def with_provenance(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {**_PROVENANCE, **properties},
            "required": ["is_sample", "built_at", "build_id", *required],
        }

    return {
        "School": {
            "type": "object",
            "properties": _SCHOOL,
            "required": ["school_id", "lat", "lon", "is_sample"],
            "additionalProperties": False,
        },
        # A copy, not allOf: "additionalProperties: false" does not see through allOf.
        "NearbySchool": {
            "type": "object",
            "additionalProperties": False,
            "properties": {**_SCHOOL, "distance_mi": {"type": "number", "description": "great-circle miles"}},
            "required": ["school_id", "lat", "lon", "is_sample", "distance_mi"],
        },
        "StateMetrics": {
            "type": "object",
            "description": "One state's figures (docs/METRICS.md).",
            "properties": {
                "statefp": _STR,
                "stusps": _STR,
                "name": _STR,
                "coalition_status": {
                    "type": "string",
                    "nullable": True,
                    "enum": ["existing", "developing", "none", None],
                },
                "desert_counties": {"type": "integer"},
                "rank_unserved_high_poverty": {"type": "integer"},
                **_METRICS,
            },
            "required": ["stusps", "name"],
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
                        "coalitions": {"type": "array", "items": {"type": "object"}},
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

_NUM = {"type": "number"}
_INT = {"type": "integer"}


def _closed(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": list(properties) if required is None else required,
        **extra,
    }


def _plan_schemas() -> dict[str, Any]:
    from webmap.plan import MAX_K, MAX_SITES

    totals = _closed(
        {
            "children": _NUM,
            "children_within_reach": _NUM,
            "share_within_reach": _NUM_NULL,
            "unserved_children": _NUM,
            "high_poverty_children": _NUM,
            "high_poverty_children_within_reach": _NUM,
            "high_poverty_share_within_reach": _NUM_NULL,
            "zctas_with_children": _INT,
            "zctas_with_children_within_reach": _INT,
        },
        description="Totals for the scope; a share is null when its denominator is 0.",
    )
    pick = _closed(
        {
            "order": {"type": "integer", "minimum": 1, "description": "1-based pick (or what-if) order"},
            "candidate_id": {"type": "string", "description": "ZCTA code, the list's id, or site-<n>"},
            "name": _STR,
            "lat": _NUM,
            "lon": _NUM,
            "stusps": _STR_NULL,
            "gain": {"type": "number", "description": "objective children this site newly reaches"},
            "cumulative": {"type": "number", "description": "running sum of gain"},
            "children_newly_reached": {
                "type": "number",
                "description": "all unserved children newly reached",
            },
            "zctas_newly_reached": _INT,
        }
    )
    locale_row = _closed(
        {
            "level": {"type": "string", "enum": ["locale", "locale4"]},
            "locale_class": _STR,
            "children": _NUM,
            "within_reach_before": _NUM,
            "within_reach_after": _NUM,
            "gain": _NUM,
            "share_before": _NUM_NULL,
            "share_after": _NUM_NULL,
            "high_poverty_children": _NUM,
            "high_poverty_within_reach_before": _NUM,
            "high_poverty_within_reach_after": _NUM,
        }
    )
    assumptions = _closed(
        {
            "scope": {"type": "string", "description": "USPS code, or US for the nation"},
            "objective": {"type": "string", "enum": ["unserved", "poverty"]},
            "k": _INT,
            "method": {"type": "string", "enum": ["celf", "greedy", "what-if"]},
            "poverty_threshold": _NUM,
            "reach_miles": {
                "type": "object",
                "additionalProperties": {"type": "number"},
                "description": "reach distance in miles by locale class (city, suburb, town, rural)",
            },
            "data_vintage": _STR,
            "is_sample": {"type": "boolean", "nullable": True},
            "existing_schools": _INT,
            "candidate_source": _STR,
            "candidates": _INT,
            "notes": {"type": "array", "items": _STR},
            "build_id": _STR,
            "built_at": _STR_NULL,
        }
    )
    reached = _closed(
        {
            "zcta": _STR,
            "stusps": _STR_NULL,
            "lat": _NUM,
            "lon": _NUM,
            "children": _NUM,
            "locale4": _STR_NULL,
            "high_poverty": {"type": "boolean"},
            "order": {"type": "integer", "description": "the site that first reaches this ZCTA"},
        },
        ["zcta", "lat", "lon", "children", "high_poverty", "order"],
    )
    answer = _closed(
        {
            **_PROVENANCE,
            "mode": {"type": "string", "enum": ["plan", "what_if"]},
            "query": _closed(
                {
                    "state": _STR_NULL,
                    "objective": _STR,
                    "k": {**_INT_NULL, "description": "null in a what-if"},
                    "sites": {
                        "type": "array",
                        "maxItems": MAX_SITES,
                        "items": {"type": "array", "items": _NUM, "minItems": 2, "maxItems": 2},
                        "description": "the site= values as [lat, lon]",
                    },
                }
            ),
            "picks": {"type": "array", "items": _ref("PlanSite"), "maxItems": 100_000},
            "before": _ref("PlanTotals"),
            "after": _ref("PlanTotals"),
            "gain": _closed({"children_within_reach": _NUM, "high_poverty_children_within_reach": _NUM}),
            "by_locale": {"type": "array", "items": _ref("PlanLocaleRow")},
            "assumptions": _ref("PlanAssumptions"),
            "reached": {"type": "array", "items": _ref("PlanReachedZcta")},
            "links": _closed(
                {"self": _STR, "page": _STR, "geojson": _STR, "csv": _STR},
                description="GET only: this answer, the /plan page, and the downloads",
            ),
        },
        [
            "is_sample",
            "built_at",
            "build_id",
            "mode",
            "query",
            "picks",
            "before",
            "after",
            "gain",
            "by_locale",
            "assumptions",
            "reached",
        ],
    )
    body = _closed(
        {
            "state": {"type": "string", "nullable": True, "description": "USPS code; omit for the nation"},
            "k": {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": 10},
            "objective": {"type": "string", "enum": ["unserved", "poverty"], "default": "unserved"},
            "what_if": {"type": "boolean", "default": False, "description": "add every candidate in order"},
            "candidates": {
                "oneOf": [
                    {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "description": "lat and lon (or latitude/longitude); optional name, id, state",
                        },
                    },
                    {"type": "object", "description": "a GeoJSON FeatureCollection of points"},
                ]
            },
        },
        ["candidates"],
    )
    return {
        "PlanTotals": totals,
        "PlanSite": pick,
        "PlanLocaleRow": locale_row,
        "PlanAssumptions": assumptions,
        "PlanReachedZcta": reached,
        "PlanAnswer": answer,
        "PlanRequest": body,
    }


def _plan_parameters() -> list[dict[str, Any]]:
    from webmap.plan import DEFAULT_K, MAX_K, MAX_SITES

    site = _param(
        "site",
        "A what-if site as lat,lon (WGS84 degrees); repeat it, in order, for several. With site, "
        "k must be omitted: every site is added and its marginal gain reported.",
        {"type": "array", "maxItems": MAX_SITES, "items": {"type": "string", "example": "30.27,-97.74"}},
    )
    site.update(style="form", explode=True)
    return [
        _param(
            "state",
            "Two-letter USPS code of the scope; omitted or empty: the nation (50 states, DC and PR).",
            {"type": "string", "pattern": "^([A-Za-z]{2})?$"},
        ),
        _param(
            "k",
            f"Number of new sites, from 1 to {MAX_K}; not with site.",
            {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": DEFAULT_K},
        ),
        _param(
            "objective",
            "unserved: all children beyond reach; poverty: those in ZCTAs with 20%+ below poverty.",
            {"type": "string", "enum": ["unserved", "poverty"], "default": "unserved"},
        ),
        site,
    ]


def _plan_path() -> dict[str, Any]:
    from webmap.plan import MAX_UPLOAD_BYTES

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
        extra=_plan_parameters(),
    )
    post = {
        "summary": "Plan over, or what-if, your own candidate list (CSV or GeoJSON)",
        "tags": ["api"],
        "description": "A JSON body (PlanRequest); a multipart form with the file in field `candidates` and "
        "state, k, objective, what_if as fields or query parameters; or the file itself as a text/csv or "
        "application/geo+json body with the parameters in the query. POST answers are not cached and "
        "have no links.",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _ref("PlanRequest")},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "candidates": {"type": "string", "format": "binary"},
                            "state": _STR,
                            "k": _INT,
                            "objective": _STR,
                            "what_if": {"type": "boolean"},
                        },
                        "required": ["candidates"],
                    }
                },
                "text/csv": {"schema": {"type": "string", "description": "name,lat,lon rows"}},
                "application/geo+json": {"schema": {"type": "object"}},
            },
        },
        "responses": {
            "200": {
                "description": "The plan (as for GET, without links).",
                "content": {"application/json": {"schema": _ref("PlanAnswer")}},
            },
            "400": _ERRORS["400"],
            "413": too_large,
        },
    }
    return {**get, "post": post}


def _plan_download(kind: str, media_type: str) -> dict[str, Any]:
    return _get(
        f"The plan's sites as {kind} (the parameters of GET /api/plan; POST as for /api/plan too)",
        [],
        {
            "200": {
                "description": f"{kind} with Content-Disposition; is_sample on every row",
                "content": {media_type: {}},
            }
        },
        extra=_plan_parameters(),
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
}


def _get(
    summary: str,
    params: list[str],
    responses: dict[str, Any],
    *,
    description: str = "",
    extra: list[dict[str, Any]] | None = None,
    tag: str = "api",
) -> dict[str, Any]:
    operation = {
        "summary": summary,
        "tags": [tag],
        "parameters": [*(extra or []), *(PARAMETERS[p] for p in params)],
        "responses": {**responses, **_ERRORS},
    }
    if description:
        operation["description"] = description
    return {"get": operation}


def document() -> dict[str, Any]:
    """Return the OpenAPI 3.0 document (a new dict each call)."""
    from webmap.downloads import DOWNLOADS

    state_path = _param(
        "state",
        "Two-letter USPS code, e.g. IL.",
        {"type": "string", "pattern": "^[A-Za-z]{2}$"},
        required=True,
        where="path",
    )
    download_name = _param(
        "name",
        "The file: dataset.format.",
        {"type": "string", "enum": sorted(DOWNLOADS)},
        required=True,
        where="path",
    )
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
                [],
                {"200": {"description": "Links to every endpoint.", "content": {"application/json": {}}}},
            ),
            "/api/schools": _get(
                "Schools, filtered and paged",
                ["state", "locale", "bbox", "limit", "offset"],
                {"200": _json_response("SchoolPage", "A page of schools in layer order.")},
                description="Filters combine with AND. `total` counts every match; follow `links.next`.",
            ),
            "/api/schools/nearest": _get(
                "The schools nearest a point",
                ["lat", "lon", "k", "radius_mi"],
                {"200": _json_response("NearestAnswer", "Schools, closest first, with distance_mi.")},
            ),
            "/api/states": _get(
                "Every state with its metrics",
                [],
                {"200": _json_response("StateList", "50 states, DC and PR, by FIPS.")},
            ),
            "/api/states/{state}": _get(
                "One state: metrics, locales, desert counties and coalition",
                [],
                {"200": _json_response("StateDetail", "The state."), "404": not_found},
                extra=[state_path],
            ),
            "/api/plan": _plan_path(),
            "/plan.geojson": _plan_download("GeoJSON", "application/geo+json"),
            "/plan.csv": _plan_download("CSV", "text/csv"),
            "/api/openapi.json": _get(
                "This document",
                [],
                {"200": {"description": "OpenAPI 3.0 document.", "content": {"application/json": {}}}},
            ),
            "/downloads/{name}": _get(
                "A whole or filtered file",
                ["state", "locale", "bbox"],
                {
                    "200": {
                        "description": "The file, with Content-Disposition, ETag and Cache-Control; "
                        "gzip when "
                        "accepted. Filters: schools take state, locale and bbox; counties "
                        "take state; states take none.",
                        "content": {
                            "application/geo+json": {},
                            "text/csv": {},
                            "application/geopackage+sqlite3": {},
                        },
                    },
                    "404": not_found,
                },
                extra=[download_name],
                tag="downloads",
            ),
        },
        "components": {"schemas": _schemas()},
    }
