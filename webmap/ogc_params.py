"""The query parameters of the OGC API – Features endpoint, declared once (webmap.params).

:mod:`webmap.ogc_core`'s handlers validate with these tables and
:mod:`webmap.ogc_openapi` writes ``/ogcapi/api``'s parameters from them, so the
definition states exactly the bounds, enums and defaults the server applies.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from geo.errors import InvalidParameterError
from webmap.ogc_collection import Collection
from webmap.params import BBOX, LOCALE, STATE, Param, Parameters

logger = logging.getLogger(__name__)

#: WGS84 longitude/latitude, the default CRS of OGC API – Features (17-069r4 §7.3).
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

#: Page size when ``limit`` is absent, and the largest page served; a larger
#: ``limit`` is clamped, not refused (17-069r4 §7.15.3, /req/core/fc-limit-response-1).
DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000

#: RFC 3339 date-time (or date) as 17-069r4 §7.15.4 allows in ``datetime``, and an interval
#: ``start/end`` with ``..`` or nothing for an open end (not both). The server checks this
#: very pattern and /ogcapi/api documents it (ASCII digits, as ECMA-262's \\d).
_INSTANT = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2}))?"
)
DATETIME_PATTERN = f"{_INSTANT}(?:/(?:{_INSTANT}|\\.\\.)?)?|(?:\\.\\.)?/{_INSTANT}"
_DATETIME = re.compile(DATETIME_PATTERN)


def parse_datetime(text: str | None) -> str | None:
    """Validate ``datetime``: an RFC 3339 instant or an interval ``start/end`` with ``..`` open ends.

    The collections have no temporal extent, so a valid value selects every
    feature; it is checked so that a malformed one is reported, not ignored.
    """
    if text is None or text == "":
        return None
    if not _DATETIME.fullmatch(text):
        msg = (
            "datetime must be an RFC 3339 date-time or an interval such as 2020-01-01T00:00:00Z/.., "
            f"got {text!r}"
        )
        raise InvalidParameterError("datetime", msg)
    return text


def _crs(name: str, what: str) -> Param:
    # The safe-CURIE forms name the same CRS (OGC 17-069r4 §6.2; Part 2's examples use them).
    return Param(name, what, enum=(CRS84, f"[{CRS84}]", "[OGC:CRS84]"), extra=_FORM)


# The parameters, declared once (webmap.params): the handlers parse with these tables
# and webmap.ogc_openapi documents them.
_FORM = {"style": "form", "explode": False}
F = Param(
    "f",
    "The encoding of the answer; without it the Accept header decides (JSON by default).",
    enum=("json", "html"),
    fold="lower",
    extra=_FORM,
)
CRS = _crs("crs", "The CRS of the answer's coordinates: only CRS84 is served.")
ITEMS_QUERY = (
    Param(
        "limit",
        f"Features per page, from 1; a larger limit is clamped to {MAX_LIMIT:,}.",
        type="integer",
        minimum=1,
        maximum=MAX_LIMIT,
        clamp=True,
        default=DEFAULT_LIMIT,
        extra=_FORM,
    ),
    Param(
        "offset",
        "Features to skip (the next link carries it).",
        type="integer",
        minimum=0,
        default=0,
        extra=_FORM,
    ),
    # Documented as the pattern the server checks: an array of numbers (17-069r4's
    # schema) would promise 5 numbers, 200 degrees or 1e300 too.
    replace(
        BBOX,
        description="minLon,minLat,maxLon,maxLat (or 6 numbers with heights: minLon,minLat,minZ,"
        "maxLon,maxLat,maxZ) in CRS84, plain decimals, with minLat <= maxLat; west > east crosses "
        "the antimeridian.",
        extra=_FORM,
    ),
    Param(
        "datetime",
        "RFC 3339 instant or interval; the collections have no temporal extent, so every "
        "feature matches a valid value.",
        pattern=DATETIME_PATTERN,
        pattern_hint="an RFC 3339 date-time or an interval such as 2020-01-01T00:00:00Z/..",
        convert=parse_datetime,
        extra=_FORM,
    ),
    _crs("bbox-crs", "The CRS of bbox: only CRS84 is served."),
)
#: Property filters a collection may offer on its items (Collection.filters names them).
FILTERS = {
    "state": replace(
        STATE,
        description="Two-letter USPS code (case-insensitive), e.g. IL. Schools match the state their "
        "point falls in.",
    ),
    "locale": replace(
        LOCALE, description="Locale class: urban, suburban, rural, or NCES-style city, suburb, town."
    ),
}
#: Resources that take only the encoding.
F_ONLY = Parameters((F,))
ITEM_TABLE = Parameters((F, CRS))


def items_parameters(collection: Collection) -> Parameters:
    """Return the items endpoint's parameters: the common ones and the collection's own filters."""
    return Parameters((F, *ITEMS_QUERY, CRS, *(FILTERS[name] for name in collection.filters)))


#: Names of the items endpoint's parameters besides each collection's property filters.
#: ``crs`` and ``bbox-crs`` (Part 2) are accepted with the one CRS served, CRS84,
#: because clients such as GDAL send ``crs`` once a collection lists its CRSs.
ITEMS_PARAMETERS = Parameters((F, *ITEMS_QUERY, CRS)).names
ITEM_PARAMETERS = ITEM_TABLE.names
