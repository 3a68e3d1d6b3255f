"""The app's edge (issue #17): public origin, bodies, JSON depth, CORS, headers, /healthz, last good build."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import threading
import time
from pathlib import Path

import pytest

from webmap import create_app
from webmap.edge import WholeBodies
from webmap.health import public_manifest, staff_manifest

BASE = "https://schools.example.org/csmap"


@pytest.fixture(scope="module")
def based_app(tiny_data_dir):
    """The tiny build's app behind a public origin; its tests only read it."""
    return create_app({"DATA_DIR": str(tiny_data_dir), "BASE_URL": BASE})


@pytest.fixture
def based_client(based_app):
    return based_app.test_client()


# --------------------------------------------------------------------------
# Public origin (point 5)


def test_a_forged_host_never_reaches_links_with_a_base_url(based_client):
    for path in ("/ogcapi/", "/ogcapi/collections", "/ogcapi/collections/schools/items?limit=2"):
        response = based_client.get(
            path, headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
        )
        assert response.status_code == 200, path
        assert b"evil.example" not in response.data, path
        hrefs = [link["href"] for link in response.get_json()["links"]]
        assert hrefs and all(href.startswith(BASE + "/ogcapi") for href in hrefs), hrefs


def test_openapi_servers_name_the_base_url(based_client):
    document = based_client.get("/api/openapi.json", headers={"Host": "evil.example"}).get_json()
    assert document["servers"] == [{"url": BASE + "/"}]


def test_redirects_use_the_base_url_prefix(based_client):
    response = based_client.get("/states/tx", headers={"Host": "evil.example"})
    assert response.status_code == 301
    assert response.headers["Location"] in (f"{BASE}/states/TX", "/csmap/states/TX")
    # A proxy that passes the prefix through is served too.
    assert based_client.get("/csmap/healthz").status_code == 200


def test_without_a_base_url_only_loopback_hosts_are_served(tiny_client):
    assert tiny_client.get("/healthz", headers={"Host": "127.0.0.1:8000"}).status_code == 200
    response = tiny_client.get("/ogcapi/", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert b"evil.example" in response.data  # the message quotes the refused value
    assert "public" not in response.headers.get("Cache-Control", "")


def test_a_bad_base_url_is_refused_at_start(tiny_data_dir):
    with pytest.raises(ValueError, match="ftp://x"):
        create_app({"DATA_DIR": str(tiny_data_dir), "BASE_URL": "ftp://x"})


# --------------------------------------------------------------------------
# Bodies and JSON (point 2)


def _chunked_environ(body: bytes) -> dict:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/plan",
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "HTTP_TRANSFER_ENCODING": "chunked",
    }


def test_a_chunked_body_over_the_limit_answers_413_not_a_truncated_body():
    seen = []

    def app(environ, start_response):
        seen.append(environ)
        start_response("200 OK", [])
        return [b""]

    statuses = []
    middleware = WholeBodies(app, limit=1000)
    body = b"".join(
        middleware(_chunked_environ(b"x" * 1001), lambda status, headers: statuses.append(status))
    )
    assert statuses == ["413 Content Too Large"] and not seen
    assert json.loads(body)["status"] == 413
    middleware(_chunked_environ(b"y" * 1000), lambda status, headers: statuses.append(status))
    assert statuses[-1] == "200 OK"
    assert seen[0]["CONTENT_LENGTH"] == "1000" and seen[0]["wsgi.input"].read() == b"y" * 1000


def test_a_chunked_upload_over_the_planner_limit_answers_413(tiny_app):
    from webmap.plan import MAX_UPLOAD_BYTES

    rows = b"name,lat,lon\r\n" + b"".join(b"site %d,30.123456,-97.123456\r\n" % i for i in range(200_000))
    assert len(rows) > MAX_UPLOAD_BYTES
    environ = _chunked_environ(rows) | {"QUERY_STRING": "what_if=true", "CONTENT_TYPE": "text/csv"}
    statuses = []
    body = b"".join(
        tiny_app.wsgi_app(
            environ
            | {
                "SERVER_NAME": "localhost",
                "SERVER_PORT": "80",
                "wsgi.url_scheme": "http",
                "HTTP_HOST": "localhost",
            },
            lambda status, headers: statuses.append(status),
        )
    )
    assert statuses[0].startswith("413"), (statuses, body[:200])


def test_deeply_nested_json_answers_400(tiny_client):
    response = tiny_client.post("/api/plan", data="[" * 100_000, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["parameter"] == "candidates"


# --------------------------------------------------------------------------
# CORS and headers (points 3 and 6)


def test_cors_on_reads_of_the_open_data_only(tiny_client):
    for path in ("/api/states", "/ogcapi/collections", "/api/openapi.json"):
        for method in ("get", "head"):
            response = getattr(tiny_client, method)(path)
            assert response.headers["Access-Control-Allow-Origin"] == "*", (method, path)
    preflight = tiny_client.options(
        "/ogcapi/collections",
        headers={"Origin": "https://other.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert "POST" not in preflight.headers["Access-Control-Allow-Methods"]
    post_preflight = tiny_client.options(
        "/api/plan", headers={"Origin": "https://other.example", "Access-Control-Request-Method": "POST"}
    )
    assert "Access-Control-Allow-Origin" not in post_preflight.headers
    post = tiny_client.post("/api/plan", json={"candidates": [{"name": "a", "lat": 30, "lon": -97}]})
    assert "Access-Control-Allow-Origin" not in post.headers
    for path in ("/", "/about", "/healthz", "/downloads/"):
        assert "Access-Control-Allow-Origin" not in tiny_client.get(path).headers, path


def test_cors_is_never_granted_on_staff_routes():
    from webmap.security import cors_headers, resource_policy

    assert cors_headers("GET", "/api/staff/schools") == {}
    assert cors_headers("GET", "/staff/builds") == {}
    assert cors_headers("GET", "/api/states")["Access-Control-Allow-Origin"] == "*"
    assert resource_policy("/api/staff/schools") == "same-origin"


def test_security_headers_on_pages_and_the_api(tiny_client):
    page = tiny_client.get("/about")
    api = tiny_client.get("/api/states")
    for response in (page, api):
        policy = response.headers["Permissions-Policy"]
        assert "geolocation=(self)" in policy and "camera=()" in policy
        assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert "gunicorn" not in response.headers.get("Server", "")
    assert page.headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert api.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert tiny_client.get("/ogcapi/").headers["Cross-Origin-Resource-Policy"] == "cross-origin"


# --------------------------------------------------------------------------
# /healthz, the manifest and paths (point 4)


def test_healthz_says_status_build_and_sample_only(tiny_client, tiny_data_dir):
    response = tiny_client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"status", "build_id", "is_sample"}
    assert body["status"] == "ok" and body["is_sample"] is True
    assert body["build_id"] == os.readlink(tiny_data_dir / "current").rstrip("/").rsplit("/", 1)[-1]


def test_the_about_page_shows_the_public_manifest_and_the_staff_one_is_whole(tiny_app):
    from webmap.data import get_data

    with tiny_app.app_context():
        data = get_data()
        public, whole = public_manifest(data), staff_manifest(data)
    assert whole == data.manifest
    assert set(public) <= set(whole) | {"build_id", "is_sample"}
    assert public["build_id"] == data.build_id
    page = tiny_app.test_client().get("/about").data.decode()
    assert data.build_id in page


def test_public_manifest_drops_a_school_list_path(tiny_app):
    from webmap.data import get_data

    with tiny_app.app_context():
        data = get_data()
        saved = data.manifest.get("school_list")
        data.manifest["school_list"] = "/home/staff/lists/schools-2026.csv"
        try:
            assert public_manifest(data)["school_list"] == "schools-2026.csv"
        finally:
            data.manifest["school_list"] = saved


ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:tmp|home|root|work|var|usr|srv|opt)/[\w./-]+")


def test_no_answer_names_a_filesystem_path(tiny_client, tmp_path):
    bad_uploads = [
        ("text/csv", b"\x00\x01garbage\xff"),
        ("application/geo+json", b'{"type":"Feature'),
        ("text/csv", b"a,b\n1,2\n"),
    ]
    for content_type, body in bad_uploads:
        response = tiny_client.post("/api/plan?what_if=true", data=body, content_type=content_type)
        assert response.status_code == 400
        assert not ABSOLUTE_PATH.search(response.data.decode()), response.data
    form = tiny_client.post("/plan.csv", data={"candidates": (io.BytesIO(b"{zz"), "x.geojson")})
    assert form.status_code == 400 and not ABSOLUTE_PATH.search(form.data.decode()), form.data
    for path in ("/healthz", "/about", "/api/states", "/ogcapi/collections"):
        assert not ABSOLUTE_PATH.search(tiny_client.get(path).data.decode()), path
    empty = create_app({"DATA_DIR": str(tmp_path)}).test_client()  # no build at all
    for path in ("/healthz", "/", "/api/states"):
        response = empty.get(path)
        assert response.status_code == 503, path
        assert str(tmp_path) not in response.data.decode() and not ABSOLUTE_PATH.search(
            response.data.decode()
        )
    assert empty.get("/healthz").headers["Cache-Control"] == "no-store"


# --------------------------------------------------------------------------
# The last good build (point 7)


def test_an_unreadable_current_build_keeps_the_last_good_one_in_memory(data_dir_copy, caplog):
    caplog.set_level(logging.ERROR, logger="webmap.data")
    app = create_app({"DATA_DIR": str(data_dir_copy)})
    client = app.test_client()
    good = client.get("/healthz").get_json()["build_id"]
    broken = data_dir_copy / "builds" / "20990101T000000-broken"
    broken.mkdir(parents=True)
    (broken / "manifest.json").write_text("{ not json", encoding="utf-8")
    link = data_dir_copy / "current"
    staged = data_dir_copy / "current.staged"
    staged.symlink_to(Path("builds") / broken.name)
    staged.replace(link)  # the atomic switch a publish makes
    for path in ("/healthz", "/api/states", "/"):
        response = client.get(path)
        assert response.status_code == 200, path
    health = client.get("/healthz").get_json()
    assert health == {"status": "degraded", "build_id": good, "is_sample": True}
    errors = [r for r in caplog.records if "cannot load the current build" in r.getMessage()]
    assert len(errors) == 1  # logged once, not once per request


def test_an_unreadable_build_with_nothing_in_memory_answers_503_without_a_path(data_dir_copy):
    build = Path(os.path.realpath(data_dir_copy / "current"))
    (build / "manifest.json").write_text("{ not json", encoding="utf-8")
    response = create_app({"DATA_DIR": str(data_dir_copy)}).test_client().get("/healthz")
    assert response.status_code == 503
    assert "cannot be read" in response.get_json()["description"]
    assert str(data_dir_copy) not in response.data.decode()


# --------------------------------------------------------------------------
# The planner's budget and cap (point 2)


@pytest.fixture
def slow_planner(tiny_data_dir, monkeypatch):
    """An app whose /api/plan takes 1.5 s, with a 0.5 s budget and one slot that waits 0.2 s."""
    import webmap.plan

    release = threading.Event()
    real = webmap.plan.api_answer

    def slow_answer():
        release.wait(1.5)
        return real()

    monkeypatch.setattr(webmap.plan, "api_answer", slow_answer)
    app = create_app(
        {
            "DATA_DIR": str(tiny_data_dir),
            "HEAVY_CONCURRENCY": 1,
            "HEAVY_QUEUE_SECONDS": 0.2,
            "HEAVY_TIME_BUDGET": 0.5,
        }
    )
    yield app
    release.set()


def test_a_plan_over_its_budget_answers_503_with_retry_after(slow_planner):
    started = time.monotonic()
    response = slow_planner.test_client().get("/api/plan?k=1")
    assert response.status_code == 503
    assert time.monotonic() - started < 1.4
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Cache-Control"] == "no-store"
    assert "longer than" in response.get_json()["description"]


def test_plans_over_the_cap_answer_429_and_health_is_unaffected(slow_planner):
    results = {}

    def call(name):
        results[name] = slow_planner.test_client().get("/api/plan?k=1")

    first = threading.Thread(target=call, args=("first",))
    first.start()
    time.sleep(0.1)
    call("second")  # the slot is taken by the first (still running past its budget)
    first.join()
    assert results["first"].status_code == 503
    assert results["second"].status_code == 429
    assert int(results["second"].headers["Retry-After"]) > 0
    assert slow_planner.test_client().get("/healthz").status_code == 200


def test_a_guarded_page_keeps_its_csp_nonce(client):
    response = client.get("/plan?k=2")
    assert response.status_code == 200
    nonces = set(re.findall(r'nonce="([^"]+)"', response.data.decode()))
    assert nonces and all(f"'nonce-{n}'" in response.headers["Content-Security-Policy"] for n in nonces)
