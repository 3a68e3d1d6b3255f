"""The only module in the project that speaks to the network.

Two thin request functions for the optional online geocoders; everything that
turns their answers into rows lives in ``geo/geocode_online.py`` and is pure.
Every failure leaves this module as :class:`geo.errors.GeocodeError` (or its
subclass :class:`RejectedQuery`), with a message naming the provider, the URL
and the HTTP status.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from geopy import exc as geopy_exc
from geopy.geocoders import Nominatim
from geopy.location import Location

from geo.errors import GeocodeError

logger = logging.getLogger(__name__)

#: Census Geocoding Services API, "Batch Geocoding": locations-only endpoint
#: (no geographies, so no ``vintage`` field is needed).
CENSUS_BATCH_PATH = "/geocoder/locations/addressbatch"


class RejectedQuery(GeocodeError):
    """The provider refused one query (HTTP 400); other queries may still succeed."""


def post_census_batch(
    base_url: str,
    csv_bytes: bytes,
    benchmark: str,
    timeout: float,
    *,
    user_agent: str | None = None,
) -> str:
    """POST one batch file to the Census batch geocoder and return its CSV answer.

    Parameters
    ----------
    base_url : str
        Scheme and host, e.g. ``"https://geocoding.geo.census.gov"``.
    csv_bytes : bytes
        The address file: no header; ID, street, city, state, ZIP.
    benchmark : str
        Census benchmark name, e.g. ``"Public_AR_Current"``.
    timeout : float
        Seconds to wait for the connection and for the answer.
    user_agent : str, optional
        Sent as the ``User-Agent`` header so the Census can tell who calls.

    Returns
    -------
    str
        The response body (CSV, no header, one row per input record).

    Raises
    ------
    GeocodeError
        On a timeout, a connection failure or any non-200 answer.
    """
    url = base_url.rstrip("/") + CENSUS_BATCH_PATH
    headers = {"User-Agent": user_agent} if user_agent else {}
    try:
        response = requests.post(
            url,
            data={"benchmark": benchmark},
            files={"addressFile": ("addresses.csv", csv_bytes, "text/csv")},
            headers=headers,
            timeout=timeout,
        )
    except requests.Timeout as exc:
        msg = f"census geocoder at {url!r} did not answer within {timeout:g} s"
        raise GeocodeError(msg) from exc
    except requests.RequestException as exc:
        msg = f"census geocoder at {url!r} could not be reached: {exc}"
        raise GeocodeError(msg) from exc
    if response.status_code != 200:
        body = response.text[:200].strip()
        msg = f"census geocoder at {url!r} answered HTTP {response.status_code} {response.reason}: {body!r}"
        raise GeocodeError(msg)
    # The service sends text/plain without a charset; requests would then guess
    # ISO-8859-1, so decode ourselves: UTF-8, falling back to Latin-1.
    try:
        return response.content.decode("utf-8")
    except UnicodeDecodeError:
        return response.content.decode("latin-1")


def nominatim_geocoder(
    base_url: str,
    user_agent: str,
    *,
    timeout: float,
    min_delay_seconds: float,
    country_codes: tuple[str, ...],
) -> Callable[[Mapping[str, str] | str], Location | None]:
    """Return a rate-limited Nominatim lookup: query in, geopy ``Location`` or None out.

    Parameters
    ----------
    base_url : str
        Scheme, host and optional path prefix of a Nominatim server.
    user_agent : str
        The ``User-Agent`` header; must identify the application.
    timeout : float
        Seconds to wait for each answer.
    min_delay_seconds : float
        Least time from one answer (or failure) to the next request.
    country_codes : tuple of str
        ISO 3166-1 alpha-2 codes sent as ``countrycodes``.

    Returns
    -------
    callable
        ``lookup(query)`` where query is a structured dict (street, city, state,
        postalcode) or a free-form string. It raises :class:`RejectedQuery`
        when the server refuses that one query, and :class:`GeocodeError` for
        anything that would fail every query (timeouts, 403, 429, 5xx, junk).
    """
    parts = urlsplit(base_url)
    geolocator = Nominatim(
        user_agent=user_agent,
        domain=parts.netloc + parts.path.rstrip("/"),
        scheme=parts.scheme,
        timeout=timeout,
    )
    # No retries and no swallowed errors: a failure stops the run with a clear
    # message, and the cache lets the next run resume where this one stopped.
    # The pause is counted from the end of the previous answer, not from the start of the
    # previous request as geopy's RateLimiter counts it: then no delay on the way (a busy
    # machine, a slow network) can bring two requests to the server less than
    # ``min_delay_seconds`` apart, which Nominatim's usage policy forbids.
    last_answer: float | None = None

    def limited(query: Mapping[str, str] | str) -> Location | None:
        nonlocal last_answer
        if last_answer is not None:
            time.sleep(max(0.0, min_delay_seconds - (time.monotonic() - last_answer)))
        try:
            return geolocator.geocode(query, exactly_one=True, country_codes=list(country_codes))
        finally:
            last_answer = time.monotonic()

    def lookup(query: Mapping[str, str] | str) -> Location | None:
        try:
            return limited(query)
        except geopy_exc.GeocoderQueryError as exc:
            msg = f"nominatim at {base_url!r} rejected query {query!r}: {_describe(exc)}"
            raise RejectedQuery(msg) from exc
        except geopy_exc.GeocoderTimedOut as exc:
            msg = f"nominatim at {base_url!r} did not answer within {timeout:g} s ({_describe(exc)})"
            raise GeocodeError(msg) from exc
        except geopy_exc.GeopyError as exc:
            msg = f"nominatim at {base_url!r} failed: {_describe(exc)}"
            raise GeocodeError(msg) from exc

    return lookup


def _describe(exc: BaseException) -> str:
    """Return ``"HTTP <status>: <text>"`` when geopy kept the HTTP error, else the message."""
    cause: Any = exc.__cause__
    status = getattr(cause, "status_code", None)
    if status is None:
        return str(exc) or type(exc).__name__
    text = (getattr(cause, "text", "") or "")[:200].strip()
    return f"HTTP {status}: {text!r}"
