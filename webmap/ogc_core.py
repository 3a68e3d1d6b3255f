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
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import quote, urlencode

import geopandas as gpd
import numpy as np
import pandas as pd
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from geo.crs import WGS84, require_crs
from geo.errors import InvalidParameterError, NotFoundError
from geo.geojson import feature_strings
from geo.query import LOCALES, bbox_positions, filter_schools, parse_bbox
from geo.store import json_safe
from webmap.data_dictionary import column_type

logger = logging.getLogger(__name__)

#: WGS84 longitude/latitude, the default CRS of OGC API – Features (17-069r4 §7.3).
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_CONF = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
#: Conformance classes declared at /conformance (17-069r4 Annex A).
CONFORMANCE = tuple(_CONF + name for name in ("core", "geojson", "html", "oas30"))

#: Page size when ``limit`` is absent, and the largest page served; a larger
#: ``limit`` is clamped, not refused (17-069r4 §7.15.3, /req/core/fc-limit-response-1).
DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000

MEDIA_JSON = "application/json"
MEDIA_GEOJSON = "application/geo+json"
MEDIA_HTML = "text/html"
MEDIA_OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
MEDIA_SCHEMA = "application/schema+json"

SAMPLE_NOTICE = (
    "SAMPLE DATA: these schools are generated for demonstration and are not a real list "
    "of Community Schools; figures derived from them are illustrative only"
)

#: Query parameters of the items endpoint besides each collection's property filters.
#: ``crs`` and ``bbox-crs`` (Part 2) are accepted with the one CRS served, CRS84,
#: because clients such as GDAL send ``crs`` once a collection lists its CRSs.
ITEMS_PARAMETERS = ("f", "limit", "offset", "bbox", "bbox-crs", "datetime", "crs")
ITEM_PARAMETERS = ("f", "crs")

#: RFC 3339 date-time (or date) as 17-069r4 §7.15.4 allows in ``datetime``.
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2}))?$")


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


@dataclass(eq=False)
class Collection:
    """One feature collection served from an in-memory frame.

    Parameters
    ----------
    id : str
        The collection id in URLs (``schools``, ``states``, ``counties``).
    title, description : str
    frame : GeoDataFrame
        The features; reprojected to EPSG:4326 here if needed (never mutated).
    id_column : str
        Column whose values are the feature ids (unique).
    filters : tuple of str
        Property filters the items endpoint accepts: ``state`` and/or ``locale``.
    precision : int, optional
        Decimal places of coordinates in the GeoJSON; by default as stored.
    column_descriptions : mapping, optional
        Column meanings for the JSON schema and the HTML pages.
    """

    id: str
    title: str
    description: str
    frame: gpd.GeoDataFrame
    id_column: str
    filters: tuple[str, ...] = ("state",)
    precision: int | None = None
    column_descriptions: Mapping[str, str] = field(default_factory=dict)
    _memo: dict[Any, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        require_crs(self.frame, name=f"collection {self.id!r}")
        if not self.frame.crs.equals(WGS84):
            self.frame = self.frame.to_crs(WGS84)
        if self.id_column not in self.frame.columns:
            msg = f"collection {self.id!r} has no id column {self.id_column!r}"
            raise ValueError(msg)

    def _cached(self, key: Any, build: Callable[[], Any]) -> Any:
        try:
            return self._memo[key]
        except KeyError:
            value = self._memo[key] = build()
            return value

    def features(self) -> list[bytes]:
        """Every feature as compact GeoJSON bytes, serialized once."""

        def build() -> list[bytes]:
            texts = feature_strings(self.frame, id_column=self.id_column, precision=self.precision)
            return [text.encode("utf-8") for text in texts]

        return self._cached("features", build)

    def position_of(self, feature_id: str) -> int | None:
        """Return the row position of a feature id, or None."""

        def build() -> dict[str, int]:
            ids = self.frame[self.id_column].astype(str).tolist()
            return {value: i for i, value in enumerate(ids)}

        return self._cached("ids", build).get(feature_id)

    def extent(self) -> list[float] | None:
        """``[minx, miny, maxx, maxy]`` in CRS84 from the frame's total bounds; None when empty."""

        def build() -> list[float] | None:
            if self.frame.empty:
                return None
            bounds = self.frame.total_bounds
            return [float(v) for v in bounds] if np.isfinite(bounds).all() else None

        return self._cached("extent", build)

    def _filter_keys(self) -> pd.DataFrame:
        # The columns geo.query.filter_schools reads, on a positional index, so that
        # its matches are row positions; states and counties have only stusps.
        def build() -> pd.DataFrame:
            keys = pd.DataFrame(index=pd.RangeIndex(len(self.frame)))
            for column in ("stusps", "state", "locale", "locale4"):
                if column in self.frame.columns:
                    keys[column] = self.frame[column].to_numpy()
            if "state" not in keys.columns and "stusps" in keys.columns:
                keys["state"] = keys["stusps"]
            return keys

        return self._cached("filter_keys", build)

    def _value_positions(self, name: str, value: str) -> np.ndarray:
        """Sorted positions matching one property filter (validated, then cached per value)."""
        normal = value.strip().upper() if name == "state" else value.strip().lower()
        key = ("filter", name, normal)
        if key not in self._memo:
            one_filter: dict[str, Any] = {name: value}
            matched = filter_schools(self._filter_keys(), **one_filter)  # raises on a bad value
            self._memo[key] = matched.index.to_numpy(dtype=np.int64)
        return self._memo[key]

    def select(
        self,
        *,
        bbox: Sequence[float] | None = None,
        state: str | None = None,
        locale: str | None = None,
    ) -> np.ndarray | None:
        """Return the sorted row positions matching every filter, or None for all rows."""
        chosen: np.ndarray | None = None
        for name, value in (("state", state), ("locale", locale)):
            if value is not None:
                chosen = _intersect(chosen, self._value_positions(name, value))
        if bbox is not None:
            # The geometry column is kept as one GeoSeries: its STRtree is built on the
            # first query and reused (frame.geometry would make a new Series each time).
            geometries = self._cached("geometries", lambda: self.frame.geometry)
            chosen = _intersect(chosen, bbox_positions(geometries, bbox))
        return chosen

    def schema(self) -> dict[str, Any]:
        """Return the JSON Schema facts of the properties (types from the frame's dtypes)."""

        def build() -> dict[str, Any]:
            properties = {}
            for column in self.frame.columns:
                if column == self.frame.geometry.name:
                    continue
                entry: dict[str, Any] = {"type": _json_type(self.frame[column])}
                if entry["type"] == "integer" and _beyond_int32(self.frame[column]):
                    # GDAL's OAPIF driver reads "integer" as a 32-bit field and overflows
                    # (e.g. aland, m²); "number" keeps such whole numbers exact up to 2**53.
                    entry = {"type": "number", "format": "int64"}
                if column in self.column_descriptions:
                    entry["description"] = self.column_descriptions[column]
                properties[column] = entry
            kinds = sorted(set(self.frame.geom_type.dropna())) or ["Geometry"]
            return {"properties": properties, "geometry_types": kinds}

        return self._cached("schema", build)


def _intersect(left: np.ndarray | None, right: np.ndarray) -> np.ndarray:
    if left is None:
        return np.asarray(right, dtype=np.int64)
    return np.intersect1d(left, right, assume_unique=True)


def _beyond_int32(series: pd.Series) -> bool:
    values = series.dropna()
    return bool(len(values)) and (values.max() > 2**31 - 1 or values.min() < -(2**31))


def _json_type(series: pd.Series) -> str:
    # The data dictionary's plain names are JSON Schema's, but for its "text".
    kind = column_type(series)
    return "string" if kind == "text" else kind


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


def _single(args: Mapping[str, Sequence[str]], allowed: Sequence[str]) -> dict[str, str]:
    """One value per parameter; unknown or repeated parameters are a 400 (/req/core/query-param-unknown)."""
    out = {}
    for name, values in args.items():
        if name not in allowed:
            msg = f"unknown query parameter {name!r}; this resource accepts: {', '.join(allowed)}"
            raise InvalidParameterError(name, msg)
        values = [values] if isinstance(values, str) else list(values)
        if len(values) != 1:
            msg = f"parameter {name!r} was given {len(values)} times ({values!r}); give it once"
            raise InvalidParameterError(name, msg)
        out[name] = values[0]
    return out


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


def parse_limit(text: str | None) -> int:
    """``limit``: a whole number from 1; above :data:`MAX_LIMIT` it is clamped."""
    if text is None or text.strip() == "":
        return DEFAULT_LIMIT
    try:
        value = int(text.strip())
    except ValueError:
        msg = f"limit must be a whole number from 1 to {MAX_LIMIT:,}, got {text!r}"
        raise InvalidParameterError("limit", msg) from None
    if value < 1:
        msg = f"limit must be at least 1, got {text!r}"
        raise InvalidParameterError("limit", msg)
    return min(value, MAX_LIMIT)


def parse_offset(text: str | None) -> int:
    """``offset``: a whole number of features to skip, from 0."""
    if text is None or text.strip() == "":
        return 0
    try:
        value = int(text.strip())
    except ValueError:
        value = -1
    if value < 0:
        msg = f"offset must be a whole number from 0, got {text!r}"
        raise InvalidParameterError("offset", msg)
    return value


def check_crs(params: Mapping[str, str], name: str) -> None:
    """Accept ``crs`` / ``bbox-crs`` only as CRS84 (with or without its ``[...]`` safe-CURIE form)."""
    value = params.get(name)
    if value is None or value.strip() in (CRS84, f"[{CRS84}]", "[OGC:CRS84]"):
        return
    msg = f"{name} must be {CRS84} (the only CRS served), got {value!r}"
    raise InvalidParameterError(name, msg)


def parse_datetime(text: str | None) -> str | None:
    """Validate ``datetime``: an RFC 3339 instant or an interval ``start/end`` with ``..`` open ends.

    The collections have no temporal extent, so a valid value selects every
    feature; it is checked so that a malformed one is reported, not ignored.
    """
    if text is None or text.strip() == "":
        return None
    parts = text.split("/")
    ok = (len(parts) == 1 and bool(_INSTANT.match(parts[0]))) or (
        len(parts) == 2
        and parts != ["..", ".."]
        and parts != ["", ""]
        and all(p in ("", "..") or _INSTANT.match(p) for p in parts)
    )
    if not ok:
        msg = (
            "datetime must be an RFC 3339 date-time or an interval such as 2020-01-01T00:00:00Z/.., "
            f"got {text!r}"
        )
        raise InvalidParameterError("datetime", msg)
    return text


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
        except InvalidParameterError as exc:
            return _error(400, "InvalidParameterValue", str(exc))
        except NotFoundError as exc:
            return _error(404, "NotFound", str(exc))

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
    params = _single(args, ("f",))
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
    params = _single(args, ("f",))
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
    params = _single(args, ("f",))
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
    params = _single(args, ("f",))
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
    _single(args, ("f",))
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
    params = _single(args, ITEMS_PARAMETERS + found.filters)
    fmt = negotiate(params, accept)
    limit = parse_limit(params.get("limit"))
    offset = parse_offset(params.get("offset"))
    bbox = parse_bbox(params.get("bbox"))
    parse_datetime(params.get("datetime"))
    check_crs(params, "crs")
    check_crs(params, "bbox-crs")
    filters = {name: params[name] for name in found.filters if params.get(name, "").strip()}
    positions = found.select(bbox=bbox, **filters)

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
    params = _single(args, ITEM_PARAMETERS)
    fmt = negotiate(params, accept)
    check_crs(params, "crs")
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
    params = _single(args, ("f",))
    fmt = negotiate(params, accept)
    document = openapi_document(service)
    validator = _validator(service, "api", fmt)
    if fmt == "html":
        return _html(service, "ogcapi/api.html", {"doc": document}, validator=validator)
    return _json(document, MEDIA_OPENAPI, validator=validator)


# --------------------------------------------------------------------------
# OpenAPI 3.0


def _parameter(
    name: str,
    description: str,
    schema: dict[str, Any],
    *,
    where: str = "query",
    required: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": required,
        "description": description,
        "schema": schema,
        **extra,
    }


_F = _parameter(
    "f",
    "The encoding of the answer; without it the Accept header decides (JSON by default).",
    {"type": "string", "enum": ["json", "html"]},
    style="form",
    explode=False,
)
_FILTERS = {
    "state": _parameter(
        "state",
        "Two-letter USPS code (case-insensitive), e.g. IL. Schools match the state their point falls in.",
        {"type": "string", "pattern": "^[A-Za-z]{2}$"},
    ),
    "locale": _parameter(
        "locale",
        "Locale class: urban, suburban, rural, or NCES-style city, suburb, town.",
        {"type": "string", "enum": list(LOCALES)},
    ),
}
_ITEM_PARAMETERS = [
    _parameter(
        "limit",
        f"Features per page, from 1; a larger limit is clamped to {MAX_LIMIT:,}.",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        style="form",
        explode=False,
    ),
    _parameter(
        "offset",
        "Features to skip (the next link carries it).",
        {"type": "integer", "minimum": 0, "default": 0},
        style="form",
        explode=False,
    ),
    _parameter(
        "bbox",
        "minLon,minLat,maxLon,maxLat (or 6 numbers with heights) in CRS84; "
        "west > east crosses the antimeridian.",
        {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
        style="form",
        explode=False,
    ),
    _parameter(
        "datetime",
        "RFC 3339 instant or interval; the collections have no temporal extent, so every "
        "feature matches a valid value.",
        {"type": "string"},
        style="form",
        explode=False,
    ),
    _parameter(
        "bbox-crs",
        "The CRS of bbox: only CRS84 is served.",
        {"type": "string", "enum": [CRS84]},
        style="form",
        explode=False,
    ),
]
_CRS = _parameter(
    "crs",
    "The CRS of the answer's coordinates: only CRS84 is served.",
    {"type": "string", "enum": [CRS84]},
    style="form",
    explode=False,
)


def _responses(
    media: Mapping[str, str], description: str, *, errors: Sequence[int] = (400,)
) -> dict[str, Any]:
    content = {m: {"schema": {"$ref": ref} if ref else {"type": "string"}} for m, ref in media.items()}
    out: dict[str, Any] = {"200": {"description": description, "content": content}}
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
                "parameters": [_F],
                "responses": _responses({MEDIA_JSON: doc_ref, **html}, "links to the API"),
            }
        },
        "/api": {
            "get": {
                "summary": "This API definition",
                "operationId": "getAPI",
                "parameters": [_F],
                "responses": _responses({MEDIA_OPENAPI: "", **html}, "the OpenAPI document"),
            }
        },
        "/conformance": {
            "get": {
                "summary": "Conformance classes",
                "operationId": "getConformanceDeclaration",
                "parameters": [_F],
                "responses": _responses(
                    {MEDIA_JSON: "#/components/schemas/confClasses", **html}, "the conformance classes"
                ),
            }
        },
        "/collections": {
            "get": {
                "summary": "Feature collections",
                "operationId": "getCollections",
                "parameters": [_F],
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
                "parameters": [_F],
                "responses": _responses({MEDIA_JSON: doc_ref, **html}, "the collection", errors=(400, 404)),
            }
        }
        paths[base + "/schema"] = {
            "get": {
                "summary": f"{found.title}: JSON Schema of a feature",
                "operationId": f"schema_{found.id}",
                "parameters": [_F],
                "responses": _responses({MEDIA_SCHEMA: ""}, "the schema", errors=(400, 404)),
            }
        }
        paths[base + "/items"] = {
            "get": {
                "summary": f"{found.title}: features",
                "operationId": f"getFeatures_{found.id}",
                "parameters": [_F, *_ITEM_PARAMETERS, _CRS, *(_FILTERS[name] for name in found.filters)],
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
                    _parameter(
                        "featureId",
                        f"the feature's {found.id_column}",
                        {"type": "string"},
                        where="path",
                        required=True,
                    ),
                    _F,
                    _CRS,
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
