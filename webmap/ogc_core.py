"""OGC API – Features, Part 1: Core (OGC 17-069r4), with no web framework.

Each handler takes plain facts (a :class:`Service` holding the collection
frames, the query arguments as a mapping of value lists, the ``Accept``
header) and returns an :class:`Answer` ``(headers, status, body)``;
``webmap/ogcapi.py`` only turns that into a Flask response. This is
pygeoapi's split between its ``api/`` core and its framework adapters
(STYLE.md), so the core is tested without a web server.

Items are served from the same in-memory frames as the rest of the app. A
``bbox`` goes through the frame's spatial index (an STRtree, see
:func:`geo.query.bbox_positions`); ``state`` and ``locale`` are vectorized
masks computed once per value (the same rules as :func:`geo.query.filter_schools`),
so no request loops over every feature in Python. Features are serialized
to GeoJSON once per build and a page is a join of pre-encoded bytes.

Encodings: GeoJSON / JSON (``application/geo+json`` for items,
``application/json`` otherwise) and HTML, chosen by ``f=json|html`` or else
the ``Accept`` header. Every JSON answer carries ``is_sample``, ``built_at``
and ``build_id`` foreign members, and a ``notice`` when the data is the
generated sample.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import quote, urlencode

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from geo.errors import InvalidParameterError, NotFoundError
from geo.store import json_safe
from webmap.ogc_collection import Collection
from webmap.ogc_params import (  # noqa: F401 (CRS84, the limits and the tables are part of this API)
    CRS84,
    DEFAULT_LIMIT,
    F_ONLY,
    ITEM_PARAMETERS,
    ITEM_TABLE,
    ITEMS_PARAMETERS,
    MAX_LIMIT,
    items_parameters,
    parse_datetime,
)
from webmap.params import Parameters

logger = logging.getLogger(__name__)

_CONF = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
#: Conformance classes declared at /conformance (17-069r4 Annex A).
CONFORMANCE = tuple(_CONF + name for name in ("core", "geojson", "html", "oas30"))


MEDIA_JSON = "application/json"
MEDIA_GEOJSON = "application/geo+json"
MEDIA_HTML = "text/html"
MEDIA_OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
MEDIA_SCHEMA = "application/schema+json"

SAMPLE_NOTICE = (
    "SAMPLE DATA: these schools are generated for demonstration and are not a real list "
    "of Community Schools; figures derived from them are illustrative only"
)


class Answer(NamedTuple):
    """An HTTP answer: headers (``Content-Type`` at least), status and body bytes.

    A successful answer may carry an ``ETag`` header: a weak validator
    derived from the build and the request, not from the body, because the
    body's ``timeStamp`` changes on every request while its content does not.
    """

    headers: dict[str, str]
    status: int
    body: bytes


Renderer = Callable[[str, Mapping[str, Any]], str]


@dataclass(frozen=True)
class Service:
    """What every handler needs: where the API lives, its collections and the build's facts.

    Parameters
    ----------
    base_url : str
        Absolute URL of the landing page without a trailing slash,
        e.g. ``http://127.0.0.1:8000/ogcapi``; links are built from it.
    collections : mapping
        ``{id: Collection}`` in the order they are listed.
    provenance : mapping
        ``is_sample``, ``built_at`` and ``build_id`` of the build served.
    render : callable, optional
        ``render(template_name, context) -> str`` for the HTML encoding
        (Jinja with autoescaping); without it HTML requests get a 406.
    """

    base_url: str
    collections: Mapping[str, Collection]
    provenance: Mapping[str, Any]
    render: Renderer | None = None
    title: str = "Community Schools Map – OGC API Features"

    @property
    def is_sample(self) -> bool:
        """True when the build's schools are the generated sample."""
        return bool(self.provenance.get("is_sample", True))

    def url(self, path: str = "", params: Mapping[str, Any] | None = None) -> str:
        """Absolute URL of ``path`` under the API, with query ``params`` (None values left out)."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        return self.base_url + path + (("?" + urlencode(query)) if query else "")

    def members(self) -> dict[str, Any]:
        """Return the foreign members every JSON answer carries."""
        out = {
            "is_sample": self.is_sample,
            "built_at": self.provenance.get("built_at"),
            "build_id": self.provenance.get("build_id"),
        }
        if self.is_sample:
            out["notice"] = SAMPLE_NOTICE
        return out


# --------------------------------------------------------------------------
# Request parsing


def _single(args: Mapping[str, Sequence[str]], table: Parameters) -> tuple[dict[str, str], dict[str, Any]]:
    """Validate ``args`` against ``table``: the raw text of each parameter given, and every value.

    Unknown or repeated parameters are a 400 (/req/core/query-param-unknown); the
    raw texts go into links and validators, the values into the answer.
    """
    values = table.parse(args)
    raw = {name: (texts if isinstance(texts, str) else list(texts)[0]) for name, texts in args.items()}
    return raw, values


def negotiate(params: Mapping[str, str], accept: str | None) -> str:
    """Return ``"json"`` or ``"html"``: from ``f=`` when given, else from the ``Accept`` header.

    With no preference (``*/*`` or no header) the answer is JSON, which is
    what GIS clients expect; browsers ask for ``text/html`` first.
    """
    f = params.get("f")
    if f is not None:
        value = f.strip().lower()
        if value == "json":
            return "json"
        if value == "html":
            return "html"
        msg = f"f must be json or html, got {f!r}"
        raise InvalidParameterError("f", msg)
    if not accept:
        return "json"
    offers = [MEDIA_JSON, MEDIA_GEOJSON, MEDIA_OPENAPI, MEDIA_SCHEMA, MEDIA_HTML]
    best = parse_accept_header(accept, MIMEAccept).best_match(offers, default=MEDIA_JSON)
    return "html" if best == MEDIA_HTML else "json"


# --------------------------------------------------------------------------
# Answers


def _dumps(document: Any) -> bytes:
    return json.dumps(json_safe(document), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _json(document: Any, media: str = MEDIA_JSON, *, validator: str | None = None) -> Answer:
    headers = {"Content-Type": media}
    if validator:
        headers["ETag"] = validator
    return Answer(headers, 200, _dumps(document))


def _html(
    service: Service, template: str, context: Mapping[str, Any], *, validator: str | None = None
) -> Answer:
    if service.render is None:
        return _error(406, "NotAcceptable", "this server has no HTML encoding configured; use f=json")
    page = service.render(template, {"service": service, "members": service.members(), **context})
    headers = {"Content-Type": "text/html; charset=utf-8"}
    if validator:
        headers["ETag"] = validator
    return Answer(headers, 200, page.encode("utf-8"))


def _error(status: int, code: str, description: str) -> Answer:
    """Return an exception document as 17-069r4 §7.5.1 describes: ``{code, description}``."""
    return Answer({"Content-Type": MEDIA_JSON}, status, _dumps({"code": code, "description": description}))


def _validator(service: Service, *parts: Any) -> str:
    """Return a weak ETag naming one representation: the build, the base URL and the request."""
    facts = (service.provenance.get("build_id"), service.provenance.get("built_at"), service.is_sample)
    key = repr((facts, service.base_url, parts))
    return 'W/"' + hashlib.blake2b(key.encode("utf-8"), digest_size=12).hexdigest() + '"'


def _guard(handler: Callable[..., Answer]) -> Callable[..., Answer]:
    """Map the domain errors of one handler to OGC exception answers (400 and 404)."""

    @functools.wraps(handler)
    def wrapped(*args: Any, **kwargs: Any) -> Answer:
        try:
            return handler(*args, **kwargs)
        except (InvalidParameterError, NotFoundError) as exc:  # each carries its status and OGC code
            return _error(exc.http_status, exc.ogc_code, str(exc))

    return wrapped


def _link(href: str, rel: str, media: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media, "title": title}


def _self_links(
    service: Service,
    path: str,
    fmt: str,
    params: Mapping[str, Any] | None = None,
    json_media: str = MEDIA_JSON,
) -> list[dict[str, str]]:
    """``self`` and ``alternate`` links of a resource, in the format served and the other one."""
    params = {k: v for k, v in (params or {}).items() if k != "f"}
    as_json = _link(service.url(path, {**params, "f": "json"}), "self", json_media, "this document as JSON")
    as_html = _link(
        service.url(path, {**params, "f": "html"}), "alternate", MEDIA_HTML, "this document as HTML"
    )
    if fmt == "html":
        as_json["rel"], as_html["rel"] = "alternate", "self"
        return [as_html, as_json]
    return [as_json, as_html]


def _collection_or_404(service: Service, collection_id: str) -> Collection:
    found = service.collections.get(collection_id)
    if found is None:
        msg = f"no collection {collection_id!r}; /collections lists: {', '.join(service.collections)}"
        raise NotFoundError(msg)
    return found


def _timestamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------
# Handlers


@_guard
def landing_page(service: Service, args: Mapping[str, Sequence[str]], accept: str | None = None) -> Answer:
    """``/``: title, description and links to the API definition, conformance and collections."""
    params, _ = _single(args, F_ONLY)
    fmt = negotiate(params, accept)
    description = (
        "Community Schools, and the states and counties with their coverage and gap "
        "metrics, as OGC API – Features (Part 1: Core)."
    )
    if service.is_sample:
        description = SAMPLE_NOTICE + ". " + description
    links = _self_links(service, "", fmt) + [
        _link(service.url("/api"), "service-desc", MEDIA_OPENAPI, "the API definition (OpenAPI 3.0)"),
        _link(service.url("/api", {"f": "html"}), "service-doc", MEDIA_HTML, "the API documentation"),
        _link(service.url("/conformance"), "conformance", MEDIA_JSON, "conformance classes implemented"),
        _link(service.url("/collections"), "data", MEDIA_JSON, "the feature collections"),
    ]
    document = {"title": service.title, "description": description, "links": links, **service.members()}
    validator = _validator(service, "landing", fmt)
    if fmt == "html":
        return _html(
            service,
            "ogcapi/landing.html",
            {"doc": document, "collections": list(service.collections.values())},
            validator=validator,
        )
    return _json(document, validator=validator)


@_guard
def conformance(service: Service, args: Mapping[str, Sequence[str]], accept: str | None = None) -> Answer:
    """``/conformance``: the conformance classes (core, geojson, html, oas30)."""
    params, _ = _single(args, F_ONLY)
    fmt = negotiate(params, accept)
    document = {
        "conformsTo": list(CONFORMANCE),
        "links": _self_links(service, "/conformance", fmt),
        **service.members(),
    }
    validator = _validator(service, "conformance", fmt)
    if fmt == "html":
        return _html(service, "ogcapi/conformance.html", {"doc": document}, validator=validator)
    return _json(document, validator=validator)


def _collection_document(service: Service, collection: Collection, fmt: str) -> dict[str, Any]:
    path = f"/collections/{quote(collection.id)}"
    description = collection.description
    if service.is_sample:
        description = "SAMPLE DATA. " + description
    document: dict[str, Any] = {
        "id": collection.id,
        "title": collection.title,
        "description": description,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "links": _self_links(service, path, fmt)
        + [
            _link(service.url(path + "/items"), "items", MEDIA_GEOJSON, f"{collection.title} as GeoJSON"),
            _link(
                service.url(path + "/items", {"f": "html"}),
                "items",
                MEDIA_HTML,
                f"{collection.title} as HTML",
            ),
            _link(
                service.url(path + "/schema"),
                "describedby",
                MEDIA_SCHEMA,
                "JSON Schema of the features' properties",
            ),
        ],
    }
    extent = collection.extent()
    if extent is not None:
        document["extent"] = {"spatial": {"bbox": [extent], "crs": CRS84}}
    document["is_sample"] = service.is_sample
    return document


@_guard
def collections(service: Service, args: Mapping[str, Sequence[str]], accept: str | None = None) -> Answer:
    """Answer ``/collections``: every collection with its extent and item links."""
    params, _ = _single(args, F_ONLY)
    fmt = negotiate(params, accept)
    document = {
        "links": _self_links(service, "/collections", fmt),
        "collections": [_collection_document(service, c, fmt) for c in service.collections.values()],
        **service.members(),
    }
    validator = _validator(service, "collections", fmt)
    if fmt == "html":
        return _html(service, "ogcapi/collections.html", {"doc": document}, validator=validator)
    return _json(document, validator=validator)


@_guard
def collection(
    service: Service, collection_id: str, args: Mapping[str, Sequence[str]], accept: str | None = None
) -> Answer:
    """``/collections/{collectionId}``: one collection's description."""
    params, _ = _single(args, F_ONLY)
    fmt = negotiate(params, accept)
    found = _collection_or_404(service, collection_id)
    document = {**_collection_document(service, found, fmt), **service.members()}
    validator = _validator(service, "collection", collection_id, fmt)
    if fmt == "html":
        return _html(
            service,
            "ogcapi/collection.html",
            {"doc": document, "schema": found.schema()["properties"]},
            validator=validator,
        )
    return _json(document, validator=validator)


@_guard
def schema(
    service: Service, collection_id: str, args: Mapping[str, Sequence[str]], accept: str | None = None
) -> Answer:
    """``/collections/{collectionId}/schema``: a JSON Schema of a GeoJSON feature of the collection.

    It describes a whole Feature (``properties`` nested), the form GDAL's
    OAPIF driver reads from a ``describedby`` link to fix field types
    instead of guessing them from the first page.
    """
    _single(args, F_ONLY)
    found = _collection_or_404(service, collection_id)
    facts = found.schema()
    geometry_types = facts["geometry_types"]
    document = {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": service.url(f"/collections/{quote(found.id)}/schema"),
        "title": found.title,
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "string", "description": f"the {found.id_column} of the feature"},
            "geometry": {"type": "object", "description": " or ".join(geometry_types) + " in CRS84"},
            "properties": {"type": "object", "properties": facts["properties"]},
        },
        "x-is-sample": service.is_sample,  # unknown keywords are annotations in JSON Schema
    }
    return _json(document, MEDIA_SCHEMA, validator=_validator(service, "schema", collection_id))


def _items_head(service: Service, links: list[dict[str, str]], matched: int, returned: int) -> bytes:
    head = {
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": returned,
        "timeStamp": _timestamp(),
        "links": links,
        **service.members(),
    }
    # Every value here is JSON-native already, so json_safe's walk is skipped on this hot path.
    return json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode("utf-8")[:-1]


@_guard
def items(
    service: Service, collection_id: str, args: Mapping[str, Sequence[str]], accept: str | None = None
) -> Answer:
    """``/collections/{collectionId}/items``: a page of features.

    ``limit`` (default 10, clamped at 10,000), ``offset``, ``bbox`` (4 or 6
    numbers, CRS84), ``datetime`` (validated; the data has no time), and the
    collection's property filters (``state``, and ``locale`` for schools).
    """
    found = _collection_or_404(service, collection_id)
    params, values = _single(args, items_parameters(found))
    fmt = negotiate(params, accept)
    limit, offset = values["limit"], values["offset"]
    filters = {name: values[name] for name in found.filters if values[name] is not None}
    positions = found.select(bbox=values["bbox"], **filters)

    features = found.features()
    matched = len(features) if positions is None else len(positions)
    stop = min(offset + limit, matched)
    page = features[offset:stop] if positions is None else [features[i] for i in positions[offset:stop]]

    path = f"/collections/{quote(found.id)}/items"
    query: dict[str, Any] = {
        k: v for k, v in params.items() if k in ("bbox", "bbox-crs", "datetime", "crs", *found.filters)
    }
    query["limit"] = limit
    # Every link shares the filters; encode them once and append offset and f.
    head = service.url(path, query) + "&"
    page_media = MEDIA_HTML if fmt == "html" else MEDIA_GEOJSON
    at = f"offset={offset}&" if offset else ""
    links = [
        _link(f"{head}{at}f=json", "self", MEDIA_GEOJSON, "this document as JSON"),
        _link(f"{head}{at}f=html", "alternate", MEDIA_HTML, "this document as HTML"),
    ]
    if fmt == "html":
        links[0]["rel"], links[1]["rel"] = "alternate", "self"
        links.reverse()
    if stop < matched:
        links.append(_link(f"{head}offset={stop}&f={fmt}", "next", page_media, "next page"))
    if offset > 0:
        back = max(offset - limit, 0)
        links.append(
            _link(f"{head}{f'offset={back}&' if back else ''}f={fmt}", "prev", page_media, "previous page")
        )
    links.append(_link(service.url(f"/collections/{quote(found.id)}"), "collection", MEDIA_JSON, found.title))
    validator = _validator(service, "items", collection_id, sorted(params.items()), fmt)

    if fmt == "html":
        rows = [json.loads(feature) for feature in page]
        return _html(
            service,
            "ogcapi/items.html",
            {
                "collection": found,
                "features": rows,
                "links": links,
                "matched": matched,
                "returned": len(page),
                "offset": offset,
                "limit": limit,
                "query": query,
                "columns": [c for c in found.schema()["properties"]][:8],
            },
            validator=validator,
        )
    body = _items_head(service, links, matched, len(page)) + b',"features":[' + b",".join(page) + b"]}"
    return Answer({"Content-Type": MEDIA_GEOJSON, "ETag": validator, "Content-Crs": f"<{CRS84}>"}, 200, body)


@_guard
def item(
    service: Service,
    collection_id: str,
    feature_id: str,
    args: Mapping[str, Sequence[str]],
    accept: str | None = None,
) -> Answer:
    """``/collections/{collectionId}/items/{featureId}``: one feature, with links."""
    params, _ = _single(args, ITEM_TABLE)
    fmt = negotiate(params, accept)
    found = _collection_or_404(service, collection_id)
    position = found.position_of(feature_id)
    if position is None:
        msg = f"no feature {feature_id!r} in collection {collection_id!r}"
        raise NotFoundError(msg)
    feature = found.features()[position]
    path = f"/collections/{quote(found.id)}/items/{quote(feature_id, safe='')}"
    links = _self_links(service, path, fmt, json_media=MEDIA_GEOJSON) + [
        _link(service.url(f"/collections/{quote(found.id)}"), "collection", MEDIA_JSON, found.title),
    ]
    validator = _validator(service, "item", collection_id, feature_id, sorted(params.items()), fmt)
    if fmt == "html":
        return _html(
            service,
            "ogcapi/item.html",
            {"collection": found, "feature": json.loads(feature), "links": links},
            validator=validator,
        )
    tail = _dumps({"links": links, **service.members()})
    body = feature[:-1] + b"," + tail[1:]
    return Answer({"Content-Type": MEDIA_GEOJSON, "ETag": validator, "Content-Crs": f"<{CRS84}>"}, 200, body)


@_guard
def api_definition(service: Service, args: Mapping[str, Sequence[str]], accept: str | None = None) -> Answer:
    """Answer ``/api``: the OpenAPI 3.0 definition (``f=html`` gives a readable page of it)."""
    params, _ = _single(args, F_ONLY)
    fmt = negotiate(params, accept)
    from webmap.ogc_openapi import openapi_document  # it imports this module

    document = openapi_document(service)
    validator = _validator(service, "api", fmt)
    if fmt == "html":
        return _html(service, "ogcapi/api.html", {"doc": document}, validator=validator)
    return _json(document, MEDIA_OPENAPI, validator=validator)
