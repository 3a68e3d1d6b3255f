"""A fake Nominatim server (the ``/search`` endpoint, ``format=json``).

It answers like Nominatim's Search API: a JSON list of places, each with
string ``lat``/``lon``, ``display_name``, ``class``, ``type``,
``place_rank`` and ``addresstype``; an empty list when nothing matches. Like
the OSMF server it blocks requests whose User-Agent is not the expected one
(HTTP 403), and it records the arrival time of every request so that a test
can check the one-request-per-second spacing.
"""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

from tests.fakes import FakeServer, QuietHandler

#: Upper-case street -> the place Nominatim would return for it.
STREETS = {
    "1600 PENNSYLVANIA AVENUE NW": {
        "place_id": 1,
        "lat": "38.8976997",
        "lon": "-77.0365532",
        "class": "building",
        "type": "house",
        "place_rank": 30,
        "addresstype": "building",
        "display_name": "1600, Pennsylvania Avenue Northwest, Washington, District of Columbia, 20500, "
        "United States",
    },
}
#: Upper-case postal code -> the postcode place (structured query without a street).
POSTCODES = {
    "K1A 0A6": {
        "place_id": 2,
        "lat": "45.4236",
        "lon": "-75.7009",
        "class": "place",
        "type": "postcode",
        "place_rank": 21,
        "addresstype": "postcode",
        "display_name": "K1A 0A6, Ottawa, Ontario, Canada",
    },
}
#: Streets the fake refuses with HTTP 400, as Nominatim does for a bad query.
REJECTED_STREETS = {"<BAD QUERY>"}


class _NominatimHandler(QuietHandler):
    fake: FakeNominatim

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        fake = self.fake
        parts = urlsplit(self.path)
        params = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        user_agent = self.headers.get("User-Agent")
        with fake._lock:
            fake.requests.append(
                {"time": time.monotonic(), "path": parts.path, "params": params, "user_agent": user_agent}
            )
        if user_agent != fake.expected_user_agent:
            self.send_text(403, f"Access blocked: User-Agent {user_agent!r} is not allowed")
            return
        if parts.path != "/search" or params.get("format") != "json":
            self.send_text(400, json.dumps({"error": "expected /search?format=json"}), "application/json")
            return
        street = " ".join(params.get("street", "").split()).upper()
        if street in REJECTED_STREETS:
            self.send_text(400, json.dumps({"error": f"bad query {street!r}"}), "application/json")
            return
        if street:
            place = STREETS.get(street)
        else:
            place = POSTCODES.get(" ".join(params.get("postalcode", "").split()).upper())
        self.send_text(200, json.dumps([place] if place else []), "application/json")


class FakeNominatim(FakeServer):
    """Fake Nominatim that insists on one exact User-Agent."""

    def __init__(self, *, expected_user_agent: str) -> None:
        self.expected_user_agent = expected_user_agent
        self.requests: list[dict] = []
        super().__init__(_NominatimHandler)

    @property
    def hits(self) -> int:
        """Number of requests received, answered or not."""
        return len(self.requests)

    @property
    def gaps(self) -> list[float]:
        """Seconds between the arrivals of consecutive requests."""
        times = [entry["time"] for entry in self.requests]
        return [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
