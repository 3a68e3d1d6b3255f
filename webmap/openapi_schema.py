"""Building blocks of the OpenAPI schemas, and the planner's answer schemas (webmap.openapi).

Kept apart from the document itself (webmap.openapi) so that neither grows past a
readable size; the blocks are plain dicts of OpenAPI 3.0 schema objects.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

_STR = {"type": "string"}
_STR_NULL = {"type": "string", "nullable": True}
_NUM_NULL = {"type": "number", "nullable": True}
_INT_NULL = {"type": "integer", "nullable": True}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


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

_LINKS = {"type": "object", "additionalProperties": {"type": "string", "nullable": True}}


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
    from webmap.plan import MAX_SITES

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
                    "keep": {"type": "array", "items": _STR, "description": "the keep= ids, in order"},
                    "exclude": {"type": "array", "items": _STR, "description": "the exclude= ids"},
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
    return {
        "PlanTotals": totals,
        "PlanSite": pick,
        "PlanLocaleRow": locale_row,
        "PlanAssumptions": assumptions,
        "PlanReachedZcta": reached,
        "PlanAnswer": answer,
        "PlanRequest": plan_request_schema(),
    }


def plan_state_schema(codes: Any = None, *, nullable: bool = False) -> dict[str, Any]:
    """Return a POST body's ``state``: one of ``codes`` (any letter case), or empty for the nation.

    Exactly what the server accepts (webmap.plan_request): without ``codes`` (no build), any
    two letters, of which the server refuses those its build lacks.
    """
    from webmap.params import caseless_pattern

    codes = sorted(codes) if codes else None
    pattern = f"^(?:{caseless_pattern(codes)})?$" if codes else "^(?:[A-Za-z]{2})?$"
    schema: dict[str, Any] = {
        "type": "string",
        "pattern": pattern,
        "description": "USPS code of the scope; empty (or null in JSON, or omitted) for the nation",
        "example": "TX" if not codes or "TX" in codes else codes[0],
    }
    if nullable:
        schema["nullable"] = True
    return schema


#: A what-if adds every candidate: k must be left out (webmap.plan_request._plan_or_what_if).
NO_K_IN_A_WHAT_IF = {"not": {"required": ["what_if", "k"], "properties": {"what_if": {"enum": [True]}}}}


def plan_request_schema(codes: Any = None) -> dict[str, Any]:
    """Return the JSON body of POST /api/plan: exactly what webmap.plan_request.parse_body accepts."""
    from webmap.plan import OBJECTIVE, K

    site = _closed(
        {
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            "lon": {"type": "number", "minimum": -180, "maximum": 180},
            "name": _STR,
            "id": _STR,
            "state": _STR,
        },
        ["lat", "lon"],
        description="a candidate site: WGS84 degrees, and optionally a name, an id and a state",
    )
    return _closed(
        {
            "state": plan_state_schema(codes, nullable=True),
            # The same declarations as the query parameters (webmap.plan_request, webmap.params).
            "k": K.openapi_schema(),
            "objective": OBJECTIVE.openapi_schema(),
            "what_if": {"type": "boolean", "default": False, "description": "add every candidate in order"},
            "candidates": {"type": "array", "minItems": 1, "maxItems": 100_000, "items": site},
        },
        ["candidates"],
        **NO_K_IN_A_WHAT_IF,
    )
