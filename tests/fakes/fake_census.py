"""A fake of the US Census Bureau batch geocoder (locations/addressbatch).

It follows the Census Geocoding Services API ("Batch Geocoding"): a
multipart/form-data POST with a ``benchmark`` field and an ``addressFile``
upload (CSV, no header: id, street, city, state, ZIP; at most 10,000
records); the answer is CSV, no header, one row per record in no set order:
id, "input address", Match/No_Match/Tie, and for matches Exact/Non_Exact,
matched address, "lon,lat", TIGER line id, side.
"""

from __future__ import annotations

import csv
import email.policy
import io
import time
from email.parser import BytesParser

from tests.fakes import FakeServer, QuietHandler

BATCH_PATH = "/geocoder/locations/addressbatch"
MAX_RECORDS = 10_000

#: (street, city, state, zip), upper case -> (match type, matched address, lon, lat, TIGER id, side).
#: 4600 Silver Hill Rd is the Census Bureau's own address, the example of its docs.
KNOWN_ADDRESSES = {
    ("4600 SILVER HILL RD", "WASHINGTON", "DC", "20233"): (
        "Exact",
        "4600 SILVER HILL RD, WASHINGTON, DC, 20233",
        -76.92744,
        38.845985,
        "76355984",
        "L",
    ),
    ("3 GRAMERCY PARK WEST", "NEW YORK", "NY", "10003"): (
        "Non_Exact",
        "3 GRAMERCY PARK W, NEW YORK, NY, 10003",
        -73.98658,
        40.738323,
        "59653655",
        "R",
    ),
}
#: Streets the fake answers with "Tie" (several equally good candidates).
TIE_STREETS = {"100 MAIN ST"}


def _normal(text: str) -> str:
    return " ".join(text.split()).upper()


def answer_rows(records: list[list[str]]) -> str:
    """Return the CSV answer for parsed address records, in reverse order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for record_id, street, city, state, zip_code in reversed(records):
        given = ", ".join((street, city, state, zip_code))
        known = KNOWN_ADDRESSES.get(tuple(_normal(part) for part in (street, city, state, zip_code)))
        if known is not None:
            match_type, matched, lon, lat, tiger_id, side = known
            writer.writerow([record_id, given, "Match", match_type, matched, f"{lon},{lat}", tiger_id, side])
        elif _normal(street) in TIE_STREETS:
            writer.writerow([record_id, given, "Tie"])
        else:
            writer.writerow([record_id, given, "No_Match"])
    return buffer.getvalue()


class _CensusHandler(QuietHandler):
    fake: FakeCensus

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        fake = self.fake
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with fake._lock:
            fake.requests.append(
                {"path": self.path, "user_agent": self.headers.get("User-Agent"), "time": time.monotonic()}
            )
            entry = fake.requests[-1]
        if self.path != BATCH_PATH:
            self.send_text(404, f"no such endpoint {self.path}")
            return
        content_type = self.headers.get("Content-Type", "")
        if not content_type.startswith("multipart/form-data"):
            self.send_text(400, f"expected multipart/form-data, got {content_type!r}")
            return
        message = BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        fields = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            fields[name] = (part.get_filename(), part.get_payload(decode=True))
        if "benchmark" not in fields or "addressFile" not in fields or fields["addressFile"][0] is None:
            self.send_text(400, f"benchmark and an addressFile upload are required; got {sorted(fields)}")
            return
        records = [row for row in csv.reader(io.StringIO(fields["addressFile"][1].decode("utf-8"))) if row]
        entry.update(benchmark=fields["benchmark"][1].decode(), records=records)
        if len(records) > MAX_RECORDS:
            self.send_text(400, f"batch has {len(records)} records; the limit is {MAX_RECORDS}")
            return
        if any(len(record) != 5 for record in records):
            self.send_text(400, "each record needs 5 fields: id, street, city, state, zip")
            return
        if fake.fail_after is not None and fake.batches_answered >= fake.fail_after:
            self.send_text(500, "Internal Server Error")
            return
        if fake.delay:
            time.sleep(fake.delay)
        if fake.mode == "garbage":
            self.send_text(200, "<html><body>The service is down for maintenance</body></html>")
            return
        with fake._lock:
            fake.batches_answered += 1
        self.send_text(200, answer_rows(records))


class FakeCensus(FakeServer):
    """Fake Census batch geocoder.

    Parameters
    ----------
    fail_after : int, optional
        Answer HTTP 500 once this many batches have been answered.
    mode : {"ok", "garbage"}
        "garbage" answers 200 with an HTML page instead of CSV.
    delay : float
        Seconds to wait before answering (for timeout tests).
    """

    def __init__(self, *, fail_after: int | None = None, mode: str = "ok", delay: float = 0.0) -> None:
        self.fail_after = fail_after
        self.mode = mode
        self.delay = delay
        self.requests: list[dict] = []
        self.batches_answered = 0
        super().__init__(_CensusHandler)

    @property
    def hits(self) -> int:
        """Number of requests received, answered or not."""
        return len(self.requests)

    @property
    def records_sent(self) -> list[int]:
        """Number of address records in each batch upload received."""
        return [len(entry.get("records", [])) for entry in self.requests]
