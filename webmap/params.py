"""Query-parameter parsing shared by the API and the downloads.

Every function raises :class:`geo.errors.InvalidParameterError` naming the
parameter and quoting the bad value, which the app maps to a JSON 400.
Unknown and repeated parameters are refused too, so a typo such as
``radius=5`` (for ``radius_mi``) is reported instead of silently ignored.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from geo.errors import InvalidParameterError
from geo.query import LOCALES, parse_bbox


def check_known(args: MultiDict, allowed: Collection[str]) -> None:
    """Refuse parameters not in ``allowed`` and parameters given more than once."""
    for name in args:
        if name not in allowed:
            expected = ", ".join(sorted(allowed)) or "none"
            msg = f"unknown parameter {name!r}; expected one of: {expected}"
            raise InvalidParameterError(name, msg)
        values = args.getlist(name)
        if len(values) > 1:
            msg = f"parameter {name!r} was given {len(values)} times ({values!r}); give it once"
            raise InvalidParameterError(name, msg)


def get_int(args: MultiDict, name: str, *, default: int, minimum: int, maximum: int | None = None) -> int:
    """Return a whole-number parameter within ``[minimum, maximum]``."""
    text = args.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text.strip())
    except ValueError:
        msg = f"{name} must be a whole number, got {text!r}"
        raise InvalidParameterError(name, msg) from None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
        msg = f"{name} must be {bounds}, got {text!r}"
        raise InvalidParameterError(name, msg)
    return value


def get_float(
    args: MultiDict,
    name: str,
    *,
    required: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
) -> float | None:
    """Return a finite number parameter within bounds; None when absent and optional."""
    text = args.get(name)
    if text is None or text.strip() == "":
        if required:
            msg = f"{name} is required"
            raise InvalidParameterError(name, msg)
        return None
    try:
        value = float(text)
    except ValueError:
        msg = f"{name} must be a number, got {text!r}"
        raise InvalidParameterError(name, msg) from None
    too_low = minimum is not None and (value <= minimum if exclusive_minimum else value < minimum)
    too_high = maximum is not None and value > maximum
    if not math.isfinite(value) or too_low or too_high:
        low = (
            ""
            if minimum is None
            else (f"greater than {minimum:g}" if exclusive_minimum else f"at least {minimum:g}")
        )
        high = "" if maximum is None else f"at most {maximum:g}"
        bounds = " and ".join(part for part in (low, high) if part) or "finite"
        msg = f"{name} must be a number {bounds}, got {text!r}"
        raise InvalidParameterError(name, msg)
    return value


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


def get_state_code(text: str | None, known: Collection[str], *, parameter: str = "state") -> str | None:
    """Return an upper-case USPS code from ``known``; None when absent."""
    if text is None or text.strip() == "":
        return None
    code = text.strip().upper()
    if len(code) != 2 or not code.isalpha():
        msg = f"{parameter} must be a two-letter USPS code, got {text!r}"
        raise InvalidParameterError(parameter, msg)
    if code not in known:
        msg = f"unknown {parameter} {text!r}; use a USPS code such as 'IL'"
        raise InvalidParameterError(parameter, msg)
    return code


def school_filters(args: MultiDict, known_states: Collection[str]) -> SchoolFilters:
    """Parse ``state``, ``locale`` and ``bbox`` (unknown-parameter checks are the caller's)."""
    state = get_state_code(args.get("state"), known_states)
    locale = args.get("locale")
    if locale is not None and locale.strip() != "":
        locale = locale.strip().lower()
        if locale not in LOCALES:
            msg = f"locale must be one of {', '.join(LOCALES)}; got {args.get('locale')!r}"
            raise InvalidParameterError("locale", msg)
    else:
        locale = None
    bbox = parse_bbox(args.get("bbox"))
    return SchoolFilters(state=state, locale=locale, bbox=bbox)
