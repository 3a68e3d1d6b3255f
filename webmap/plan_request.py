"""The planner's requests: parameters declared once, and the parsing of a GET query or a POST body.

Split from :mod:`webmap.plan` (which re-exports every name here) so that both stay
a readable size. A :class:`PlanRequest` is what the planner's routes plan; the
parameter tables feed validation and the OpenAPI document (webmap.openapi).
"""

from __future__ import annotations

import io
import logging
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
from flask import request
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import secure_filename

from geo.candidates import read_candidates
from geo.errors import InvalidParameterError, SchoolDataError
from geo.planner import OBJECTIVES
from webmap.params import LAT_PATTERN, LON_PATTERN, Param, Parameters
from webmap.records import TARGET_CHILDREN

logger = logging.getLogger(__name__)

DEFAULT_K = 10
#: Largest k served. Greedy is fast (nation, k = 100: about 0.2 s), but no
#: coalition plans 100 new schools at once, and the page's map and table stay
#: readable; ``csmap plan`` has no cap.
MAX_K = 100
#: Most ``site=`` parameters in one GET: about 25 characters each keeps the
#: URL far below the 8 KB that common servers and proxies accept.
MAX_SITES = 50
#: Largest POST body: 100,000 candidate rows (geo.planner.MAX_CANDIDATES) of
#: name,lat,lon CSV are about 4 MB.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
#: Decimal places of a clicked site (about 0.1 m).
SITE_DECIMALS = 6
#: Most ``exclude=`` ids in one GET (each 14 characters with its name: 1.4 KB of URL).
MAX_EXCLUDE = 100

#: Media types of a POST whose body is the candidates file itself, and the file's extension.
RAW_FILE_TYPES = {"text/csv": ".csv", "application/geo+json": ".geojson"}
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off", "")


@dataclass(frozen=True)
class PlanRequest:
    """A validated planner request; hashable, so it keys the plan cache.

    ``k`` is None in a what-if, where every site is added in order.
    """

    state: str | None
    objective: str
    k: int | None = DEFAULT_K
    sites: tuple[tuple[float, float], ...] = ()
    what_if: bool = False
    keep: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @property
    def mode(self) -> str:
        """``plan`` or ``what_if``."""
        return "what_if" if self.what_if else "plan"

    def query(self) -> dict[str, Any]:
        """Return the request as query parameters (for links; ``site`` as a list)."""
        out: dict[str, Any] = {"state": self.state or "", "objective": self.objective}
        if self.k is not None:
            out["k"] = self.k
        if self.sites:
            out["site"] = [format_site(lat, lon) for lat, lon in self.sites]
        if self.keep:
            out["keep"] = list(self.keep)
        if self.exclude:
            out["exclude"] = list(self.exclude)
        return out

    def as_json(self) -> dict[str, Any]:
        """Return the request as the answer's ``query`` member."""
        return {
            "state": self.state,
            "objective": self.objective,
            "k": self.k,
            "sites": [[lat, lon] for lat, lon in self.sites],
            "keep": list(self.keep),
            "exclude": list(self.exclude),
        }


def format_site(lat: float, lon: float) -> str:
    """Return a ``site`` value, ``lat,lon``, without trailing zeros."""
    return ",".join(f"{value:.{SITE_DECIMALS}f}".rstrip("0").rstrip(".") for value in (lat, lon))


# --------------------------------------------------------------------------
# Parsing


def parse_site(text: str) -> tuple[float, float]:
    """Parse one ``site=lat,lon`` value (WGS84 degrees), rounded to :data:`SITE_DECIMALS`."""
    parts = text.split(",")
    try:
        lat, lon = (float(part) for part in parts) if len(parts) == 2 else (math.nan, math.nan)
    except ValueError:
        lat = lon = math.nan
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):  # also refuses NaN and inf
        msg = f"site must be 'lat,lon' in WGS84 degrees, e.g. '30.27,-97.74'; got {text!r}"
        raise InvalidParameterError("site", msg)
    return round(lat, SITE_DECIMALS), round(lon, SITE_DECIMALS)


def _flag(text: str) -> bool:
    return text.strip().lower() in _TRUE


# The parameters, declared once (webmap.params): the parsers below and webmap.openapi read them.
STATE = Param(
    "state",
    "Two-letter USPS code of the scope; omitted or empty: the nation (50 states, DC and PR).",
    pattern="[A-Za-z]{2}",
    pattern_hint="a two-letter USPS code such as 'TX', or empty for the nation",
    fold="upper",
    # Empty is the nation: the /plan form's "whole nation" choice sends state=.
    allow_empty=True,
)
K = Param(
    "k",
    f"Number of new sites, from 1 to {MAX_K}; not with site.",
    type="integer",
    minimum=1,
    maximum=MAX_K,
    default=DEFAULT_K,
)
OBJECTIVE = Param(
    "objective",
    "unserved: all children beyond reach; poverty: those in ZCTAs with 20%+ below poverty.",
    enum=tuple(OBJECTIVES),
    fold="lower",
    default="unserved",
)
SITE = Param(
    "site",
    "A what-if site as lat,lon (WGS84 degrees); repeat it, in order, for several. With site, "
    "k must be omitted: every site is added and its marginal gain reported.",
    type="array",
    max_items=MAX_SITES,
    # Plain decimals in range, as documented; parse_site reads them.
    pattern=f"{LAT_PATTERN},{LON_PATTERN}",
    pattern_hint="'lat,lon' in WGS84 degrees, e.g. '30.27,-97.74'",
    convert=parse_site,
    schema={"items": {"type": "string", "example": "30.27,-97.74"}},
    extra={"style": "form", "explode": True},
)
KEEP = Param(
    "keep",
    "A proposed site to keep: its candidate id (the ZCTA code), picked first whatever its gain; "
    "repeat it for several, in order (at most k). Ids that are not candidates in the scope are "
    "refused (400, naming them). Not with site.",
    type="array",
    max_items=MAX_K,
    pattern="[0-9]{5}",
    pattern_hint="a candidate id: a five-digit ZCTA code such as '78701'",
    schema={"items": {"type": "string", "example": "78701"}},
    extra={"style": "form", "explode": True},
)
EXCLUDE = replace(
    KEEP,
    name="exclude",
    description="A candidate id (the ZCTA code) never to pick; repeat it for several. Ids that are "
    "not candidates in the scope are refused (400, naming them). Not with site.",
    max_items=MAX_EXCLUDE,
)
WHAT_IF = Param(
    "what_if",
    "true: add every candidate in order (a what-if) instead of choosing k of them.",
    enum=_TRUE + _FALSE[:-1],
    fold="lower",
    convert=_flag,
    default=False,
)
CANDIDATES = Param("candidates", "The candidate sites: a CSV or GeoJSON file (or its text).")
#: Query parameters of GET /api/plan, /plan.geojson and /plan.csv (``site`` may repeat).
PARAMETERS = Parameters((STATE, K, OBJECTIVE, SITE, KEEP, EXCLUDE))
#: A candidates file in a form field or as a text/csv body, as the OpenAPI document states it
#: (webmap.openapi): a header ``lat,lon`` or ``name,lat,lon`` and one row per site, coordinates
#: as plain decimals in range. Every text of this form is a list the planner reads; the server
#: also reads more (any column order and the synonyms of docs/PLANNER.md, quoted fields, a BOM).
_NAME_FIELD = r"[A-Za-z0-9 .'&()/-]*"
CSV_PATTERN = (
    f"(?:lat,lon(?:\\r?\\n{LAT_PATTERN},{LON_PATTERN})+"
    f"|name,lat,lon(?:\\r?\\n{_NAME_FIELD},{LAT_PATTERN},{LON_PATTERN})+)(?:\\r?\\n)?"
)
#: Members of a POST body: a JSON object, or form fields (and a ``candidates`` file). Only
#: ``state`` may be empty (the nation), as in the query; ``what_if`` is JSON's true or false.
BODY_PARAMETERS = Parameters(
    (
        STATE,
        K,
        OBJECTIVE,
        replace(WHAT_IF, enum=("true", "false"), fold=None),
        replace(CANDIDATES, allow_empty=True),
    )
)
MODE = Param(
    "mode",
    "plan: the best k new sites; target: the fewest new sites that reach target_children more children.",
    enum=("plan", "target"),
    fold="lower",
    default="plan",
)
PLACE = Param("place", "A place name or ZIP to add as a what-if site (the offline gazetteer, geo.find).")
#: The /plan page: the same parameters and its own (mode, target, a typed place), stray ones ignored.
PAGE_PARAMETERS = (PARAMETERS + (MODE, replace(TARGET_CHILDREN, required=False), PLACE)).as_page()


def _plan_or_what_if(values: dict[str, Any], raw_k: str | None) -> PlanRequest:
    state, objective = values["state"], values["objective"]
    if values.get("site") or values.get("what_if"):
        if raw_k:
            what = "every site= is added, in order" if values.get("site") else "every candidate is added"
            msg = f"k={raw_k!r} does not apply to a what-if: {what}; drop k"
            raise InvalidParameterError("k", msg)
        chosen = "keep" if values.get("keep") else "exclude" if values.get("exclude") else None
        if chosen:
            msg = f"{chosen}={values[chosen][0]!r} does not apply to a what-if (every site is added)"
            raise InvalidParameterError(chosen, msg)
        return PlanRequest(state, objective, None, tuple(values.get("site") or ()), what_if=True)
    keep, exclude = tuple(values.get("keep") or ()), tuple(values.get("exclude") or ())
    return PlanRequest(state, objective, values["k"], keep=keep, exclude=exclude)


def parse_request(args: MultiDict) -> PlanRequest:
    """Parse GET parameters: a plan (``state``, ``k``, ``objective``) or a what-if (``site``)."""
    return _plan_or_what_if(PARAMETERS.parse(args), args.get("k"))


#: The JSON types of a body's members, as the PlanRequest schema states them (webmap.openapi_schema).
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "state": (str, type(None)),
    "k": (int,),
    "objective": (str,),
    "what_if": (bool,),
    "candidates": (list,),
}
#: A candidate object's members and their JSON types (lat and lon required).
_SITE_TYPES: dict[str, tuple[type, ...]] = {
    "lat": (int, float),
    "lon": (int, float),
    "name": (str,),
    "id": (str,),
    "state": (str,),
}


def _json_type_ok(value: Any, types: tuple[type, ...]) -> bool:
    # JSON true/false are Python bools, which are ints too: a bool is a number only where bool is asked.
    return isinstance(value, types) and (bool in types or not isinstance(value, bool))


def _check_json_members(body: dict[str, Any]) -> None:
    """Refuse members the PlanRequest schema does not have, or of another JSON type."""
    for name, value in body.items():
        if name not in _JSON_TYPES:
            msg = f"unknown member {name!r}; expected some of: {', '.join(_JSON_TYPES)}"
            raise InvalidParameterError(name, msg)
        if not _json_type_ok(value, _JSON_TYPES[name]):
            words = {str: "string", int: "integer", bool: "boolean", list: "list", type(None): "null"}
            wanted = " or ".join(words[t] for t in _JSON_TYPES[name])
            msg = f"{name} must be a JSON {wanted}, got {value!r}"[:300]
            if isinstance(value, dict) and value.get("type") == "FeatureCollection":
                msg += " (send GeoJSON as an application/geo+json body)"
            raise InvalidParameterError(name, msg)


def _body_values(body: dict[str, Any]) -> MultiDict:
    """Turn a JSON body's scalar members into strings for the query parsers."""
    values: MultiDict[str, str] = MultiDict()
    for name, value in body.items():
        if name == "candidates" or value is None:
            continue
        values.add(name, ("true" if value else "false") if isinstance(value, bool) else str(value))
    return values


def parse_body() -> tuple[PlanRequest, pd.DataFrame]:
    """Parse a POST: parameters from a JSON object or form fields, and the candidate sites."""
    if request.content_length is not None and request.content_length > MAX_UPLOAD_BYTES:
        msg = f"the body is {request.content_length:,} bytes; at most {MAX_UPLOAD_BYTES:,} are accepted"
        raise RequestEntityTooLarge(msg)
    request.max_content_length = MAX_UPLOAD_BYTES  # and werkzeug stops a longer chunked body with a 413
    if request.mimetype in RAW_FILE_TYPES:
        # The file itself as the body: `curl --data-binary @sites.csv -H 'Content-Type: text/csv' ...`.
        raw = MultiDict(list(request.args.items(multi=True)))
        values = Parameters((STATE, K, OBJECTIVE, WHAT_IF)).parse(raw)
        name = "candidates" + RAW_FILE_TYPES[request.mimetype]
        candidates = _read_candidates_bytes(request.get_data(), name)
    elif request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            msg = 'the JSON body must be an object such as {"state": "TX", "k": 5, "candidates": [...]}'
            raise InvalidParameterError("candidates", msg)
        _check_json_members(body)
        raw = _body_values(body)
        values, candidates = BODY_PARAMETERS.parse(raw), json_candidates(body.get("candidates"))
    else:
        # Form fields and the query string together, so `curl -F candidates=@f.csv '/api/plan?k=5'` works.
        raw = MultiDict(list(request.args.items(multi=True)) + list(request.form.items(multi=True)))
        values = BODY_PARAMETERS.parse(raw)
        upload = request.files.get("candidates")
        if upload is None and values["candidates"]:  # the file's text sent as a plain field
            upload = FileStorage(io.BytesIO(values["candidates"].encode("utf-8")), filename="candidates")
        candidates = file_candidates(upload)
    return _plan_or_what_if(values, raw.get("k")), candidates


_NO_CANDIDATES = (
    "POST needs candidate sites: a JSON list of {name, lat, lon} objects as 'candidates', a CSV or "
    "GeoJSON file in the form field 'candidates', or the file itself as a text/csv or "
    "application/geo+json body (use GET to plan over the ZCTA points)"
)


def json_candidates(value: Any) -> pd.DataFrame:
    """Return the candidates of a JSON body: a non-empty list of ``{lat, lon, name, id, state}`` objects.

    Exactly what the PlanRequest schema allows: lat and lon JSON numbers in range, the other
    members strings. A GeoJSON FeatureCollection is sent as an application/geo+json body instead.
    """
    if value is None:
        raise InvalidParameterError("candidates", _NO_CANDIDATES)
    if not isinstance(value, list) or not value:
        msg = f"candidates must be a non-empty list of {{lat, lon}} objects; got {str(value)[:60]!r}"
        if isinstance(value, dict) and value.get("type") == "FeatureCollection":
            msg += " (send GeoJSON as an application/geo+json body)"
        raise InvalidParameterError("candidates", msg)
    for number, site in enumerate(value, start=1):
        problem = _site_problem(site)
        if problem:
            raise InvalidParameterError("candidates", f"candidates: site {number}: {problem}"[:300])
    return pd.DataFrame(value)


def _site_problem(site: Any) -> str:
    if not isinstance(site, dict):
        return f'must be an object such as {{"lat": 30.27, "lon": -97.74}}, got {site!r}'
    missing = [name for name in ("lat", "lon") if name not in site]
    if missing:
        return f"lacks {' and '.join(missing)} (it has {sorted(site)})"
    for name, member in site.items():
        if name not in _SITE_TYPES:
            return f"unknown member {name!r}; a site has lat, lon and optionally name, id, state"
        if not _json_type_ok(member, _SITE_TYPES[name]):
            kind = "a number" if name in ("lat", "lon") else "a string"
            return f"{name} must be {kind}, got {member!r}"
    if not (-90 <= site["lat"] <= 90 and -180 <= site["lon"] <= 180):
        return f"lat/lon {site['lat']!r}, {site['lon']!r} out of range"
    return ""


def file_candidates(upload: FileStorage | None) -> pd.DataFrame:
    """Read an uploaded CSV or GeoJSON candidates file (by extension, else by its first byte)."""
    if upload is None:
        raise InvalidParameterError("candidates", _NO_CANDIDATES)
    content = upload.read()
    name = secure_filename(upload.filename or "") or "candidates"
    if Path(name).suffix.lower() not in (".csv", ".txt", ".geojson", ".json"):
        name += ".geojson" if content.lstrip().startswith(b"{") else ".csv"
    return _read_candidates_bytes(content, name)


def _read_candidates_bytes(content: bytes, name: str) -> pd.DataFrame:
    try:
        return read_candidates(content, name=name)  # read in memory: no temporary file
    except SchoolDataError as exc:  # a malformed upload is the caller's bad parameter
        raise InvalidParameterError("candidates", str(exc)) from exc
