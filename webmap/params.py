"""Query parameters, declared once: the validator and the OpenAPI document both read the declaration.

Each endpoint's parameters are a :class:`Parameters` table of :class:`Param`
rows. :meth:`Parameters.parse` validates a request's query string against the
table; :meth:`Parameters.openapi` writes the same table as OpenAPI 3.0
``parameters``. Bounds, defaults, enums and patterns therefore cannot drift
apart: a bound changed in the table changes both (tests/webmap/test_params_contract.py
probes every declared bound through the live app).

Every failure raises :class:`geo.errors.InvalidParameterError` naming the
parameter and quoting the bad value, which the app maps to a JSON 400.

Two kinds of table:

* **APIs** (``page=False``): unknown and repeated parameters are refused, so a
  typo such as ``radius=5`` (for ``radius_mi``) is reported instead of silently
  ignored; an empty value (``?limit=``) is refused unless the row says
  ``allow_empty`` (documented as ``allowEmptyValue``); values are taken as
  sent (no spaces trimmed; numbers in JSON's decimal notation), so the document
  is exactly as strict as the server. A ``fold`` (case-insensitive) enum is
  documented as a case-insensitive ``pattern``, since a JSON Schema ``enum``
  cannot say so (tests/webmap/test_conformance.py runs Schemathesis on both).
* **HTML pages** (``page=True``): unknown parameters are ignored, because
  links shared on the web gain ``fbclid``, ``utm_source`` and the like; empty
  form fields mean "not given"; spaces around a value are trimmed.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from werkzeug.datastructures import MultiDict

from geo.errors import InvalidParameterError
from geo.query import LOCALES, parse_bbox

logger = logging.getLogger(__name__)

#: A request's query: werkzeug's MultiDict, or a mapping of value lists (the OGC core's input).
Args = MultiDict | Mapping[str, Sequence[str] | str]

#: What an API accepts as an integer or a number: JSON's notation (RFC 8259 §6), leading
#: zeros allowed. Python's int() and float() also take spaces, "_" separators and non-ASCII
#: digits, which the OpenAPI document cannot promise.
_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def caseless_pattern(values: Sequence[str]) -> str:
    """Return a regular expression matching exactly ``values``, in any letter case.

    JSON Schema has no case-insensitive ``enum`` and ECMA-262 patterns take no
    flags, so ``urban`` becomes ``[Uu][Rr][Bb][Aa][Nn]``.
    """

    def letters(value: str) -> str:
        return "".join(f"[{c.upper()}{c.lower()}]" if c.upper() != c.lower() else re.escape(c) for c in value)

    return "(?:" + "|".join(letters(v) for v in values) + ")"


@dataclass(frozen=True)
class Param:
    """One query (or path) parameter: its type, bounds, default and meaning.

    Parameters
    ----------
    name, description : str
    type : {"string", "integer", "number", "array"}
        The OpenAPI type; ``array`` is a repeated parameter (``site=..&site=..``).
    default : optional
        The value when the parameter is absent (documented as the schema's default).
    minimum, maximum : float, optional
        Inclusive bounds of a number (``exclusive_minimum`` makes the lower one strict).
    clamp : bool
        Above ``maximum``, use ``maximum`` instead of refusing (OGC ``limit``).
    enum : tuple of str
        The allowed values, compared after ``fold`` (``"lower"`` / ``"upper"``).
    pattern : str, optional
        A regular expression the stripped text must match (documented as is).
    convert : callable, optional
        ``convert(text) -> value`` for values no plain type describes (bbox,
        site, datetime); it raises InvalidParameterError itself.
    required, allow_empty : bool
    max_items : int
        How often the parameter may be given (only ``array`` parameters repeat).
    schema, extra : mapping
        More OpenAPI schema keywords (``example``, ``items``...) and parameter
        fields (``style``, ``explode``).
    """

    name: str
    description: str
    type: str = "string"
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    clamp: bool = False
    enum: tuple[Any, ...] = ()
    fold: str | None = None
    pattern: str | None = None
    pattern_hint: str = ""
    convert: Callable[[str], Any] | None = None
    required: bool = False
    allow_empty: bool = False
    max_items: int = 1
    where: str = "query"
    schema: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    # ----------------------------------------------------------------- parsing

    def parse(self, text: str, *, lenient: bool = False) -> Any:
        """Return the value of one non-empty text, or raise InvalidParameterError.

        ``lenient`` (HTML pages) trims spaces and takes any number Python reads;
        otherwise (APIs) the text must be exactly what the OpenAPI schema allows.
        """
        name = self.name
        if self.type == "integer":
            try:
                if not (lenient or _INTEGER.fullmatch(text)):
                    raise ValueError(text)
                value: Any = int(text.strip())
            except ValueError:
                msg = f"{name} must be a whole number, got {text!r}"
                raise InvalidParameterError(name, msg) from None
            value = self._bounded(value, text)
            if self.enum and value not in self.enum:
                msg = f"{name} must be one of {', '.join(map(str, self.enum))}; got {text!r}"
                raise InvalidParameterError(name, msg)
            return value
        if self.type == "number":
            try:
                if not (lenient or _NUMBER.fullmatch(text)):
                    raise ValueError(text)
                value = float(text)
            except ValueError:
                msg = f"{name} must be a number, got {text!r}"
                raise InvalidParameterError(name, msg) from None
            if not math.isfinite(value):
                msg = f"{name} must be a finite number, got {text!r}"
                raise InvalidParameterError(name, msg)
            return self._bounded(value, text)
        value = text.strip() if lenient else text
        if self.fold == "lower":
            value = value.lower()
        elif self.fold == "upper":
            value = value.upper()
        if self.pattern is not None and not re.fullmatch(self.pattern, text.strip() if lenient else text):
            msg = f"{name} must be {self.pattern_hint or 'of the form ' + self.pattern}, got {text!r}"
            raise InvalidParameterError(name, msg)
        if self.enum and value not in self.enum:
            msg = f"{name} must be one of {', '.join(self.enum)}; got {text!r}"
            raise InvalidParameterError(name, msg)
        return self.convert(text) if self.convert is not None else value

    def _bounded(self, value: float, text: str) -> Any:
        low, high = self.minimum, self.maximum
        too_low = low is not None and (value <= low if self.exclusive_minimum else value < low)
        if high is not None and value > high and self.clamp:
            return type(value)(high)
        if too_low or (high is not None and value > high):
            raise InvalidParameterError(self.name, f"{self.name} must be {self.bounds()}, got {text!r}")
        return value

    def bounds(self) -> str:
        """Say the allowed range in words: ``from 1 to 100``, ``greater than 0 and at most 500``."""
        low, high = self.minimum, self.maximum
        if self.type == "integer" and not self.exclusive_minimum and low is not None:
            if high is not None and not self.clamp:
                return f"from {low:g} to {high:g}"
            return f"at least {low:g}"
        parts = []
        if low is not None:
            parts.append(f"greater than {low:g}" if self.exclusive_minimum else f"at least {low:g}")
        if high is not None and not self.clamp:
            parts.append(f"at most {high:g}")
        return "a number " + (" and ".join(parts) or "")

    # ----------------------------------------------------------------- OpenAPI

    def openapi_schema(self) -> dict[str, Any]:
        """Return the parameter's JSON schema (OpenAPI 3.0 dialect)."""
        schema: dict[str, Any] = {"type": self.type}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
            if self.exclusive_minimum:
                schema["exclusiveMinimum"] = True
        if self.maximum is not None and not self.clamp:
            # A clamped maximum is no bound: a larger value is served as the maximum (said in words).
            schema["maximum"] = self.maximum
        if self.enum and self.fold and self.type == "string":
            # Case-insensitive: the values in any case (the enum cannot say so).
            schema["pattern"] = f"^{caseless_pattern(self.enum)}$"
            schema.setdefault("example", self.enum[0])
        elif self.enum:
            schema["enum"] = list(self.enum)
        elif self.pattern is not None and self.type == "array":
            schema["items"] = {"type": "string", "pattern": f"^(?:{self.pattern})$"}
        elif self.pattern is not None:
            schema["pattern"] = f"^(?:{self.pattern})$"
        if self.default is not None:
            schema["default"] = self.default
        if self.type == "string" and not self.allow_empty:
            schema["minLength"] = 1  # without allowEmptyValue, "" is refused (a 400)
        if self.type == "array":
            schema["maxItems"] = self.max_items
        extra = dict(self.schema)
        if "items" in extra and "items" in schema:  # keep the pattern, add the example
            extra["items"] = {**schema["items"], **extra["items"]}
        return {**schema, **extra}

    def openapi(self) -> dict[str, Any]:
        """Return the OpenAPI 3.0 Parameter Object."""
        out: dict[str, Any] = {
            "name": self.name,
            "in": self.where,
            "required": self.required or self.where == "path",
            "description": self.description,
            "schema": self.openapi_schema(),
        }
        if self.allow_empty and self.where == "query":
            out["allowEmptyValue"] = True
        return {**out, **self.extra}


def _values(args: Args, name: str) -> list[str]:
    if isinstance(args, MultiDict):
        return args.getlist(name)
    values = args.get(name, [])
    return [values] if isinstance(values, str) else list(values)


@dataclass(frozen=True)
class Parameters:
    """The parameters of one endpoint, in documentation order.

    ``page=True`` marks an HTML page: unknown parameters are ignored and
    every parameter may be empty (a form field left blank).
    """

    params: tuple[Param, ...]
    page: bool = False

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            msg = f"a parameter is declared twice in {names!r}"
            raise ValueError(msg)

    @property
    def names(self) -> tuple[str, ...]:
        """Every declared query parameter's name (path parameters are part of the route)."""
        return tuple(p.name for p in self.params if p.where == "query")

    def __getitem__(self, name: str) -> Param:
        for param in self.params:
            if param.name == name:
                return param
        raise KeyError(name)

    def __add__(self, other: Parameters | Sequence[Param]) -> Parameters:
        more = other.params if isinstance(other, Parameters) else tuple(other)
        return Parameters(self.params + more, page=self.page)

    def only(self, *names: str) -> Parameters:
        """Return the subset named, in the order given."""
        return Parameters(tuple(self[n] for n in names), page=self.page)

    def as_page(self) -> Parameters:
        """Return the same table for an HTML page (unknown parameters ignored, empties allowed)."""
        return Parameters(tuple(replace(p, allow_empty=True) for p in self.params), page=True)

    def check_names(self, args: Args) -> None:
        """Refuse unknown parameters (APIs only) and parameters given more often than allowed."""
        known = {p.name: p for p in self.params if p.where == "query"}
        for name in args:
            param = known.get(name)
            if param is None:
                if self.page:
                    continue
                expected = ", ".join(known) or "none"
                msg = f"unknown parameter {name!r}; expected one of: {expected}"
                raise InvalidParameterError(name, msg)
            values = _values(args, name)
            if len(values) > param.max_items:
                if param.max_items == 1:
                    msg = f"parameter {name!r} was given {len(values)} times ({values!r}); give it once"
                else:
                    msg = f"at most {param.max_items} {name} parameters are allowed, got {len(values)}"
                raise InvalidParameterError(name, msg)

    def parse(self, args: Args) -> dict[str, Any]:
        """Validate ``args`` and return ``{name: value}`` for every declared query parameter.

        An absent parameter (or an empty one, where allowed) takes its
        default; an ``array`` parameter gives a list of its parsed values.
        """
        self.check_names(args)
        out: dict[str, Any] = {}
        for param in self.params:
            if param.where != "query":
                continue
            values = _values(args, param.name)
            parsed = []
            for text in values:
                if text.strip() == "":
                    if param.allow_empty or self.page:
                        continue
                    msg = f"{param.name} must not be empty; give a value or leave it out, got {text!r}"
                    raise InvalidParameterError(param.name, msg)
                parsed.append(param.parse(text, lenient=self.page))
            if param.type == "array":
                out[param.name] = parsed
            elif parsed:
                out[param.name] = parsed[0]
            elif param.required:
                raise InvalidParameterError(param.name, f"{param.name} is required")
            else:
                out[param.name] = param.default
        return out

    def openapi(self) -> list[dict[str, Any]]:
        """Return the OpenAPI 3.0 Parameter Objects, in declaration order."""
        return [p.openapi() for p in self.params]

    def with_values(self, name: str, values: Collection[str]) -> Parameters:
        """Return the table with parameter ``name`` (if declared) limited to ``values``.

        For documents only: a ``state`` parameter's pattern allows any two
        letters, but the server accepts just the codes its build knows, so
        the document lists those (``known_state`` keeps refusing the rest).
        """
        return Parameters(
            tuple(replace(p, enum=tuple(sorted(values))) if p.name == name else p for p in self.params),
            page=self.page,
        )


# --------------------------------------------------------------------------
# Parameters shared by several endpoints

STATE = Param(
    "state",
    "Two-letter USPS code (case-insensitive), e.g. IL. Schools are matched by the state their "
    "point falls in.",
    pattern="[A-Za-z]{2}",
    pattern_hint="a two-letter USPS code",
    fold="upper",
)
LOCALE = Param(
    "locale",
    "Locale class: urban, suburban, rural (three classes) or city, suburb, town "
    "(NCES-style; rural matches both schemes).",
    enum=tuple(LOCALES),
    fold="lower",
)
# A bbox as the server reads it (geo.query.parse_bbox), in plain decimals: longitudes in
# [-180, 180], latitudes in [-90, 90], 4 numbers, or 6 with heights (minZ after minLat,
# maxZ after maxLat). That south <= north is said in words: no pattern can compare two numbers.
LON_PATTERN = _LON = r"-?(?:180(?:\.0+)?|(?:1[0-7][0-9]|[1-9]?[0-9])(?:\.[0-9]+)?)"
LAT_PATTERN = _LAT = r"-?(?:90(?:\.0+)?|[1-8]?[0-9](?:\.[0-9]+)?)"
_HEIGHT = r"-?[0-9]+(?:\.[0-9]+)?"
BBOX_PATTERN = f"{_LON},{_LAT},(?:{_LON},{_LAT}|{_HEIGHT},{_LON},{_LAT},{_HEIGHT})"
BBOX = Param(
    "bbox",
    "minLon,minLat,maxLon,maxLat in WGS84 degrees (plain decimals), with minLat <= maxLat; "
    "west > east crosses the antimeridian.",
    pattern=BBOX_PATTERN,
    pattern_hint="minLon,minLat,maxLon,maxLat in WGS84 degrees",
    convert=parse_bbox,
    schema={"example": "-88.0,41.6,-87.5,42.1"},
)
SCHOOL_FILTERS = Parameters((STATE, LOCALE, BBOX))


@dataclass(frozen=True)
class SchoolFilters:
    """The validated ``state``, ``locale`` and ``bbox`` filters of a request."""

    state: str | None = None
    locale: str | None = None
    bbox: tuple[float, float, float, float] | None = None

    def as_kwargs(self) -> dict:
        """Keyword arguments for :func:`geo.query.filter_schools`."""
        return {"state": self.state, "locale": self.locale, "bbox": self.bbox}

    def is_empty(self) -> bool:
        """Return True when no filter is set (the whole layer)."""
        return self.state is None and self.locale is None and self.bbox is None

    def query(self) -> dict[str, str]:
        """Return the filters as query parameters (for links)."""
        out = {}
        if self.state:
            out["state"] = self.state
        if self.locale:
            out["locale"] = self.locale
        if self.bbox:
            out["bbox"] = ",".join(f"{v:g}" for v in self.bbox)
        return out


def known_state(code: str | None, known: Collection[str], *, parameter: str = "state") -> str | None:
    """Return ``code`` (already a checked upper-case code, or None) when the build knows it."""
    if code is not None and code not in known:
        msg = f"unknown {parameter} {code!r}; use a USPS code such as 'IL'"
        raise InvalidParameterError(parameter, msg)
    return code


def school_filters(values: Mapping[str, Any], known_states: Collection[str]) -> SchoolFilters:
    """Return the filters of parsed ``state``, ``locale`` and ``bbox`` values (absent ones None)."""
    return SchoolFilters(
        state=known_state(values.get("state"), known_states),
        locale=values.get("locale"),
        bbox=values.get("bbox"),
    )


# --------------------------------------------------------------------------
# The Community Schools Census form (webmap/census.py, docs/CENSUS.md)

COUNT_PAGE = Parameters(
    (
        Param(
            "school_id",
            "A school of the current build (e.g. nces-170993000708): the form opens filled from it, "
            "and the answer is a correction of that school.",
            pattern=r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}",
            pattern_hint="a school id such as nces-170993000708 or cs-0123456789abcdef",
        ),
    ),
    page=True,
)
#: Where the offline geocoder places an address (the form's "Is this your school?" map).
COUNT_LOCATE = Parameters(
    tuple(
        Param(
            name,
            description,
            allow_empty=True,
            pattern=r"[^\x00-\x1f]{0,200}",
            pattern_hint="at most 200 characters",
        )
        for name, description in (
            ("name", "The school's name (helps nothing but the label)."),
            ("address", "Street address."),
            ("city", "City."),
            ("state", "State or province: a USPS or Canada Post code, or the name."),
            ("zip", "ZIP code (5 digits) or Canadian postal code."),
            ("country", "US (default) or CA."),
        )
    )
)
