"""One error-to-HTTP mapping: domain errors carry their status, 405s say Allow, programs get JSON; gzip."""

from __future__ import annotations

import gzip
import re

import pytest

from geo import errors as domain
from webmap.errors import error_document


def _sample_url(rule) -> str:
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        kind = converter.__class__.__name__
        if kind == "AnyConverter":  # e.g. <any(enable, disable):action>: one of its words
            values[name] = re.findall(r"[\w-]+", converter.regex)[0]
        else:
            values[name] = 0 if kind == "IntegerConverter" else "x"
    return rule.build(values, append_unknown=False)[1]


def test_every_405_says_which_methods_are_allowed(client):
    rules = list(client.application.url_map.iter_rules())
    assert len(rules) > 30
    for rule in rules:
        response = client.delete(_sample_url(rule))
        assert response.status_code == 405, rule.rule
        allowed = {m.strip() for m in response.headers["Allow"].split(",")}
        assert allowed >= set(rule.methods) - {"OPTIONS"}, rule.rule


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/map/schools/999999", 404),
        ("/map/schools/0?build=old-build", 409),
        ("/map/schools.json?state=Texas", 400),
        ("/map/states/ZZ/counties.geojson", 404),
        ("/plan.csv?k=0", 400),
        ("/plan.geojson?objective=richest", 400),
    ],
)
def test_map_data_and_plan_files_answer_errors_in_json(client, url, status):
    response = client.get(url, headers={"Accept": "text/html"})  # even when a browser asks
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == status and body["description"]


def test_pages_still_answer_errors_as_pages(client):
    response = client.get("/states/ZZ", headers={"Accept": "text/html"})
    assert response.status_code == 404 and response.mimetype == "text/html"


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (domain.InvalidParameterError("k", "k must be from 1 to 100, got '0'"), 400),
        (domain.NotFoundError("no state 'ZZ'"), 404),
        (domain.BuildChangedError("build 'a' is no longer served"), 409),
        (domain.NoBuildError("no build yet"), 503),
    ],
)
def test_domain_errors_carry_their_status_and_map_in_one_place(fresh_client, error, status):
    client = fresh_client  # it adds a route
    app = client.application

    @app.get("/_raise_" + type(error).__name__)
    def _raise():
        raise error

    response = client.get("/_raise_" + type(error).__name__, headers={"Accept": "application/json"})
    assert error.http_status == status == response.status_code
    assert response.get_json() == error_document(status, str(error), getattr(error, "parameter", None))


def test_an_unexpected_domain_error_is_a_logged_500_without_its_message(fresh_client):
    client = fresh_client  # it adds a route
    app = client.application

    @app.get("/_raise_build_error")
    def _raise():
        raise domain.BuildError("secret path /root/x failed")

    response = client.get("/_raise_build_error", headers={"Accept": "application/json"})
    assert response.status_code == 500 and "secret" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    [
        "/plan",
        "/downloads",
        "/downloads/",
        "/static/js/plan.js",
        "/static/js/csmap-map.js",
        "/static/css/app.css",
    ],
)
def test_gzip_applies_app_wide(client, url):
    # Static files are streamed from an open file: close the responses (warnings are errors).
    with client.get(url) as plain, client.get(url, headers={"Accept-Encoding": "gzip"}) as coded:
        _check_gzip(plain, coded)


def _check_gzip(plain, coded):
    assert plain.status_code == coded.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert coded.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in coded.headers["Vary"]
    nonce = re.compile(rb'nonce="[^"]*"')  # each page has its own CSP nonce
    assert nonce.sub(b"", gzip.decompress(coded.data)) == nonce.sub(b"", plain.data)
    if plain.headers.get("ETag"):
        assert coded.headers["ETag"] != plain.headers["ETag"]  # another representation, another tag
