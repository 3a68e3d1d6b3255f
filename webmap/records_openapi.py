"""The OpenAPI paths and schemas of the record endpoints (merged into webmap.openapi's document).

The columns come from geo.registry (COALITIONS, COMMUNITIES, PARTNERS); the
parameters from webmap.records.PARAMETERS, the very tables the views parse with.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from geo import registry

logger = logging.getLogger(__name__)

#: ';'-joined columns the API serves as arrays.
_ARRAYS = {"county_fips", "school_ids"}


def _row_schema(dataset: str) -> dict[str, Any]:
    properties = {}
    for column in registry.dataset_columns(dataset):
        if column.name in _ARRAYS:
            properties[column.name] = {
                "type": "array",
                "items": {"type": "string"},
                "description": column.description,
            }
        else:
            properties[column.name] = column.json_schema()
    return {
        "type": "object",
        "properties": properties,
        "required": [c.name for c in registry.dataset_columns(dataset) if not c.nullable],
    }


def _page_schema(key: str, row: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "is_sample": {"type": "boolean", "description": "true when the records are the generated sample"},
            "built_at": {"type": "string", "format": "date-time", "nullable": True},
            "build_id": {"type": "string"},
            "filters": {"type": "object"},
            "count": {"type": "integer"},
            "links": {"type": "object", "additionalProperties": {"type": "string"}},
            key: {"type": "array", "items": {"$ref": f"#/components/schemas/{row}"}},
        },
        "required": ["is_sample", "built_at", "build_id", "count", key],
    }


def record_schemas() -> dict[str, Any]:
    """Return the components/schemas of the record answers."""
    return {
        "Coalition": _row_schema("coalitions"),
        "Community": _row_schema("communities"),
        "Partner": _row_schema("partners"),
        "CoalitionList": _page_schema("coalitions", "Coalition"),
        "CommunityList": _page_schema("communities", "Community"),
        "PartnerList": _page_schema("partners", "Partner"),
        "TargetAnswer": {
            "type": "object",
            "properties": {
                "is_sample": {"type": "boolean"},
                "target_children": {"type": "number"},
                "reachable": {"type": "boolean"},
                "k": {"type": "integer", "nullable": True},
                "most_reachable": {"type": "number"},
                "message": {"type": "string"},
                "plan": {"type": "object", "nullable": True},
            },
            "required": ["is_sample", "target_children", "reachable", "k", "most_reachable", "message"],
        },
    }


def record_paths(get: Callable[..., dict[str, Any]], parameters: Callable[[str], list]) -> dict[str, Any]:
    """Return the paths of the record endpoints, built with webmap.openapi's helpers."""

    def table(path: str, summary: str, schema: str, what: str) -> dict[str, Any]:
        return get(
            summary,
            parameters(path),
            {
                "200": {
                    "description": f"{what} as JSON, or with f=csv as a CSV download; is_sample always.",
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}},
                        "text/csv": {},
                    },
                }
            },
            description="docs/RECORDS.md says what each record means and where it shows.",
        )

    return {
        "/api/coalitions": table(
            "/api/coalitions",
            "State coalitions: stage, leads, contact, links",
            "CoalitionList",
            "Every state",
        ),
        "/api/communities": table(
            "/api/communities", "Coalition Communities", "CommunityList", "The Coalition Communities"
        ),
        "/api/partners": table("/api/partners", "Partner organizations", "PartnerList", "The partners"),
        "/api/plan/target": get(
            "Target mode: the fewest new sites that reach N more children",
            parameters("/api/plan/target"),
            {
                "200": {
                    "description": "k and the plan, or reachable=false with the most the candidates reach.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/TargetAnswer"}}
                    },
                }
            },
            description="The smallest k at which the greedy's gain reaches N (docs/PLANNER.md, Target mode).",
        ),
    }
