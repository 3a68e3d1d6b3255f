"""Past one machine: two ``csmap serve`` replicas on one PostgreSQL and one data folder, behind nginx.

docs/DEPLOY.md's nginx configuration (the deployment test_deploy_nginx.py runs too:
tests/scripts/conftest.py's ``deployment``) fronts two replicas that share a
PostgreSQL database (``$CSMAP_TEST_POSTGRES_URL``; each run gets a database of
its own) and a data folder. A staff edit published
through replica A must be served by replica B, and through nginx, within
15 s, while a bounded polling loop against B and nginx sees 0 failed
requests. The staff session and the sign-in throttle, both kept in the
database, hold across replicas.

PostgreSQL or nginx missing: skipped with the reason, except under CI
(``CI=true``), where ``.ci/run`` provides both and the test fails instead.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import sys
import threading
import time
import urllib.parse
import uuid

import pytest

from tests.scripts.deploy_support import find_nginx
from tests.serve_support import request, stop
from tests.staff.staff_support import ADMIN, EDITOR, audit_events

if find_nginx() is None:
    if os.environ.get("CI") == "true":
        pytest.fail("nginx is missing in CI: .ci/run must install it (apt-get install nginx)", pytrace=False)
    pytest.skip(
        "nginx is not installed (apt-get install nginx, or make deploy-deps)", allow_module_level=True
    )

#: The issue's promise: an edit published on A is served by B within this many seconds.
SWITCH_SECONDS = 15.0
#: How long a poll may take before it counts as a failed request.
POLL_TIMEOUT = 30.0
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A tiny HTTP client for one origin that keeps the staff cookie (no redirects followed)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = ""

    def send(self, method: str, path: str, form: dict | None = None, cookie: str | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": cookie if cookie is not None else self.cookie}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie" and value.startswith("csmap_staff="):
                    self.cookie = value.split(";", 1)[0]
            return response.status, data.decode("utf-8", "replace")
        finally:
            conn.close()

    def csrf(self, path: str = "/staff/login") -> str:
        status, page = self.send("GET", path)
        match = CSRF.search(page)
        assert match, f"no csrf_token on {path} ({status})"
        return match.group(1)

    def sign_in(self, who: tuple[str, str]) -> int:
        token = self.csrf()
        return self.send("POST", "/staff/login", {"email": who[0], "password": who[1], "csrf_token": token})[
            0
        ]


@pytest.fixture
def replicas(deployment):
    """The shared deployment (tests/scripts/conftest.py), which these tests need on PostgreSQL.

    Returns (nginx port, [replica A port, replica B port], data folder, database URL).
    """
    if deployment.database_url is None:
        pytest.skip(deployment.no_postgres)
    return deployment.port, deployment.replica_ports, deployment.data_dir, deployment.database_url


class Poller(threading.Thread):
    """Poll one origin's IL schools until told to stop (bounded by ``limit`` seconds).

    Records, per request, the time, the status (or the exception's name) and
    whether ``name`` was among the schools.
    """

    def __init__(self, port: int, name: str, limit: float) -> None:
        super().__init__(daemon=True)
        self.port, self.name, self.limit = port, name, limit
        self.stop = threading.Event()
        self.seen: list[tuple[float, str, bool]] = []

    def run(self) -> None:
        deadline = time.monotonic() + self.limit
        while not self.stop.is_set() and time.monotonic() < deadline:
            # A slow answer is still an answer: on a busy machine the first request after the switch
            # (a replica opening the new build) took over 10 s; only an error or no answer is a failure.
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=POLL_TIMEOUT)
            try:
                conn.request("GET", "/api/schools?state=IL&limit=1000")
                response = conn.getresponse()
                body = response.read()
                found = False
                if response.status == 200:
                    found = self.name in {s["name"] for s in json.loads(body)["schools"]}
                self.seen.append((time.monotonic(), str(response.status), found))
            except Exception as exc:  # a failed request is a finding, not a crash of the poller
                self.seen.append((time.monotonic(), exc.__class__.__name__, False))
            finally:
                conn.close()
            time.sleep(0.1)

    def failures(self) -> list[str]:
        return [status for _, status, _ in self.seen if status != "200"]

    def first_seen(self) -> float | None:
        return next((at for at, _, found in self.seen if found), None)


def _il_record(url: str):
    from sqlalchemy import select

    from webmap import db
    from webmap.models import SchoolRecord

    with db.session_scope(url) as session:
        record = session.scalar(
            select(SchoolRecord).where(SchoolRecord.state == "IL").order_by(SchoolRecord.id)
        )
        session.expunge(record)
    return record


def test_an_edit_published_on_a_is_served_by_b_within_15_s(replicas) -> None:
    port, (port_a, port_b), data, postgres_url = replicas
    a, b = Browser(port_a), Browser(port_b)
    assert a.sign_in(ADMIN) == 302
    assert a.send("GET", "/staff/")[0] == 200  # the first visit imports the live list into PostgreSQL

    # The session lives in PostgreSQL, signed with the key both replicas read from the data folder.
    assert b.send("GET", "/staff/builds", cookie=a.cookie)[0] == 200, "A's session is not valid on B"
    assert b.send("GET", "/staff/builds", cookie="")[0] == 302  # signed out: to the sign-in page

    record = _il_record(postgres_url)
    new_name = f"Replica Published School {uuid.uuid4().hex[:6]}"
    token = a.csrf("/staff/")
    form = {**record.fields, "name": new_name, "version": str(record.version), "csrf_token": token}
    assert a.send("POST", f"/staff/schools/{record.id}", form)[0] == 302

    pollers = [Poller(port_b, new_name, 90), Poller(port, new_name, 90)]
    for poller in pollers:
        poller.start()
    try:
        ready = time.monotonic() + 30
        while time.monotonic() < ready and not all(len(p.seen) >= 3 for p in pollers):
            time.sleep(0.1)
        assert all(len(p.seen) >= 3 for p in pollers), "the pollers got no answers"
        assert not any(found for p in pollers for _, _, found in p.seen), "an edit is public before Publish"
        started = time.monotonic()
        assert a.send("POST", "/staff/builds/publish", {"csrf_token": token})[0] == 302
        from webmap.staff import publisher

        job = publisher.wait_for(
            postgres_url, audit_events(postgres_url, "publish.start")[-1].after["job"], 60
        )
        assert job.status == "succeeded", job.error
        published = time.monotonic()
        deadline = published + SWITCH_SECONDS
        while time.monotonic() < deadline and not all(p.first_seen() for p in pollers):
            time.sleep(0.1)
        time.sleep(2.0)  # keep polling past the switch: nothing may fail after it either
    finally:
        for poller in pollers:
            poller.stop.set()
        for poller in pollers:
            poller.join(timeout=POLL_TIMEOUT + 5)

    on_b, via_nginx = pollers
    assert on_b.first_seen() is not None, f"B never served the edit within {SWITCH_SECONDS} s of the publish"
    assert via_nginx.first_seen() is not None, "nginx never served the edit"
    lag_b = on_b.first_seen() - published
    assert lag_b <= SWITCH_SECONDS, lag_b
    assert on_b.failures() == [] and via_nginx.failures() == [], (on_b.failures(), via_nginx.failures())
    # Once B serves the new build it never goes back to the old one.
    after = [found for at, _, found in on_b.seen if at >= on_b.first_seen()]
    assert all(after), "B served the old list again after the new one"
    assert (data / "current").resolve().name == job.build_id
    sys.stderr.write(
        f"publish on A took {published - started:.1f} s; B served it {lag_b:.2f} s after; "
        f"{len(on_b.seen)} requests to B and {len(via_nginx.seen)} through nginx, 0 failed\n"
    )


def test_the_sign_in_throttle_holds_across_replicas(replicas) -> None:
    """Five failed sign-ins on A: the next attempt on B, with the right password, answers 429.

    Runs after the publish test (same deployment): the throttle also counts per address.
    """
    _, (port_a, port_b), _, _ = replicas
    assert Browser(port_b).sign_in(EDITOR) == 302  # not throttled yet
    a = Browser(port_a)
    for _ in range(5):
        assert a.sign_in((EDITOR[0], "a wrong password")) == 401
    assert Browser(port_b).sign_in(EDITOR) == 429


def test_a_replica_down_loses_no_get(deployment):
    """docs/DEPLOY.md's nginx: with replica 0 stopped, nginx sends its share to replica 1.

    Runs last (it needs no PostgreSQL); should another test come after it in the same
    process, the ``deployment`` fixture starts replica 0 again first.
    """
    stop(deployment.processes[0])
    statuses = [request(deployment.port, "GET", path)[0] for path in ["/healthz", "/api/states"] * 10]
    assert statuses == [200] * 20
