"""The OpenAPI 3.0 definition of the OGC API – Features endpoint (``/ogcapi/api``).

Built from the same declarations that drive the handlers of
:mod:`webmap.ogc_core`, so the document cannot promise other parameters or
bounds than the server applies.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from webmap.ogc_core import (
    F_ONLY,
    ITEM_TABLE,
    MEDIA_GEOJSON,
    MEDIA_HTML,
    MEDIA_JSON,
    MEDIA_OPENAPI,
    MEDIA_SCHEMA,
    SAMPLE_NOTICE,
    Service,
    items_parameters,
)
from webmap.openapi import URI_TOO_LONG
from webmap.params import Param

logger = logging.getLogger(__name__)


def _responses(
    media: Mapping[str, str], description: str, *, errors: Sequence[int] = (400,)
) -> dict[str, Any]:
    # A JSON media type without a named schema is still a JSON object (the OpenAPI document,
    # a JSON Schema); only HTML is a string.
    content = {
        m: {"schema": {"$ref": ref} if ref else {"type": "string" if m == MEDIA_HTML else "object"}}
        for m, ref in media.items()
    }
    out: dict[str, Any] = {"200": {"description": description, "content": content}}
    out["414"] = {"description": URI_TOO_LONG}
    for status in errors:
        out[str(status)] = {
            "description": {400: "a bad parameter", 404: "no such resource", 406: "no acceptable encoding"}[
                status
            ],
            "content": {MEDIA_JSON: {"schema": {"$ref": "#/components/schemas/exception"}}},
        }
    return out


_SCHEMAS: dict[str, Any] = {
    "exception": {
        "type": "object",
        "required": ["code"],
        "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
    },
    "link": {
        "type": "object",
        "required": ["href"],
        "properties": {
            "href": {"type": "string"},
            "rel": {"type": "string"},
            "type": {"type": "string"},
            "title": {"type": "string"},
        },
    },
    "document": {
        "type": "object",
        "description": "a JSON document with links and provenance members",
        "properties": {
            "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
            "is_sample": {"type": "boolean"},
        },
    },
    "confClasses": {
        "type": "object",
        "required": ["conformsTo"],
        "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
    },
    "featureCollectionGeoJSON": {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": {"$ref": "#/components/schemas/featureGeoJSON"}},
            "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
            "timeStamp": {"type": "string", "format": "date-time"},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0},
            "is_sample": {"type": "boolean"},
        },
    },
    "featureGeoJSON": {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "string"},
            "geometry": {"type": "object", "nullable": True},
            "properties": {"type": "object", "nullable": True},
            "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
        },
    },
}


def openapi_document(service: Service) -> dict[str, Any]:
    """Return the OpenAPI 3.0 definition: every path, with each collection's own items parameters."""
    doc_ref = "#/components/schemas/document"
    html = {MEDIA_HTML: ""}
    paths: dict[str, Any] = {
        "/": {
            "get": {
                "summary": "Landing page",
                "operationId": "getLandingPage",
                "parameters": F_ONLY.openapi(),
                "responses": _responses({MEDIA_JSON: doc_ref, **html}, "links to the API"),
            }
        },
        "/api": {
            "get": {
                "summary": "This API definition",
                "operationId": "getAPI",
                "parameters": F_ONLY.openapi(),
                "responses": _responses({MEDIA_OPENAPI: "", **html}, "the OpenAPI document"),
            }
        },
        "/conformance": {
            "get": {
                "summary": "Conformance classes",
                "operationId": "getConformanceDeclaration",
                "parameters": F_ONLY.openapi(),
                "responses": _responses(
                    {MEDIA_JSON: "#/components/schemas/confClasses", **html}, "the conformance classes"
                ),
            }
        },
        "/collections": {
            "get": {
                "summary": "Feature collections",
                "operationId": "getCollections",
                "parameters": F_ONLY.openapi(),
                "responses": _responses({MEDIA_JSON: doc_ref, **html}, "the collections"),
            }
        },
    }
    for found in service.collections.values():
        base = f"/collections/{found.id}"
        paths[base] = {
            "get": {
                "summary": f"{found.title}: description",
                "operationId": f"describe_{found.id}",
                "parameters": F_ONLY.openapi(),
                "responses": _responses({MEDIA_JSON: doc_ref, **html}, "the collection", errors=(400, 404)),
            }
        }
        paths[base + "/schema"] = {
            "get": {
                "summary": f"{found.title}: JSON Schema of a feature",
                "operationId": f"schema_{found.id}",
                "parameters": F_ONLY.openapi(),
                "responses": _responses({MEDIA_SCHEMA: ""}, "the schema", errors=(400, 404)),
            }
        }
        paths[base + "/items"] = {
            "get": {
                "summary": f"{found.title}: features",
                "operationId": f"getFeatures_{found.id}",
                "parameters": items_parameters(found).openapi(),
                "responses": _responses(
                    {MEDIA_GEOJSON: "#/components/schemas/featureCollectionGeoJSON", **html},
                    "a page of features",
                    errors=(400, 404),
                ),
            }
        }
        paths[base + "/items/{featureId}"] = {
            "get": {
                "summary": f"{found.title}: one feature",
                "operationId": f"getFeature_{found.id}",
                "parameters": [
                    Param("featureId", f"the feature's {found.id_column}", where="path").openapi(),
                    *ITEM_TABLE.openapi(),
                ],
                "responses": _responses(
                    {MEDIA_GEOJSON: "#/components/schemas/featureGeoJSON", **html},
                    "the feature",
                    errors=(400, 404),
                ),
            }
        }
    description = "Community Schools, states and counties as OGC API – Features (Part 1: Core)."
    if service.is_sample:
        description = SAMPLE_NOTICE + ". " + description
    return {
        "openapi": "3.0.3",
        "info": {
            "title": service.title,
            "version": "1.0.0",
            "description": description,
            "x-is-sample": service.is_sample,
        },
        "servers": [{"url": service.base_url}],
        "paths": paths,
        "components": {"schemas": _SCHEMAS},
    }
